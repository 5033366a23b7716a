/**
 * Anomalies that account for seasonality: a robust decomposition, then a robust z-score of
 * what it leaves.
 *
 * 1. season length from the ACF (seasonality.ts), when the series holds two seasons;
 * 2. trend = centered moving average over one season (a 2×m average for an even m, which
 *    cancels the season exactly; the ends carry the nearest value), season = per-phase median
 *    of the detrended values; then once more with the points the first pass flagged replaced
 *    by their expected value, so a spike does not pull its neighbours' trend (the robustness
 *    pass of STL, Cleveland et al. 1990, in its simplest form). Without a season the trend is
 *    a running median over 7 buckets (a spike moves a median by one rank at most);
 * 3. residual r = value − trend − season, and z = (r − median r) / (1.4826·MAD r): the MAD is
 *    the standard deviation of normal noise, and a handful of spikes barely move it
 *    (Leys et al. 2013, "Detecting outliers: Do not use standard deviation around the mean,
 *    use absolute deviation around the median"). When over half the residuals are equal
 *    (MAD = 0) the mean absolute deviation ·1.2533 stands in.
 * A bucket is an anomaly when |z| > sensitivity (default 3: ~0.27% of normal noise);
 * `expected` = trend + season (+ the residuals' median), the band is expected ± sensitivity·σ̂.
 */
import { centeredMovingAverage, detectSeasonality } from './seasonality.ts';
import { MAD_TO_SD, fillGaps, mad, median } from './series.ts';

export interface AnomalyResult {
  expected: Array<number | null>;
  lower: Array<number | null>;
  upper: Array<number | null>;
  anomaly: boolean[];
  score: Array<number | null>;
  period: number | null;
}

/** Centered running median with the window cut at the ends (window odd). */
export function runningMedian(xs: ArrayLike<number>, window: number): Float64Array {
  const n = xs.length;
  const h = Math.floor(window / 2);
  const out = new Float64Array(n);
  const sorted: number[] = [];
  const insert = (v: number) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    sorted.splice(lo, 0, v);
  };
  const remove = (v: number) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    sorted.splice(lo, 1);
  };
  for (let j = 0; j <= Math.min(h, n - 1); j++) insert(xs[j]!);
  for (let i = 0; i < n; i++) {
    const k = sorted.length;
    out[i] = k % 2 ? sorted[k >> 1]! : (sorted[(k >> 1) - 1]! + sorted[k >> 1]!) / 2;
    if (i + h + 1 < n) insert(xs[i + h + 1]!);
    if (i - h >= 0) remove(xs[i - h]!);
  }
  return out;
}

export function detectAnomalies(values: ReadonlyArray<number | null>, opts: { sensitivity?: number; period?: number | null } = {}): AnomalyResult {
  const n = values.length;
  const k = opts.sensitivity ?? 3;
  const present = values.map((v) => v !== null && Number.isFinite(v));
  const known = values.filter((_, i) => present[i]) as number[];
  const res: AnomalyResult = {
    expected: new Array(n).fill(null),
    lower: new Array(n).fill(null),
    upper: new Array(n).fill(null),
    anomaly: new Array(n).fill(false),
    score: new Array(n).fill(null),
    period: null,
  };
  if (known.length === 0) return res;
  if (known.length < 4) {
    // too few values to tell noise from an anomaly: the median is the expectation, no band
    const m = median(known);
    for (let i = 0; i < n; i++) res.expected[i] = m;
    return res;
  }
  const y = fillGaps(values);
  const period = opts.period !== undefined ? opts.period : detectSeasonality(y).period;
  const usable = period && period >= 2 && n >= 2 * period ? period : null;
  res.period = usable;
  let { trend, season, r, center, scale } = decompose(y, present, usable);
  if (usable) {
    // second pass: flagged points replaced by what the first pass expected
    const cleaned = Float64Array.from(y);
    let changed = false;
    for (let i = 0; i < n; i++) {
      if (scale > 0 && Math.abs((r[i]! - center) / scale) > k) {
        cleaned[i] = trend[i]! + season[i]! + center;
        changed = true;
      }
    }
    if (changed) {
      const t2 = decompose(cleaned, present, usable).trend;
      ({ trend, season, r, center, scale } = decompose(y, present, usable, t2));
    }
  }
  for (let i = 0; i < n; i++) {
    const expected = trend[i]! + season[i]! + center;
    res.expected[i] = expected;
    res.lower[i] = expected - k * scale;
    res.upper[i] = expected + k * scale;
    if (!present[i]) continue;
    const z = scale > 0 ? (r[i]! - center) / scale : 0;
    res.score[i] = Math.abs(z);
    res.anomaly[i] = Math.abs(z) > k;
  }
  return res;
}

/** Moving-average trend with the ends carried flat from the nearest defined value. */
function maTrend(y: ArrayLike<number>, period: number): Float64Array {
  const t = centeredMovingAverage(y, period);
  let first = -1;
  let last = -1;
  for (let i = 0; i < t.length; i++) if (!Number.isNaN(t[i]!)) {
    if (first === -1) first = i;
    last = i;
  }
  if (first === -1) return runningMedian(y, Math.min(7, y.length % 2 ? y.length : y.length - 1));
  for (let i = 0; i < first; i++) t[i] = t[first]!;
  for (let i = last + 1; i < t.length; i++) t[i] = t[last]!;
  return t;
}

/** Trend, per-phase median season, residuals and their robust center and scale. */
function decompose(y: ArrayLike<number>, present: boolean[], period: number | null, trendIn?: Float64Array) {
  const n = y.length;
  const trend = trendIn ?? (period ? maTrend(y, period) : runningMedian(y, Math.min(7, n % 2 ? n : n - 1)));
  const season = new Float64Array(n);
  if (period) {
    const byPhase: number[][] = Array.from({ length: period }, () => []);
    for (let i = 0; i < n; i++) if (present[i]) byPhase[i % period]!.push(y[i]! - trend[i]!);
    const idx = byPhase.map((d) => (d.length ? median(d) : 0));
    const c = median(idx);
    for (let i = 0; i < n; i++) season[i] = idx[i % period]! - c;
  }
  const resid: number[] = [];
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    r[i] = y[i]! - trend[i]! - season[i]!;
    if (present[i]) resid.push(r[i]!);
  }
  const center = median(resid);
  let scale = MAD_TO_SD * mad(resid, center);
  if (!(scale > 0)) {
    let s = 0;
    for (const x of resid) s += Math.abs(x - center);
    scale = (s / resid.length) * 1.2533141373155001;
  }
  // a spread at the edge of floating-point resolution is rounding, not variation
  let maxAbs = 0;
  for (let i = 0; i < n; i++) maxAbs = Math.max(maxAbs, Math.abs(y[i]!));
  if (!(scale > 1e-12 * maxAbs) || !Number.isFinite(1 / scale)) scale = 0;
  return { trend, season, r, center, scale };
}
