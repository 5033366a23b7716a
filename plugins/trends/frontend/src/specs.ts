/**
 * The widgets' charts as pure functions (answer → plotly spec + data table), so they are tested
 * without a browser: the SDK's time-series spec for the lines, plus the band (plotly's fill
 * between an invisible lower line and the upper one) and the anomaly markers.
 */
import { formatters, timeSeriesSpec, toZonedWallTime, type PlotSpec } from '@orrery/plugin-sdk/frontend';

export interface ForecastAnswer {
  history: Array<{ bucket: string; value: number | null }>;
  forecast: Array<{ bucket: string; value: number; lower: number; upper: number }>;
  model: string;
  seasonality: { period: number | null; strength: number };
  backtest: { mape: number | null; baseline: string; baseline_mape: number | null };
}

export interface AnomalyPoint { bucket: string; value: number | null; expected: number | null; lower: number | null; upper: number | null; anomaly: boolean; score: number | null }

interface Env { locale: string; tz: string }

export const FORECAST_BAND = 'rgba(99, 110, 250, 0.18)';
export const EXPECTED_BAND = 'rgba(0, 150, 136, 0.16)';

/** Plotly fill between two lines: the lower bound drawn invisibly, the upper filled down to it. */
export function bandTraces(x: string[], lower: Array<number | null>, upper: Array<number | null>, name: string, color: string) {
  return [
    { type: 'scatter', mode: 'lines', x, y: lower, line: { width: 0, color }, showlegend: false, hoverinfo: 'skip', name: `${name} (lower)` },
    { type: 'scatter', mode: 'lines', x, y: upper, line: { width: 0, color }, fill: 'tonexty', fillcolor: color, name, hoverinfo: 'skip' },
  ];
}

const MODEL_NAMES: Record<string, string> = {
  holt_winters_additive: 'Holt-Winters (additive trend and season)',
  holt_linear: "Holt's linear trend",
  seasonal_naive: 'seasonal naive (the same bucket one season earlier)',
  mean: 'the mean of the history',
  none: 'no model (no values)',
};

/** One sentence on what the forecast rests on, for the note under the chart and screen readers. */
export function forecastSummary(a: ForecastAnswer, env: Env): string {
  const fm = formatters(env.locale, env.tz);
  const mape = (v: number | null) => (v === null ? 'n/a' : `${fm.number(v, 1)} %`);
  const season = a.seasonality.period ? `a season of ${a.seasonality.period} buckets (strength ${fm.number(a.seasonality.strength, 2)})` : 'no season';
  return `Forecast of ${a.forecast.length} buckets by ${MODEL_NAMES[a.model] ?? a.model}, ${season}. Backtest error ${mape(a.backtest.mape)} against ${mape(a.backtest.baseline_mape)} for seasonal naive.`;
}

export function forecastSpec(a: ForecastAnswer, env: Env, interval: number): PlotSpec {
  const pct = `${Math.round(interval * 100)}%`;
  const last = [...a.history].reverse().find((p) => p.value !== null);
  const base = timeSeriesSpec({
    series: [
      { name: 'Actual', points: a.history.map((p) => ({ t: p.bucket, v: p.value })) },
      // starts at the last actual value so the two lines join
      { name: 'Forecast', points: [...(last ? [{ t: last.bucket, v: last.value }] : []), ...a.forecast.map((p) => ({ t: p.bucket, v: p.value }))] },
    ],
  }, env);
  const x = a.forecast.map((p) => toZonedWallTime(p.bucket, env.tz));
  const band = bandTraces(x, a.forecast.map((p) => p.lower), a.forecast.map((p) => p.upper), `${pct} prediction interval`, FORECAST_BAND);
  const forecastLine = base.data[1] as Record<string, unknown>;
  base.data[1] = { ...forecastLine, line: { ...(forecastLine.line as object), dash: 'dash' } };
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
}

export function anomalySummary(points: AnomalyPoint[]): string {
  const flagged = points.filter((p) => p.anomaly).length;
  return flagged
    ? `${flagged} of ${points.length} buckets stand out from the trend and season.`
    : `No bucket stands out from the trend and season (${points.length} buckets).`;
}

export function anomalySpec(points: AnomalyPoint[], env: Env): PlotSpec {
  const fm = formatters(env.locale, env.tz);
  const flagged = points.filter((p) => p.anomaly);
  const base = timeSeriesSpec({ series: [{ name: 'Actual', points: points.map((p) => ({ t: p.bucket, v: p.value })) }] }, env);
  const x = points.map((p) => toZonedWallTime(p.bucket, env.tz));
  const band = bandTraces(x, points.map((p) => p.lower), points.map((p) => p.upper), 'Expected range', EXPECTED_BAND);
  const marks = {
    type: 'scatter',
    mode: 'markers',
    name: 'Anomaly',
    x: flagged.map((p) => toZonedWallTime(p.bucket, env.tz)),
    y: flagged.map((p) => p.value),
    marker: { color: '#d62728', size: 10, symbol: 'circle-open', line: { width: 2.5 } },
    hovertemplate: '%{x}<br>Anomaly: %{y}<extra></extra>',
  };
  return {
    ...base,
    data: [...band, ...base.data, marks],
    drill: [[], [], ...(base.drill ?? []), []],
    table: {
      columns: ['time', 'value', 'expected', 'lower', 'upper', 'anomaly', 'score'],
      rows: points.map((p) => [fm.dateTime(p.bucket), p.value, p.expected, p.lower, p.upper, p.anomaly ? 'yes' : 'no', p.score]),
    },
    layout: { ...base.layout, showlegend: true },
  };
}
