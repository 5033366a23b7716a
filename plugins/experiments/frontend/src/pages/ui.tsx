/** Pieces the experiment pages share: portal links and labelled fields. */
import type { ReactNode } from 'react';
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

export function Field({ label, hint, children }: { label: string; hint?: string; children: ReactNode }) {
  return (
    <label style={{ display: 'grid', gap: 4, alignContent: 'start' }}>
      <span>{label}</span>
      {children}
      {hint && <span className="small">{hint}</span>}
    </label>
  );
}

export const grid = { display: 'grid', gap: 12, gridTemplateColumns: 'repeat(auto-fit, minmax(200px, 1fr))' } as const;

export const STATUS_WORDS: Record<string, string> = { running: 'Running', stopped: 'Stopped', scheduled: 'Not started', ended: 'Ended' };
