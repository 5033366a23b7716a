import type { ButtonHTMLAttributes, ReactNode } from 'react';
import type { WidgetData } from './hooks.ts';
import { useWidget } from './context.tsx';
import { formatters } from './format.ts';
import { useExportable } from './exports.tsx';

/**
 * Uniform loading / error / empty states, so every widget on a dashboard looks and reads
 * the same while it waits. The host styles the `orrery-state` classes.
 */
export function WidgetState<T>({ query, children, emptyText = 'No data for this time range.' }: {
  query: WidgetData<T>;
  children(data: T): ReactNode;
  emptyText?: string;
}) {
  if (query.loading) {
    return <div className="orrery-state orrery-state--loading" role="status" aria-live="polite"><span className="orrery-spinner" aria-hidden="true" />Loading…</div>;
  }
  if (query.error) {
    return (
      <div className="orrery-state orrery-state--error" role="alert">
        <p>Could not load data: {query.error.message}</p>
        <Button onClick={query.refetch}>Try again</Button>
      </div>
    );
  }
  if (query.empty || query.data === undefined) {
    return <div className="orrery-state orrery-state--empty" role="status">{emptyText}</div>;
  }
  return <>{children(query.data)}</>;
}

/** A single headline number with an optional change against a previous period. */
export function Stat({ label, value, format = 'number', delta, deltaGoodWhen = 'up' }: {
  label: string;
  value: number | null | undefined;
  format?: 'number' | 'compact' | 'percent' | 'currency' | 'duration';
  /** relative change, e.g. 0.12 for +12 % */
  delta?: number | null;
  deltaGoodWhen?: 'up' | 'down';
}) {
  const ctx = useWidget();
  const f = formatters(ctx.locale, ctx.tz);
  const show = (v: number) => (format === 'percent' ? f.percent(v) : format === 'currency' ? f.currency(v) : format === 'duration' ? f.duration(v) : format === 'compact' ? f.compact(v) : f.number(v));
  const good = delta == null ? null : deltaGoodWhen === 'up' ? delta >= 0 : delta <= 0;
  // a change that rounds to 0 % is no change: no arrow, neither good nor bad (+0.02 % of cost in red read as a rise)
  const flat = delta != null && f.percent(Math.abs(delta)) === f.percent(0);
  // the widget frame's export menu: the number with its label (several stats make one table)
  useExportable({ title: label, table: () => ({ columns: ['label', 'value', 'change'], rows: [[label, value ?? null, delta ?? null]] }) });
  return (
    <div className="orrery-stat">
      <div className="orrery-stat__label">{label}</div>
      <div className="orrery-stat__value">{value == null ? '—' : show(value)}</div>
      {delta != null && (flat ? (
        <div className="orrery-stat__delta is-flat">
          {f.percent(0)}<span className="orrery-sr-only"> change from the previous period</span>
        </div>
      ) : (
        <div className={`orrery-stat__delta ${good ? 'is-good' : 'is-bad'}`}>
          <span aria-hidden="true">{delta >= 0 ? '▲' : '▼'}</span> {f.percent(Math.abs(delta))}
          <span className="orrery-sr-only">{delta >= 0 ? ' increase' : ' decrease'} from the previous period</span>
        </div>
      ))}
    </div>
  );
}

/**
 * A button that looks like the portal's own in any widget. `primary` for the one action a
 * widget asks for, `quiet` for a secondary one beside it. A plain `<button>` in a widget is
 * the browser's grey box; the host styles the `orrery-button` classes.
 */
export type BadgeTone = 'bad' | 'warn' | 'good' | 'info' | 'neutral';

/**
 * A short status word in a coloured pill (a rule firing, an experiment running), so a list's
 * states can be told apart at a glance. The colour only repeats the word: screen readers
 * and colour-blind readers get the same text. The host styles the `orrery-badge` classes.
 */
export function Badge({ tone = 'neutral', children, title }: { tone?: BadgeTone; children: ReactNode; title?: string }) {
  return <span className={`orrery-badge orrery-badge--${tone}`} title={title}>{children}</span>;
}

export function Button({ variant = 'default', type = 'button', className, ...rest }: ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: 'default' | 'primary' | 'quiet';
}) {
  return <button type={type} className={`orrery-button orrery-button--${variant}${className ? ` ${className}` : ''}`} {...rest} />;
}
