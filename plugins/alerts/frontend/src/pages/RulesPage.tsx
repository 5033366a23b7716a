import { Badge, Button, defineWidget, formatters, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { rulesPage } from '../../../widgets.ts';
import { ActionStatus, PortalLink, STATE_TONES, STATE_WORDS, useAction } from './ui.tsx';

interface Rule {
  id: string;
  name: string;
  state: string;
  paused: boolean;
  query: { event_type: string; measure: string; field?: string; group_by?: string[] } | null;
  source: { kind: string; condition?: string } | null;
  window_seconds: number;
  interval_seconds: number;
  condition: { kind?: string; op: string; threshold?: number; threshold2?: number; granularity?: string };
  last_eval_at: string | null;
  last_error: string | null;
  instances: Array<{ state: string }>;
}
interface Options { state: string }

const OPS: Record<string, string> = { gt: '>', gte: '≥', lt: '<', lte: '≤', outside: 'outside', inside: 'inside' };

/** One line saying what a rule watches and when it fires. */
export function describeRule(r: Pick<Rule, 'query' | 'source' | 'condition' | 'window_seconds'>): string {
  const what = r.source
    ? r.source.kind === 'data_quality' ? `data quality${r.source.condition ? ` (${r.source.condition})` : ''}` : 'users newly needing support'
    : r.query ? `${r.query.measure}${r.query.field ? `(${r.query.field})` : ''} of ${r.query.event_type}${r.query.group_by?.length ? ` by ${r.query.group_by.join(', ')}` : ''}` : '?';
  const c = r.condition;
  const bound = c.op === 'outside' || c.op === 'inside' ? `${c.threshold} … ${c.threshold2}` : String(c.threshold);
  const window = r.window_seconds >= 3600 ? `${r.window_seconds / 3600} h` : `${Math.round(r.window_seconds / 60)} min`;
  switch (c.kind ?? 'threshold') {
    case 'change':
      return `${what}: change against the previous ${window} ${OPS[c.op]} ${bound}`;
    case 'change_percent':
      return `${what}: change in % against the previous ${window} ${OPS[c.op]} ${bound}`;
    case 'anomaly':
      return `${what}: last ${c.granularity} ${c.op === 'gt' ? 'above' : c.op === 'lt' ? 'below' : 'outside'} the expected band (learnt over ${window})`;
    default:
      return `${what} over ${window} ${OPS[c.op]} ${bound}`;
  }
}

/** Every rule with its state; filters in the URL; pause/resume in place. */
function RulesPage({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  const canWrite = context.role !== 'Developer';
  const q = useWidgetData<{ rules: Rule[] }>('/rules', options.state ? { state: options.state } : {}, { withContext: false, live: ['firing'], isEmpty: (d) => d.rules.length === 0 });
  const act = useAction();
  return (
    <div style={{ display: 'grid', gap: 12 }}>
      <div style={{ display: 'flex', gap: 12, alignItems: 'end', flexWrap: 'wrap' }}>
        <label style={{ display: 'grid', gap: 4 }}>
          State
          <select value={options.state} onChange={(e) => context.setOptions({ ...options, state: e.target.value })}>
            <option value="">Every state</option>
            {Object.entries(STATE_WORDS).map(([k, v]) => <option key={k} value={k}>{v}</option>)}
          </select>
        </label>
        {canWrite && <PortalLink context={context} to="/p/alerts/rule">New alert rule</PortalLink>}
        <PortalLink context={context} to="/p/alerts/contact-points">Contact points</PortalLink>
        <PortalLink context={context} to="/p/alerts/silences">Silences</PortalLink>
        <PortalLink context={context} to="/p/alerts/history">History</PortalLink>
      </div>
      <ActionStatus error={act.error} done={act.done} />
      <WidgetState
        query={q}
        emptyText={options.state ? `No rule is ${STATE_WORDS[options.state]?.toLowerCase() ?? options.state} now.` : 'No alert rules yet. Create one from scratch or from a template with "New alert rule": an error rate, a drop against the hour before, data quality…'}
      >
        {({ rules }) => (
          <table className="orrery-table" aria-label="Alert rules">
            <thead>
              <tr><th scope="col">Rule</th><th scope="col">State</th><th scope="col">Watches</th><th scope="col">Every</th><th scope="col">Last evaluated</th><th scope="col"><span className="sr-only">Actions</span></th></tr>
            </thead>
            <tbody>
              {rules.map((r) => {
                const firing = r.instances.filter((i) => i.state === 'firing').length;
                return (
                  <tr key={r.id}>
                    <td>{canWrite ? <PortalLink context={context} to={`/p/alerts/rule?id=${r.id}`}>{r.name}</PortalLink> : r.name}</td>
                    <td data-state={r.state}>
                      <Badge tone={STATE_TONES[r.state] ?? 'neutral'}>{STATE_WORDS[r.state] ?? r.state}</Badge>
                      {firing > 1 ? ` (${firing} instances)` : ''}
                      {r.last_error ? <div className="small" title={r.last_error}>{r.last_error.slice(0, 80)}</div> : null}
                    </td>
                    <td>{describeRule(r)}</td>
                    <td>{fmt.duration(r.interval_seconds * 1000)}</td>
                    <td>{r.last_eval_at ? <time dateTime={r.last_eval_at}>{fmt.dateTime(r.last_eval_at)}</time> : 'not yet'}</td>
                    <td style={{ whiteSpace: 'nowrap' }}>
                      <PortalLink context={context} to={`/p/alerts/history?rule_id=${r.id}`}>History<span className="sr-only"> of {r.name}</span></PortalLink>
                      {canWrite && (
                        <>
                          {' '}
                          <Button
                            disabled={act.busy}
                            onClick={() => act.run(async () => {
                              await context.request(`/rules/${r.id}/pause`, { method: 'POST', body: { paused: !r.paused } });
                              q.refetch();
                              return `${r.name} ${r.paused ? 'resumed' : 'paused'}.`;
                            })}
                          >
                            {r.paused ? 'Resume' : 'Pause'}<span className="sr-only"> {r.name}</span>
                          </Button>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </WidgetState>
    </div>
  );
}

export default defineWidget<Options>({ component: RulesPage, declaration: rulesPage });
