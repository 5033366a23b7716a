import { BarChart, defineWidget, TimeSeriesChart, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { LIVE, type Metrics, type SeriesPoint } from './api.ts';
import { latency } from '../../widgets.ts';

interface Options { agent: string; granularity: 'minute' | 'hour' | 'day' | 'week' }

/** p50/p75/p95/p99 over time (t-digest, see the route docs) and the spread per model. */
function Latency({ options }: WidgetProps<Options>) {
  const path = `/${encodeURIComponent(options.agent ?? '')}`;
  const series = useWidgetData<{ series: SeriesPoint[] }>(`${path}/analytics`, { granularity: options.granularity }, { ...LIVE, enabled: !!options.agent });
  const models = useWidgetData<{ variants: Array<Metrics & { value: string }> }>(`${path}/compare`, { by: 'model' }, { ...LIVE, enabled: !!options.agent });
  if (!options.agent) return <p className="orrery-state orrery-state--empty">Pick an agent in this widget’s settings.</p>;
  const q = ['p50_ms', 'p75_ms', 'p95_ms', 'p99_ms'] as const;
  return (
    <WidgetState query={series} emptyText={`${options.agent} had no invocations in this time range.`}>
      {(d) => (
        <div style={{ display: 'flex', flexDirection: 'column', height: '100%', gap: 8 }}>
          <div style={{ flex: 2, minHeight: 120 }}>
            <TimeSeriesChart
              title={`${options.agent}: latency percentiles`}
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
  );
}

export default defineWidget<Options>({ component: Latency, declaration: latency, defaults: { agent: '' } });
