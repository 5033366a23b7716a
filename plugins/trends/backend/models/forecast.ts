/**
 * Forecasts with prediction intervals and an honest backtest.
 *
 * Models (Hyndman & Athanasopoulos, "Forecasting: Principles and Practice", 3rd ed., §8):
 * - `holt_winters_additive`: level, trend and additive season of the detected period;
 * - `holt_linear`: level and trend (no season found, or too little data for two seasons);
 * - `seasonal_naive`: the value one season earlier (the last value without a season);
 * - `mean`: the mean of the history (fewer than 4 points, or nothing else did better).
 *
 * Choice: the smoothing parameters of Holt-Winters and Holt are chosen on a grid by the
 * absolute error of their forecasts of the last `v` points (a holdout) from every origin
 * before them, 1…min(horizon, v) steps ahead; the model with the smallest holdout error (the
 * mean and seasonal naive compete on the same targets) is then fitted on the whole history.
 *
 * Intervals: σ² from the one-step in-sample residuals (SSE / (T − k), k smoothing parameters),
 * widened per step ahead by the ETS variance multipliers (fpp3 Table 9.8 / §8.7):
 * Var(h) = σ²·(1 + Σ_{j<h} c_j²), c_j = α(1 + jβ) + γ·[j mod m = 0] for Holt-Winters, α(1 + jβ) for
 * Holt, 0 for the mean (Var = σ²(1 + 1/T)); seasonal naive: Var(h) = σ²·(⌊(h−1)/m⌋ + 1).
 * The bounds are the normal quantiles of the requested coverage.
 *
 * Backtest: the whole procedure (model choice included) is run on the history without its last
 * `v` points and scored by MAPE on those points, next to the seasonal-naive forecast from the
 * same cut, so the number shown is what the method would have scored, not the in-sample fit.
 */
import { detectSeasonality, seasonalStrength } from './seasonality.ts';
import { normalQuantile } from '@orrery/plugin-sdk';
import { mape, mean } from './series.ts';

export type ModelName = 'holt_winters_additive' | 'holt_linear' | 'seasonal_naive' | 'mean';

export interface Fitted {
  model: ModelName;
  params: { alpha?: number; beta?: number; gamma?: number; period?: number };
  /** point forecasts 1…h steps ahead */
  predict(h: number): Float64Array;
  /** variance multiplier of step h (1-based): Var(h) = σ² · mult(h) */
  varianceMultiplier(h: number): number;
  /** one-step residual variance */
  sigma2: number;
  /** Σ |error| of the rolling-origin forecasts asked for with a RollingScore */
  score?: number;
}

/**
 * Rolling-origin evaluation inside one pass: from every origin, forecasts 1…H steps ahead
 * are scored on the targets at or after index `from`. The parameters stay fixed and the
 * states take in each new value, which is exactly re-forecasting from every origin.
 */
export interface RollingScore {
  from: number;
  H: number;
}

const ALPHAS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9];
const BETAS = [0, 0.02, 0.05, 0.1, 0.2];
const GAMMAS = [0.01, 0.05, 0.1, 0.2, 0.4];

// ------------------------------------------------------------------ Holt-Winters additive

/**
 * fpp3's component form:
 *   ℓ_t = α(y_t − s_{t−m}) + (1−α)(ℓ_{t−1} + b_{t−1})
 *   b_t = β(ℓ_t − ℓ_{t−1}) + (1−β) b_{t−1}
 *   s_t = γ(y_t − ℓ_{t−1} − b_{t−1}) + (1−γ) s_{t−m}
 * Initial states from the complete seasons: the trend from the first and last season means,
 * the level just before the first point, the season as the average detrended deviation.
 */
export function holtWinters(y: ArrayLike<number>, m: number, alpha: number, beta: number, gamma: number, score?: RollingScore): Fitted {
  const n = y.length;
  const seasons = Math.floor(n / m);
  const smean = (k: number) => {
    let s = 0;
    for (let j = 0; j < m; j++) s += y[k * m + j]!;
    return s / m;
  };
  const means = Array.from({ length: seasons }, (_, k) => smean(k));
  let b = seasons >= 2 ? (means[seasons - 1]! - means[0]!) / ((seasons - 1) * m) : 0;
  const season = new Float64Array(m);
  for (let j = 0; j < m; j++) {
    let s = 0;
    for (let k = 0; k < seasons; k++) s += y[k * m + j]! - (means[k]! + b * (j - (m - 1) / 2));
    season[j] = s / seasons;
  }
  const sm = mean(season);
  for (let j = 0; j < m; j++) season[j]! -= sm;
  let l = means[0]! - b * ((m - 1) / 2 + 1);
  let sse = 0;
  let count = 0;
  let scoreSum = 0;
  for (let t = 0; t < n; t++) {
    if (score && t - 1 + score.H >= score.from) {
      // forecasts from origin t−1 of the held-out targets (fixed parameters: rolling origin)
      for (let h = 1; h <= score.H; h++) {
        const j = t - 1 + h;
        if (j >= n) break;
        if (j >= score.from) scoreSum += Math.abs(y[j]! - (l + h * b + season[j % m]!));
      }
    }
    const p = t % m;
    const f = l + b + season[p]!;
    const e = y[t]! - f;
    if (t >= m) {
      sse += e * e;
      count++;
    }
    const lPrev = l;
    l = alpha * (y[t]! - season[p]!) + (1 - alpha) * (lPrev + b);
    const bPrev = b;
    b = beta * (l - lPrev) + (1 - beta) * bPrev;
    season[p] = gamma * (y[t]! - lPrev - bPrev) + (1 - gamma) * season[p]!;
  }
  const sigma2 = count > 3 ? sse / (count - 3) : sse / Math.max(1, count);
  return {
    score: scoreSum,
    model: 'holt_winters_additive',
    params: { alpha, beta, gamma, period: m },
    sigma2,
    predict(h) {
      const out = new Float64Array(h);
      for (let i = 1; i <= h; i++) out[i - 1] = l + i * b + season[(n - 1 + i) % m]!;
      return out;
    },
    varianceMultiplier(h) {
      let s = 1;
      for (let j = 1; j < h; j++) s += (alpha * (1 + j * beta) + (j % m === 0 ? gamma : 0)) ** 2;
      return s;
    },
  };
}

// ------------------------------------------------------------------ Holt linear

/** ℓ_t = αy_t + (1−α)(ℓ_{t−1} + b_{t−1}); b_t = β(ℓ_t − ℓ_{t−1}) + (1−β)b_{t−1}; ℓ_0 = y_0, b_0 = y_1 − y_0. */
export function holtLinear(y: ArrayLike<number>, alpha: number, beta: number, score?: RollingScore): Fitted {
  const n = y.length;
  let l = y[0]!;
  let b = n > 1 ? y[1]! - y[0]! : 0;
  let sse = 0;
  let count = 0;
  let scoreSum = 0;
  for (let t = 1; t < n; t++) {
    if (score && t - 1 + score.H >= score.from) {
      for (let h = 1; h <= score.H; h++) {
        const j = t - 1 + h;
        if (j >= n) break;
        if (j >= score.from) scoreSum += Math.abs(y[j]! - (l + h * b));
      }
    }
    const e = y[t]! - (l + b);
    if (t >= 2) {
      sse += e * e;
      count++;
    }
    const lPrev = l;
    l = alpha * y[t]! + (1 - alpha) * (l + b);
    b = beta * (l - lPrev) + (1 - beta) * b;
  }
  const sigma2 = count > 2 ? sse / (count - 2) : sse / Math.max(1, count);
  return {
    score: scoreSum,
    model: 'holt_linear',
    params: { alpha, beta },
    sigma2,
    predict(h) {
      const out = new Float64Array(h);
      for (let i = 1; i <= h; i++) out[i - 1] = l + i * b;
      return out;
    },
    varianceMultiplier(h) {
      let s = 1;
      for (let j = 1; j < h; j++) s += (alpha * (1 + j * beta)) ** 2;
      return s;
    },
  };
}

// ------------------------------------------------------------------ baselines

export function meanModel(y: ArrayLike<number>): Fitted {
  const n = y.length;
  const m = mean(y);
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (y[i]! - m) ** 2;
  const sigma2 = n > 1 ? ss / (n - 1) : 0;
  return {
    model: 'mean',
    params: {},
    sigma2,
    predict: (h) => new Float64Array(h).fill(m),
    varianceMultiplier: () => 1 + 1 / Math.max(1, n),
  };
}

/** ŷ_{T+h} = y_{T+h−m(⌊(h−1)/m⌋+1)}; m = 1 (the naive forecast) without a season. */
export function seasonalNaive(y: ArrayLike<number>, period: number | null): Fitted {
  const n = y.length;
  const m = Math.max(1, Math.min(period ?? 1, n));
  let ss = 0;
  let count = 0;
  for (let t = m; t < n; t++) {
    ss += (y[t]! - y[t - m]!) ** 2;
    count++;
  }
  return {
    model: 'seasonal_naive',
    params: { period: m },
    sigma2: count ? ss / count : 0,
    predict(h) {
      const out = new Float64Array(h);
      for (let i = 1; i <= h; i++) out[i - 1] = y[n - 1 + i - m * (Math.floor((i - 1) / m) + 1)]!;
      return out;
    },
    varianceMultiplier: (h) => Math.floor((h - 1) / m) + 1,
  };
}

// ------------------------------------------------------------------ choice on a holdout

/** Holdout length: the horizon or one season, whichever is longer, at most a quarter of the points. */
export function holdoutLength(n: number, horizon: number, period: number | null): number {
  return Math.max(1, Math.min(Math.max(horizon, period ?? 1), Math.floor(n / 4)));
}

/** Σ |error| of the rolling-origin forecasts of the mean of the values so far. */
function meanScore(y: ArrayLike<number>, sc: RollingScore): number {
  const n = y.length;
  let sum = 0;
  let total = 0;
  for (let o = 0; o < n - 1; o++) {
    sum += y[o]!;
    if (o + sc.H < sc.from) continue;
    const f = sum / (o + 1);
    for (let h = 1; h <= sc.H && o + h < n; h++) if (o + h >= sc.from) total += Math.abs(y[o + h]! - f);
  }
  return total;
}

/** Σ |error| of the rolling-origin seasonal-naive forecasts (origins with a season behind them). */
function naiveScore(y: ArrayLike<number>, m: number, sc: RollingScore): number {
  const n = y.length;
  let total = 0;
  for (let o = Math.max(m - 1, sc.from - sc.H); o < n - 1; o++) {
    for (let h = 1; h <= sc.H && o + h < n; h++) {
      const j = o + h;
      if (j >= sc.from) total += Math.abs(y[j]! - y[j - m * (Math.floor((h - 1) / m) + 1)]!);
    }
  }
  return total;
}

/**
 * Chooses the model and its parameters by their forecasts of the last `v` points from every
 * origin before them (1…H steps ahead, H = min(horizon, v)): a rolling-origin holdout, which
 * scores what the forecast will be used for and does not reward chasing noise the way the
 * in-sample one-step fit or a single cut can. The chosen model is fitted on all of `y`.
 */
export function chooseAndFit(y: ArrayLike<number>, period: number | null, horizon: number): Fitted {
  const n = y.length;
  if (n < 4) return meanModel(y);
  const v = holdoutLength(n, horizon, period);
  const sc: RollingScore = { from: n - v, H: Math.max(1, Math.min(horizon, v)) };
  const m = Math.max(1, Math.min(period ?? 1, n - v));
  type Cand = { err: number; fit: () => Fitted };
  // simplest first: a richer model must be strictly better to win
  const cands: Cand[] = [
    { err: meanScore(y, sc), fit: () => meanModel(y) },
    { err: naiveScore(y, m, sc), fit: () => seasonalNaive(y, period) },
  ];
  if (n - v >= 3) {
    let best: Cand | null = null;
    for (const a of ALPHAS) for (const b of BETAS) {
      const f = holtLinear(y, a, b, sc);
      if (!best || f.score! < best.err) best = { err: f.score!, fit: () => holtLinear(y, a, b) };
    }
    cands.push(best!);
  }
  if (period && period >= 2 && n - v >= 2 * period) {
    let best: Cand | null = null;
    for (const a of ALPHAS) for (const b of BETAS) for (const g of GAMMAS) {
      if (g > 1 - a) continue;
      const f = holtWinters(y, period, a, b, g, sc);
      if (!best || f.score! < best.err) best = { err: f.score!, fit: () => holtWinters(y, period, a, b, g) };
    }
    cands.push(best!);
  }
  let win = cands[0]!;
  for (const c of cands) if (c.err < win.err * (1 - 1e-9)) win = c;
  return win.fit();
}

// ------------------------------------------------------------------ the forecast

export interface ForecastResult {
  model: ModelName | 'none';
  values: number[];
  lower: number[];
  upper: number[];
  seasonality: { period: number | null; strength: number };
  backtest: { mape: number | null; baseline_mape: number | null; points: number };
  params: Fitted['params'];
}

export function intervalsOf(f: Fitted, horizon: number, coverage: number, nonNegative: boolean) {
  const z = normalQuantile(0.5 + coverage / 2);
  const pred = f.predict(horizon);
  const values: number[] = [];
  const lower: number[] = [];
  const upper: number[] = [];
  for (let h = 1; h <= horizon; h++) {
    const half = z * Math.sqrt(Math.max(0, f.sigma2) * f.varianceMultiplier(h));
    const v = pred[h - 1]!;
    values.push(nonNegative ? Math.max(0, v) : v);
    lower.push(nonNegative ? Math.max(0, v - half) : v - half);
    upper.push(nonNegative ? Math.max(0, v + half) : v + half);
  }
  return { values, lower, upper };
}

/**
 * Forecast `horizon` steps past the end of `y` (no gaps: fill them first). `nonNegative`
 * clips forecasts and bounds at 0 (counts, costs), which the history's own sign decides
 * when not given.
 */
export function forecastSeries(y: ArrayLike<number>, opts: { horizon: number; interval?: number; period?: number | null; nonNegative?: boolean }): ForecastResult {
  const n = y.length;
  const horizon = opts.horizon;
  const coverage = opts.interval ?? 0.95;
  if (n === 0) return { model: 'none', values: [], lower: [], upper: [], seasonality: { period: null, strength: 0 }, backtest: { mape: null, baseline_mape: null, points: 0 }, params: {} };
  let nonNegative = opts.nonNegative;
  if (nonNegative === undefined) {
    nonNegative = true;
    for (let i = 0; i < n; i++) if (y[i]! < 0) nonNegative = false;
  }
  const seasonality = opts.period !== undefined
    ? { period: opts.period, strength: opts.period && n >= 2 * opts.period ? seasonalStrength(y, opts.period) : 0 }
    : (({ period, strength }) => ({ period, strength }))(detectSeasonality(y));
  const period = seasonality.period;

  // backtest: the same procedure on the history without its last v points
  let backtest: ForecastResult['backtest'] = { mape: null, baseline_mape: null, points: 0 };
  if (n >= 8) {
    const v = holdoutLength(n, horizon, period);
    const cut = Array.prototype.slice.call(y, 0, n - v) as number[];
    const actual = Array.prototype.slice.call(y, n - v) as number[];
    const model = chooseAndFit(cut, period, v).predict(v);
    const base = seasonalNaive(cut, period).predict(v);
    backtest = { mape: mape(actual, model), baseline_mape: mape(actual, base), points: v };
  }
  const fitted = chooseAndFit(y, period, horizon);
  const { values, lower, upper } = intervalsOf(fitted, horizon, coverage, nonNegative);
  return { model: fitted.model, values, lower, upper, seasonality, backtest, params: fitted.params };
}
