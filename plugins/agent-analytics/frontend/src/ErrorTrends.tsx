import { defineWidget, formatters, TimeSeriesChart, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { busiestNote, findingBusiest, LIVE, useChosenAgent } from './api.ts';
import { errorTrends } from '../../widgets.ts';

interface Options { agent: string; granularity: 'minute' | 'hour' | 'day' | 'week' }
interface Errors {
  failures: number;
  errors: Array<{ error_type: string; count: number; share: number; last_seen: string | null }>;
  trend: Array<{ bucket: string; error_type: string; count: number }>;
  recent: Array<{ invocation_id: string; timestamp: string; error_type: string; error_message: string; model_used: string }>;
}

/** Error categories over time and the latest failures; a click on one opens the failing invocation. */
function ErrorTrends({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  // with no agent in its settings, the one that failed most in the range
  const chosen = useChosenAgent(options.agent || undefined, 'failures');
  const agent = chosen.busiest && chosen.value === 0 ? null : chosen.agent;
  const q = useWidgetData<Errors>(`/${encodeURIComponent(agent ?? '')}/errors`, { granularity: options.granularity }, {
    ...LIVE,
    enabled: !!agent,
    isEmpty: (d) => d.failures === 0,
  });
  if (!agent) {
    return chosen.none
      ? <p className="orrery-state orrery-state--empty">No agent had an invocation in this time range.</p>
      : chosen.busiest
        ? <p className="orrery-state orrery-state--empty">No agent failed in this time range. Pick an agent in the widget’s settings to follow its errors.</p>
        : <p className="orrery-state orrery-state--loading" role="status">{findingBusiest('failures')}</p>;
  }
  return (
    <div style={{ display: 'flex', flexDirection: 'column', height: '100%', gap: 8 }}>
      {chosen.busiest && <p className="small" style={{ margin: 0 }}>{busiestNote(agent, 'failures')}</p>}
      <div style={{ flex: 1, minHeight: 0 }}>
        <WidgetState query={q} emptyText={`No failures of ${agent} in this time range.`}>
          {(d) => {
            const types = [...new Set(d.trend.map((t) => t.error_type))];
            return (
              <div style={{ display: 'flex', flexDirection: 'column', height: '100%', gap: 8 }}>
                <div style={{ flex: 1, minHeight: 120 }}>
                  <TimeSeriesChart
                    title={`${agent}: failures by error type`}
                    kind="bar"
                    series={types.map((t) => ({ name: t || 'unspecified', points: d.trend.filter((x) => x.error_type === t).map((x) => ({ t: x.bucket, v: x.count })) }))}
                  />
                </div>
                <ul aria-label="Latest failures" style={{ listStyle: 'none', margin: 0, padding: 0, fontSize: '.85rem', maxHeight: 110, overflow: 'auto' }}>
                  {d.recent.slice(0, 8).map((r) => (
                    <li key={r.invocation_id}>
                      <button
                        type="button"
                        className="orrery-link"
                        onClick={() => context.drillDown({ source: 'error-trends', filters: { agent, invocation_id: r.invocation_id } })}
                      >
                        <time dateTime={r.timestamp}>{fmt.dateTime(r.timestamp)}</time> · {r.error_type || 'unspecified'} · {r.model_used}
                      </button>
                    </li>
                  ))}
                </ul>
              </div>
            );
          }}
        </WidgetState>
      </div>
    </div>
  );
}

export default defineWidget<Options>({ component: ErrorTrends, declaration: errorTrends, defaults: { agent: '' } });
