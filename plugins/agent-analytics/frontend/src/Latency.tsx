import { BarChart, defineWidget, TimeSeriesChart, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { busiestNote, findingBusiest, LIVE, useChosenAgent, type Metrics, type SeriesPoint } from './api.ts';
import { latency } from '../../widgets.ts';

interface Options { agent: string; granularity: 'minute' | 'hour' | 'day' | 'week' }

/** p50/p75/p95/p99 over time (t-digest, see the route docs) and the spread per model. */
function Latency({ options }: WidgetProps<Options>) {
  const chosen = useChosenAgent(options.agent || undefined);
  const agent = chosen.agent;
  const path = `/${encodeURIComponent(agent ?? '')}`;
  const series = useWidgetData<{ series: SeriesPoint[] }>(`${path}/analytics`, { granularity: options.granularity }, { ...LIVE, enabled: !!agent });
  const models = useWidgetData<{ variants: Array<Metrics & { value: string }> }>(`${path}/compare`, { by: 'model' }, { ...LIVE, enabled: !!agent });
  if (!agent) {
    return chosen.none
      ? <p className="orrery-state orrery-state--empty">No agent had an invocation in this time range.</p>
      : <p className="orrery-state orrery-state--loading" role="status">{findingBusiest()}</p>;
  }
  const q = ['p50_ms', 'p75_ms', 'p95_ms', 'p99_ms'] as const;
  return (
    <div style={{ display: 'flex', flexDirection: 'column', height: '100%', gap: 8 }}>
      {chosen.busiest && <p className="small" style={{ margin: 0 }}>{busiestNote(agent)}</p>}
      <div style={{ flex: 1, minHeight: 0 }}>
        <WidgetState query={series} emptyText={`${agent} had no invocations in this time range.`}>
          {(d) => (
            <div style={{ display: 'flex', flexDirection: 'column', height: '100%', gap: 8 }}>
              <div style={{ flex: 2, minHeight: 120 }}>
                <TimeSeriesChart
                  title={`${agent}: latency percentiles`}
                  format="duration"
                  series={q.map((k) => ({ name: k.replace('_ms', ''), points: d.series.map((p) => ({ t: p.bucket, v: p[k] })) }))}
                />
              </div>
              {models.data && models.data.variants.length > 1 && (
                <div style={{ flex: 1, minHeight: 90 }}>
                  <BarChart
                    title="Latency by model"
                    format="duration"
                    categories={models.data.variants.map((v) => v.value)}
                    series={q.map((k) => ({ name: k.replace('_ms', ''), values: models.data!.variants.map((v) => v[k] ?? 0) }))}
                    categoryKey="model"
                  />
                </div>
              )}
            </div>
          )}
        </WidgetState>
      </div>
    </div>
  );
}

export default defineWidget<Options>({ component: Latency, declaration: latency, defaults: { agent: '' } });
