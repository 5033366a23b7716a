import { useState } from 'react';
import { defineWidget, formatters, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { interventionAlerts } from '../../widgets.ts';

interface Flag { id: string; email: string | null; user_id: string; raised_day: string; triggers: string[]; why: string[]; status: string }

/** A page of flags at a time: a large org can have hundreds open, and the cell shows a handful. */
const PAGE = 20;

/** Open needs-support flags, newest first; refetches as soon as a flag is raised or resolved. */
function InterventionAlerts({ context }: WidgetProps) {
  const f = formatters(context.locale, context.tz);
  const [shown, setShown] = useState(PAGE);
  const q = useWidgetData<{ flags: Flag[]; total: number }>(
    '/flags',
    { status: 'open', limit: shown, ...(context.department ? { department_id: context.department.id } : {}) },
    { withContext: false, live: ['flags'], liveThrottleMs: 1000, isEmpty: (d) => !d.flags.length },
  );
  return (
    <WidgetState query={q} emptyText="Nobody needs support right now.">
      {(d) => (
        <div style={{ overflow: 'auto', height: '100%' }}>
          <p style={{ margin: '0 0 4px', color: 'var(--muted, #5f6b7a)', fontSize: '.85rem' }}>
            {d.total === 1 ? 'One person needs support' : `${f.number(d.total)} people need support`}
          </p>
          <ul aria-label="Users needing support" aria-live="polite" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
            {d.flags.map((fl) => (
              <li key={fl.id} style={{ padding: '6px 0', borderBottom: '1px solid var(--border, #e3e7ed)' }}>
                <strong>{fl.email ?? fl.user_id}</strong> <span style={{ color: 'var(--muted, #5f6b7a)' }}>since {f.date(fl.raised_day)}</span>
                <ul style={{ margin: '2px 0 0', paddingLeft: 18, fontSize: '.85rem' }}>{fl.why.map((w) => <li key={w}>{w}</li>)}</ul>
              </li>
            ))}
          </ul>
          {d.total > d.flags.length && (
            <button type="button" className="orrery-link" style={{ marginTop: 6 }} onClick={() => setShown((n) => n + PAGE)}>
              Show {f.number(Math.min(PAGE, d.total - d.flags.length))} more of {f.number(d.total - d.flags.length)}
            </button>
          )}
        </div>
      )}
    </WidgetState>
  );
}

export default defineWidget({ component: InterventionAlerts, declaration: interventionAlerts });
