import { useMemo } from 'react';
import { ChartFrame, defineWidget, formatters, timeSeriesSpec, toZonedWallTime, useWidget, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { forecast as declaration } from '../../widgets.ts';
import { bandTraces, usePostQuery, type SeriesQuery } from './usePostQuery.ts';

interface Options { title: string; horizon: number; interval: number; query: SeriesQuery }
interface Answer {
  history: Array<{ bucket: string; value: number | null }>;
  forecast: Array<{ bucket: string; value: number; lower: number; upper: number }>;
  model: string;
  seasonality: { period: number | null; strength: number };
  backtest: { mape: number | null; baseline: string; baseline_mape: number | null };
}

const MODEL_NAMES: Record<string, string> = {
  holt_winters_additive: 'Holt-Winters (additive trend and season)',
  holt_linear: "Holt's linear trend",
  seasonal_naive: 'seasonal naive (same bucket one season earlier)',
  mean: 'the mean of the history',
  none: 'none',
};

/** A metric's history, its forecast and the prediction band, with the model and its backtest in words. */
function Forecast({ options }: WidgetProps<Options>) {
  const ctx = useWidget();
  const q = options.query;
  const title = options.title || `Forecast: ${q.measure}${q.field ? ` of ${q.field}` : ''} · ${q.event_type}`;
  const data = usePostQuery<Answer>('/forecast', q, { horizon: options.horizon, interval: options.interval }, (d) => !d.history.some((p) => p.value !== null));
  const fm = formatters(ctx.locale, ctx.tz);
  const pct = `${Math.round(options.interval * 100)}%`;
  return (
    <WidgetState query={data} emptyText="No data for this time range: the forecast needs at least one bucket with a value.">
      {(a) => <ForecastChart a={a} title={title} pct={pct} locale={ctx.locale} tz={ctx.tz} fmNumber={fm.number} />}
    </WidgetState>
  );
}

function ForecastChart({ a, title, pct, locale, tz, fmNumber }: { a: Answer; title: string; pct: string; locale: string; tz: string; fmNumber(n: number, d?: number): string }) {
  const spec = useMemo(() => {
    const last = [...a.history].reverse().find((p) => p.value !== null);
    const base = timeSeriesSpec({
      series: [
        { name: 'Actual', points: a.history.map((p) => ({ t: p.bucket, v: p.value })) },
        // starts at the last actual value so the two lines join
        { name: 'Forecast', points: [...(last ? [{ t: last.bucket, v: last.value }] : []), ...a.forecast.map((p) => ({ t: p.bucket, v: p.value }))] },
      ],
    }, { locale, tz });
    const x = a.forecast.map((p) => toZonedWallTime(p.bucket, tz));
    const band = bandTraces(x, a.forecast.map((p) => p.lower), a.forecast.map((p) => p.upper), `${pct} prediction interval`, 'rgba(99, 110, 250, 0.18)');
    const forecastLine = base.data[1] as Record<string, unknown>;
    forecastLine.line = { ...(forecastLine.line as object), dash: 'dash' };
    const byTime = new Map(a.forecast.map((p) => [p.bucket, p]));
    // the table's rows are the sorted distinct times of both series (timeSeriesSpec's order)
    const times = [...new Set([...a.history.map((p) => p.bucket), ...a.forecast.map((p) => p.bucket)])].sort();
    return {
      ...base,
      data: [...band, ...base.data],
      drill: [[], [], ...(base.drill ?? [])],
      table: {
        columns: [...base.table.columns, `lower (${pct})`, `upper (${pct})`],
        rows: base.table.rows.map((row, i) => {
          const f = byTime.get(times[i]!);
          return [...row, f ? f.lower : null, f ? f.upper : null];
        }),
      },
      layout: { ...base.layout, showlegend: true },
    };
  }, [a, pct, locale, tz]);
  const mape = (v: number | null) => (v === null ? 'n/a' : `${fmNumber(v, 1)} %`);
  const season = a.seasonality.period ? `a season of ${a.seasonality.period} buckets (strength ${fmNumber(a.seasonality.strength, 2)})` : 'no season';
  const summary = `Forecast of ${a.forecast.length} buckets by ${MODEL_NAMES[a.model] ?? a.model}, ${season}. Backtest error ${mape(a.backtest.mape)} against ${mape(a.backtest.baseline_mape)} for seasonal naive.`;
  return (
    <div className="orrery-trends" style={{ display: 'flex', flexDirection: 'column', height: '100%' }}>
      <div style={{ flex: 1, minHeight: 0 }}>
        <ChartFrame title={title} summary={summary} spec={spec} />
      </div>
      <p className="orrery-trends__note" style={{ margin: '4px 0 0', fontSize: 12 }}>{summary}</p>
    </div>
  );
}

export default defineWidget<Options>({ component: Forecast, declaration });
