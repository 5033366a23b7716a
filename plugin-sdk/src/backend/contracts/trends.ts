/**
 * Trends: smoothing, forecasts and anomaly detection over a series (API.md → "Trends"),
 * provided by the `trends` plugin. The executive view, budgets and alert rules `need` it
 * to project spend and to mark unusual buckets without knowing how the models work.
 * Series are plain points, so a caller can feed it a metrics-query series or its own.
 */
import { createServiceRef } from '../services.ts';

export interface TrendPoint {
  /** ISO instant of the bucket's start */
  bucket: string;
  /** null = no value in that bucket (a gap, not a zero) */
  value: number | null;
}

export type SmoothingMethod = 'sma' | 'ema' | 'wma';

export interface SmoothedPoint extends TrendPoint {
  smoothed: number | null;
}

export interface ForecastPoint {
  bucket: string;
  value: number;
  lower: number;
  upper: number;
}

export interface ForecastAnswer {
  history: TrendPoint[];
  forecast: ForecastPoint[];
  /** the model used: `holt_winters_additive`, `holt_linear`, `seasonal_naive`, `mean` (`none`: no values) */
  model: string;
  /** detected season length in buckets (null = none) and its strength in [0, 1] */
  seasonality: { period: number | null; strength: number };
  /**
   * mean absolute percentage error on held-out buckets, next to the seasonal-naive baseline's;
   * in percent (12.5 = 12.5 %), null with too few values to hold some out
   */
  backtest: { mape: number | null; baseline: 'seasonal_naive'; baseline_mape: number | null };
}

export interface AnomalyPoint {
  bucket: string;
  value: number | null;
  expected: number | null;
  lower: number | null;
  upper: number | null;
  anomaly: boolean;
  score: number | null;
}

export interface TrendsService {
  smooth(points: TrendPoint[], method: SmoothingMethod, window: number): SmoothedPoint[];
  /**
   * `horizon` buckets ahead, spaced like the history's last two buckets (or `stepMs`).
   * `interval` is the prediction interval's coverage (default 0.95).
   */
  forecast(points: TrendPoint[], opts: { horizon: number; interval?: number; stepMs?: number }): ForecastAnswer;
  /** `sensitivity` is the robust z-score beyond which a bucket is an anomaly (default 3). */
  anomalies(points: TrendPoint[], opts?: { sensitivity?: number }): AnomalyPoint[];
}

export const trendsRef = createServiceRef<TrendsService>({
  id: 'trends',
  version: '1.0.0',
  description: 'smoothing, forecasts with intervals and backtests, and seasonal anomaly detection over a series',
});
