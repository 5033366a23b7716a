import { useState, type FormEvent } from 'react';
import { Button, defineWidget, formatters, Stat, useWidgetData, WidgetState, type WidgetContext, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { kpiCards } from '../../widgets.ts';
import { partialBuckets, sparkPieces, type Grain } from './sparkline.ts';

interface Options { keys: string[] }
interface Kpi {
  key: string;
  title: string;
  unit: 'usd' | 'count' | 'users' | 'ratio' | 'ms';
  better: 'higher' | 'lower';
  description: string;
  value: number | null;
  previous: number | null;
  change: number | null;
  target: number | null;
  status: 'met' | 'missed' | 'no_target' | 'no_data';
  trend: Array<{ bucket: string; value: number | null }>;
}

const FORMAT = { usd: 'currency', count: 'compact', users: 'number', ratio: 'percent', ms: 'duration' } as const;
const STATUS: Record<Kpi['status'], string> = { met: 'Target met', missed: 'Target missed', no_target: 'No target set', no_data: 'No data' };

/** An Admin's inline editor of one KPI's target (a ratio is typed as a percentage); empty clears it. */
function TargetForm({ k, context, onSaved }: { k: Kpi; context: WidgetContext<Options>; onSaved(): void }) {
  const scale = k.unit === 'ratio' ? 100 : 1;
  const [value, setValue] = useState(k.target === null ? '' : String(Math.round(k.target * scale * 10000) / 10000));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = `kpi-target-${context.instanceId}-${k.key}`;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await context.request(`/kpis/${encodeURIComponent(k.key)}`, { method: 'PUT', body: { target: value.trim() === '' ? null : Number(value) / scale } });
      onSaved();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} style={{ display: 'flex', gap: 4, alignItems: 'center', marginTop: 4, flexWrap: 'wrap' }}>
      <label htmlFor={id} style={{ fontSize: '0.85em' }}>Target{k.unit === 'ratio' ? ' (%)' : k.unit === 'usd' ? ' (USD)' : k.unit === 'ms' ? ' (ms)' : ''}</label>
      <input id={id} type="number" step="any" min={0} max={k.unit === 'ratio' ? 100 : undefined} value={value} onChange={(e) => setValue(e.target.value)} style={{ width: 80 }} aria-describedby={error ? `${id}-error` : undefined} />
      <Button type="submit" disabled={busy}>Save</Button>
      {error && <span id={`${id}-error`} role="alert">{error}</span>}
    </form>
  );
}

const GRAIN_WORD = { hour: 'hour', day: 'day', week: 'week' } as const;

/**
 * The KPI's trend as a line under its number. Buckets without a value (no invocations in a rate's
 * bucket) break the line rather than drawing it down to zero; the segments to a bucket the range
 * covers only in part (today, so far) are dashed. Screen readers get the range in words.
 */
function Sparkline({ points, grain, range, describe }: { points: Kpi['trend']; grain: Grain; range: { from: string; to: string }; describe(v: number): string }) {
  const values = points.map((p) => p.value).filter((v): v is number => v !== null);
  if (points.length < 2 || values.length < 2) return null;
  const lo = Math.min(...values), hi = Math.max(...values);
  const W = 100, H = 24;
  const x = (i: number) => (i / (points.length - 1)) * W;
  const y = (v: number) => (hi === lo ? H / 2 : H - 2 - ((v - lo) / (hi - lo)) * (H - 4));
  const partial = partialBuckets(points.map((p) => p.bucket), grain, range.from, range.to);
  const pieces = sparkPieces(points.map((p) => p.value), partial);
  const last = values[values.length - 1]!;
  const underWay = partial[partial.length - 1] && points[points.length - 1]!.value !== null;
  const label = `By ${GRAIN_WORD[grain]} over the range: from ${describe(lo)} to ${describe(hi)}, last ${describe(last)}${underWay ? ` (this ${GRAIN_WORD[grain]} so far)` : ''}`;
  return (
    <svg className="kpi-trend" role="img" aria-label={label} viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" style={{ display: 'block', width: '100%', flex: '1 1 28px', minHeight: 28, maxHeight: 140, marginTop: 4, color: 'var(--accent, #3b6fd8)' }}>
      <title>{label}</title>
      {pieces.map((piece, i) => {
        const at = piece.points.map((j) => [x(j), y(points[j]!.value!)] as const);
        return at.length === 1
          ? <circle key={i} cx={at[0]![0]} cy={at[0]![1]} r={1.2} fill="currentColor" opacity={piece.dashed ? 0.6 : 1} />
          : <polyline key={i} points={at.map(([a, b]) => `${a.toFixed(2)},${b.toFixed(2)}`).join(' ')} fill="none" stroke="currentColor" strokeWidth={1.5} vectorEffect="non-scaling-stroke" {...(piece.dashed ? { strokeDasharray: '3 3', opacity: 0.7 } : {})} />;
      })}
    </svg>
  );
}

/** One card per KPI: value, change against the previous period, its trend over the range, and the target with its status; Admins set targets in place. */
function KpiCards({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  const [editing, setEditing] = useState(false);
  const q = useWidgetData<{ from: string; to: string; kpis: Kpi[]; trend_granularity: Grain }>('/kpis', {}, { live: ['kpis'] });
  const show = (k: Kpi, v: number) => (k.unit === 'usd' ? fmt.currency(v) : k.unit === 'ratio' ? fmt.percent(v) : k.unit === 'ms' ? fmt.duration(v) : fmt.number(v));
  return (
    <WidgetState query={q} emptyText="No agent activity in this range yet: KPIs appear once agents report invocations.">
      {({ from, to, kpis, trend_granularity: grain }) => {
        const list = options.keys.length ? kpis.filter((k) => options.keys.includes(k.key)) : kpis;
        return (
          // the cards share the cell's width, and their trends take the height the cell has to spare
          <div style={{ display: 'flex', flexDirection: 'column', height: '100%' }}>
            <ul aria-label="Key performance indicators" style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(150px, 1fr))', gap: 8, listStyle: 'none', margin: 0, padding: 0, flex: 1 }}>
              {list.map((k) => (
                <li key={k.key} title={k.description} style={{ border: '1px solid var(--border, #ddd)', borderRadius: 6, padding: 8, display: 'flex', flexDirection: 'column' }}>
                  <Stat label={k.title} value={k.value} format={FORMAT[k.unit]} delta={k.change} deltaGoodWhen={k.better === 'higher' ? 'up' : 'down'} />
                  <Sparkline points={k.trend ?? []} grain={grain ?? 'day'} range={{ from, to }} describe={(v) => show(k, v)} />
                  <div style={{ fontSize: '0.85em' }}>
                    {k.target === null ? (
                      <span>{STATUS[k.status]}</span>
                    ) : (
                      <span className={k.status === 'met' ? 'is-good' : k.status === 'missed' ? 'is-bad' : undefined}>
                        <span aria-hidden="true">{k.status === 'met' ? '✓ ' : k.status === 'missed' ? '✗ ' : ''}</span>
                        {STATUS[k.status]} · target {k.better === 'higher' ? '≥' : '≤'} {show(k, k.target)}
                      </span>
                    )}
                  </div>
                  {editing && <TargetForm k={k} context={context} onSaved={q.refetch} />}
                </li>
              ))}
            </ul>
            {context.role === 'Admin' && (
              <Button variant="quiet" aria-pressed={editing} onClick={() => setEditing(!editing)} style={{ marginTop: 6, alignSelf: 'flex-start' }}>{editing ? 'Done setting targets' : 'Set targets'}</Button>
            )}
          </div>
        );
      }}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: KpiCards, declaration: kpiCards });
