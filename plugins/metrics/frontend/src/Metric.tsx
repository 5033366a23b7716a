import { defineWidget, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { metric } from '../../widgets.ts';
import { MetricView, type ChartKind } from './MetricView.tsx';
import type { MetricsQueryOptions } from './scope.ts';
import { useMetrics } from './useMetrics.ts';

interface Options { title: string; chart: ChartKind; compare?: boolean; query: MetricsQueryOptions }

/** Any metrics query over the dashboard's range and filters, drawn as its chart (MetricView). */
function Metric({ options }: WidgetProps<Options>) {
  const q = options.query;
  const title = options.title || `${q.measure}${q.field ? ` of ${q.field}` : ''} · ${q.event_type}`;
  const data = useMetrics(q, options.chart === 'number' || !!options.compare);
  return (
    <WidgetState query={data}>
      {({ now, before }) => <MetricView title={title} chart={options.chart} now={now} before={before} timed={!!q.granularity} />}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: Metric, declaration: metric });
