/**
 * The `trendsRef` service: the models of ./models over `{bucket, value}` points. The routes
 * answer with it, and other plugins (the executive view, budgets) `need` it.
 */
import type { AnomalyPoint, ForecastAnswer, SmoothedPoint, SmoothingMethod, TrendPoint, TrendsService } from '@orrery/plugin-sdk';
import { detectAnomalies } from './models/anomalies.ts';
import { forecastSeries } from './models/forecast.ts';
import { smoothValues } from './models/smoothing.ts';
import { fillGaps } from './models/series.ts';

export const DAY_MS = 86_400_000;

const valueOf = (p: TrendPoint) => (p.value === null || p.value === undefined || !Number.isFinite(p.value) ? null : p.value);

/** Bucket width: `stepMs`, else the last two buckets' distance, else a day. */
export function stepOf(points: TrendPoint[], stepMs?: number): number {
  if (stepMs && stepMs > 0) return stepMs;
  if (points.length >= 2) {
    const d = Date.parse(points[points.length - 1]!.bucket) - Date.parse(points[points.length - 2]!.bucket);
    if (d > 0) return d;
  }
  return DAY_MS;
}

export function smooth(points: TrendPoint[], method: SmoothingMethod, window: number): SmoothedPoint[] {
  const s = smoothValues(points.map(valueOf), method, window);
  return points.map((p, i) => ({ bucket: p.bucket, value: valueOf(p), smoothed: s[i]! }));
}

export function forecast(points: TrendPoint[], opts: { horizon: number; interval?: number; stepMs?: number; period?: number | null }): ForecastAnswer {
  const history = points.map((p) => ({ bucket: p.bucket, value: valueOf(p) }));
  // leading and trailing buckets without a value say nothing about the level: trimmed for
  // the model (a gap inside the series is interpolated)
  let first = 0;
  let last = history.length - 1;
  while (first <= last && history[first]!.value === null) first++;
  while (last >= first && history[last]!.value === null) last--;
  const values = first <= last ? fillGaps(history.slice(first, last + 1).map((p) => p.value)) : [];
  // buckets after the last value that have none (a trailing gap) are forecast too, not shown
  const trailing = values.length ? history.length - 1 - last : 0;
  const r = forecastSeries(values, { horizon: opts.horizon + trailing, interval: opts.interval, ...(opts.period !== undefined ? { period: opts.period } : {}) });
  const step = stepOf(points, opts.stepMs);
  const end = points.length ? Date.parse(points[points.length - 1]!.bucket) : NaN;
  const fc = Number.isFinite(end)
    ? r.values.slice(trailing).map((v, i) => ({
        bucket: new Date(end + (i + 1) * step).toISOString(),
        value: v,
        lower: r.lower[i + trailing]!,
        upper: r.upper[i + trailing]!,
      }))
    : [];
  return {
    history,
    forecast: fc,
    model: r.model,
    seasonality: { period: r.seasonality.period, strength: r.seasonality.strength },
    backtest: { mape: r.backtest.mape, baseline: 'seasonal_naive', baseline_mape: r.backtest.baseline_mape },
  };
}

export function anomalies(points: TrendPoint[], opts: { sensitivity?: number } = {}): AnomalyPoint[] {
  const r = detectAnomalies(points.map(valueOf), opts);
  return points.map((p, i) => ({
    bucket: p.bucket,
    value: valueOf(p),
    expected: r.expected[i]!,
    lower: r.lower[i]!,
    upper: r.upper[i]!,
    anomaly: r.anomaly[i]!,
    score: r.score[i]!,
  }));
}

export const trendsService: TrendsService = { smooth, forecast, anomalies };
