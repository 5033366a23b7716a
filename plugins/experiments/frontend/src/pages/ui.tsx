/** Pieces the experiment pages share: portal links and labelled fields. */
import { cloneElement, useId, type ReactElement, type ReactNode } from 'react';
import type { WidgetContext } from '@orrery/plugin-sdk/frontend';

export function PortalLink({ context, to, children }: { context: WidgetContext<any>; to: string; children: ReactNode }) {
  return (
    <a
      href={to}
      onClick={(e) => {
        if (!context.navigate || e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        context.navigate(to);
      }}
    >
      {children}
    </a>
  );
}

/** A labelled control; the hint is its description (not part of its name), so screen readers read both. */
export function Field({ label, hint, children }: { label: string; hint?: string; children: ReactElement<any> }) {
  const id = useId();
  return (
    <div style={{ display: 'grid', gap: 4, alignContent: 'start', minWidth: 0 }}>
      <label htmlFor={id}>{label}</label>
      {cloneElement(children, {
        id,
        ...(hint ? { 'aria-describedby': `${id}-hint` } : {}),
        // a select's intrinsic width would otherwise push it over the next column
        style: { width: '100%', maxWidth: '100%', boxSizing: 'border-box', ...(children.props.style ?? {}) },
      })}
      {hint && <span id={`${id}-hint`} className="small">{hint}</span>}
    </div>
  );
}

export const grid = { display: 'grid', gap: 12, gridTemplateColumns: 'repeat(auto-fit, minmax(200px, 1fr))' } as const;

export const STATUS_WORDS: Record<string, string> = { running: 'Running', stopped: 'Stopped', scheduled: 'Not started', ended: 'Ended' };
