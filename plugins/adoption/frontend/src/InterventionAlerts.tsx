import { useState } from 'react';
import { defineWidget, formatters, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { interventionAlerts } from '../../widgets.ts';

type Kind = 'struggling' | 'slipping' | 'not_started' | 'light_use';
interface Flag { id: string; email: string | null; display_name: string | null; user_id: string; raised_day: string; triggers: string[]; why: string[]; status: string; kind: Kind; level: 'high' | 'medium' | 'low'; pending: string | null }

/** Most urgent first: the order the flags route sorts by. */
const KINDS: Array<{ id: Kind; label: string; color: string }> = [
  { id: 'struggling', label: 'Struggling', color: '#b42318' },
  { id: 'slipping', label: 'Slipping', color: '#b54708' },
  { id: 'not_started', label: 'Not started', color: '#475467' },
  { id: 'light_use', label: 'Light use', color: '#667085' },
];

/** A page of flags at a time: a large org can have hundreds open, and the cell shows a handful. */
const PAGE = 20;

/** Open needs-support flags, most urgent kind and most severe first, with counts per kind; refetches as soon as a flag is raised or resolved. */
function InterventionAlerts({ context }: WidgetProps) {
  const f = formatters(context.locale, context.tz);
  const [shown, setShown] = useState(PAGE);
  const [kind, setKind] = useState<Kind | null>(null);
  const q = useWidgetData<{ flags: Flag[]; total: number; by_kind: Record<Kind, number> }>(
    '/flags',
    { status: 'open', sort: 'severity', limit: shown, ...(kind ? { kind } : {}), ...(context.department ? { department_id: context.department.id } : {}) },
    { withContext: false, live: ['flags'], liveThrottleMs: 1000, isEmpty: (d) => !d.flags.length },
  );
  return (
    <WidgetState query={q} emptyText="Nobody needs support right now.">
      {(d) => (
        <div style={{ overflow: 'auto', height: '100%' }}>
          <p style={{ margin: '0 0 4px', color: 'var(--muted, #5f6b7a)', fontSize: '.85rem' }}>
            {(() => {
              const all = KINDS.reduce((a, k) => a + (d.by_kind[k.id] ?? 0), 0);
              return all === 1 ? 'One person needs support' : `${f.number(all)} people need support`;
            })()}
          </p>
          <div role="group" aria-label="Filter by kind" style={{ display: 'flex', flexWrap: 'wrap', gap: 4, margin: '0 0 6px' }}>
            {KINDS.map((k) => (
              <button
                key={k.id}
                type="button"
                aria-pressed={kind === k.id}
                onClick={() => setKind(kind === k.id ? null : k.id)}
                style={{ border: `1px solid ${k.color}`, borderRadius: 12, padding: '1px 8px', fontSize: '.8rem', cursor: 'pointer', background: kind === k.id ? k.color : 'transparent', color: kind === k.id ? '#fff' : k.color }}
              >
                {k.label} {f.number(d.by_kind[k.id] ?? 0)}
              </button>
            ))}
          </div>
          <ul aria-label="Users needing support" aria-live="polite" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
            {d.flags.map((fl) => (
              <li key={fl.id} style={{ padding: '6px 0', borderBottom: '1px solid var(--border, #e3e7ed)' }}>
                <span style={{ fontSize: '.75rem', fontWeight: 600, color: KINDS.find((k) => k.id === fl.kind)?.color }}>
                  {KINDS.find((k) => k.id === fl.kind)?.label} · {fl.level}
                </span>{' '}
                <strong title={fl.email ?? fl.user_id}>{fl.display_name || fl.email || fl.user_id}</strong> <span style={{ color: 'var(--muted, #5f6b7a)' }}>since {f.date(fl.raised_day)}</span>
                {fl.pending && <span style={{ marginLeft: 6, fontSize: '.75rem', color: 'var(--muted, #5f6b7a)' }}>(not yet notified)</span>}
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
