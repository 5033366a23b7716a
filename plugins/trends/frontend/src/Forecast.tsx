import { useMemo } from 'react';
import { ChartFrame, defineWidget, useWidget, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { forecast as forecastWidget } from '../../widgets.ts';
import { usePostQuery, type SeriesQuery } from './usePostQuery.ts';
import { forecastSpec, forecastSummary, type ForecastAnswer } from './specs.ts';

interface Options { title: string; horizon: number; interval: number; query: SeriesQuery }

/** A metric's history, its forecast and the prediction band, with the model and its backtest in words. */
function Forecast({ options }: WidgetProps<Options>) {
  const q = options.query;
  const title = options.title || `Forecast: ${q.measure}${q.field ? ` of ${q.field}` : ''} · ${q.event_type}`;
  const data = usePostQuery<ForecastAnswer>('/forecast', q, { horizon: options.horizon, interval: options.interval }, (d) => !d.history.some((p) => p.value !== null));
  return (
    <WidgetState query={data} emptyText="No data for this time range: the forecast needs at least one bucket with a value.">
      {(a) => <ForecastChart a={a} title={title} interval={options.interval} />}
    </WidgetState>
  );
}

function ForecastChart({ a, title, interval }: { a: ForecastAnswer; title: string; interval: number }) {
  const { locale, tz } = useWidget();
  const spec = useMemo(() => forecastSpec(a, { locale, tz }, interval), [a, locale, tz, interval]);
  const summary = forecastSummary(a, { locale, tz });
  return (
    <div className="orrery-trends" style={{ display: 'flex', flexDirection: 'column', height: '100%' }}>
      <div style={{ flex: 1, minHeight: 0 }}>
        <ChartFrame title={title} summary={summary} spec={spec} />
      </div>
      <p style={{ margin: '4px 0 0', fontSize: 12 }}>{summary}</p>
    </div>
  );
}

export default defineWidget<Options>({ component: Forecast, declaration: forecastWidget });
