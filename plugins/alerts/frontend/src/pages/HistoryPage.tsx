import { defineWidget, formatters, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { historyPage } from '../../../widgets.ts';
import { PortalLink, STATE_WORDS } from './ui.tsx';

interface Entry { rule_id: string | null; fingerprint: string | null; kind: string; from_state: string | null; to_state: string | null; value: number | null; at: string; detail: any }
interface Options { rule_id: string }

function what(e: Entry): string {
  if (e.kind === 'state') return `${STATE_WORDS[e.from_state ?? ''] ?? e.from_state ?? '—'} → ${STATE_WORDS[e.to_state ?? ''] ?? e.to_state}`;
  if (e.kind === 'ack') return `Acknowledged${e.detail?.by ? '' : ''}`;
  if (e.kind === 'notification') return e.to_state === 'escalated' ? `Escalated to ${e.detail?.receiver ?? '?'}` : `Notified ${e.detail?.receiver ?? '?'} (${e.to_state})`;
  return e.kind;
}

/** State changes and notifications as a timeline, newest first, in the selected time range, for one rule or all. */
function HistoryPage({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  const rules = useWidgetData<{ rules: Array<{ id: string; name: string }> }>('/rules', {}, { withContext: false });
  const q = useWidgetData<{ history: Entry[] }>(
    '/history',
    { from: context.timeRange.from, to: context.timeRange.to, ...(options.rule_id ? { rule_id: options.rule_id } : {}) },
    { withContext: false, live: ['firing'], isEmpty: (d) => d.history.length === 0 },
  );
  const names = new Map((rules.data?.rules ?? []).map((r) => [r.id, r.name]));
  return (
    <div style={{ display: 'grid', gap: 12 }}>
      <div style={{ display: 'flex', gap: 12, alignItems: 'end', flexWrap: 'wrap' }}>
        <label style={{ display: 'grid', gap: 4 }}>
          Rule
          <select value={options.rule_id} onChange={(e) => context.setOptions({ rule_id: e.target.value })}>
            <option value="">Every rule</option>
            {(rules.data?.rules ?? []).map((r) => <option key={r.id} value={r.id}>{r.name}</option>)}
          </select>
        </label>
        <PortalLink context={context} to="/p/alerts/rules">Alert rules</PortalLink>
      </div>
      <WidgetState query={q} emptyText="Nothing happened in this time range: no state changes and no notifications. Widen the range to see older events.">
        {({ history }) => (
          <ol aria-label="Alert history" style={{ listStyle: 'none', padding: 0, margin: 0, display: 'grid', gap: 6 }}>
            {history.map((e, i) => (
              <li key={i} data-kind={e.kind} style={{ display: 'grid', gridTemplateColumns: '12em 1fr', gap: 8, borderLeft: `3px solid ${e.to_state === 'firing' ? 'var(--danger, #c0392b)' : e.to_state === 'normal' || e.to_state === 'resolved' ? 'var(--ok, #2e7d32)' : 'var(--border, #999)'}`, paddingLeft: 8 }}>
                <time dateTime={e.at}>{fmt.dateTime(e.at)}</time>
                <span>
                  <strong>{(e.rule_id && names.get(e.rule_id)) ?? e.detail?.name ?? 'a deleted rule'}</strong>
                  {' · '}{what(e)}
                  {e.value !== null && e.value !== undefined ? ` · value ${fmt.number(e.value)}` : ''}
                  {e.detail?.labels ? <span className="small"> · {Object.entries(e.detail.labels as Record<string, string>).filter(([k]) => k !== 'alertname').map(([k, v]) => `${k}=${v}`).join(', ')}</span> : null}
                </span>
              </li>
            ))}
          </ol>
        )}
      </WidgetState>
    </div>
  );
}

export default defineWidget<Options>({ component: HistoryPage, declaration: historyPage });
