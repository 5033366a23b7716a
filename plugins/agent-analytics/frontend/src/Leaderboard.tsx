import { defineWidget, formatters, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { LIVE, type Metrics } from './api.ts';
import { leaderboard } from '../../widgets.ts';

type Metric = 'invocations' | 'failures' | 'success_rate' | 'p95_latency' | 'cost_efficiency';
interface Options { metric: Metric; limit: number; minInvocations: number }
type Row = Metrics & { rank: number; name: string; value: number | null; previous: Metrics | null };

/** the ranked figure in the previous period's metrics */
const PREVIOUS: Record<Metric, (m: Metrics) => number | null> = {
  invocations: (m) => m.invocations,
  failures: (m) => m.failures,
  success_rate: (m) => m.success_rate,
  p95_latency: (m) => m.p95_ms,
  cost_efficiency: (m) => m.cost_per_success_usd,
};
const LABEL: Record<Metric, string> = { invocations: 'Invocations', failures: 'Failures', success_rate: 'Success rate', p95_latency: 'p95 latency', cost_efficiency: 'Cost per success' };

/** Agents ranked by one metric, with the previous period's figure for context. */
function Leaderboard({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  const q = useWidgetData<{ agents: Row[] }>('/leaderboard', { metric: options.metric, limit: options.limit, min_invocations: options.minInvocations, compare: 'previous_period', measures: 'counts' }, LIVE);
  const show = (v: number | null) => {
    if (v === null) return '—';
    if (options.metric === 'success_rate') return fmt.percent(v);
    if (options.metric === 'p95_latency') return fmt.duration(v);
    if (options.metric === 'cost_efficiency') return fmt.currency(v);
    return fmt.number(v);
  };
  return (
    <WidgetState query={q} emptyText={`No agent reached ${options.minInvocations} invocations in this time range.`}>
      {({ agents }) => (
        <table className="orrery-table" aria-label={`Agents by ${LABEL[options.metric]}`}>
          <thead>
            <tr>
              <th scope="col" className="is-num">#</th><th scope="col">Agent</th><th scope="col" className="is-num">{LABEL[options.metric]}</th>
              <th scope="col" className="is-num">Previous period</th>
              {options.metric !== 'invocations' && <th scope="col" className="is-num">Invocations</th>}
            </tr>
          </thead>
          <tbody>
            {agents.map((a) => (
              <tr key={a.name}>
                <td className="is-num">{a.rank}</td>
                <td><button type="button" className="orrery-link" onClick={() => context.drillDown({ source: 'leaderboard', filters: { agent: a.name } })}>{a.name}</button></td>
                <td className="is-num">{show(a.value)}</td>
                <td className="is-num">{a.previous ? show(PREVIOUS[options.metric](a.previous)) : '—'}</td>
                {options.metric !== 'invocations' && <td className="is-num">{fmt.number(a.invocations)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: Leaderboard, declaration: leaderboard });
