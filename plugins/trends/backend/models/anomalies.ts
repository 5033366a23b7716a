/**
 * Anomalies that account for seasonality: a robust decomposition, then a robust z-score of
 * what it leaves.
 *
 * 1. season length from the ACF (seasonality.ts), when the series holds two seasons;
 * 2. robust decomposition in two passes: a first season from per-phase medians around a
 *    moving average; a robust trend as the running median (one season wide) of the
 *    deseasonalized series; points that stand out from those are replaced by their
 *    expectation, and the final trend is the centered moving average (2×m for an even m,
 *    which cancels the season exactly; continued linearly past the ends) of that cleaned
 *    series (each point left out of its own average), the final season its per-phase means —
 *    the robustness pass of STL (Cleveland et al. 1990) in its simplest form. Without a
 *    season: a running median over 7 buckets;
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

/**
 * Centered running median with the window cut at the ends (window odd). `excludeCenter`
 * leaves each point out of its own window: otherwise the point is its own median one time in
 * `window`, its residual is then exactly 0, and the MAD of the residuals comes out too small
 * (noise alone was flagged at 2% instead of 0.27% with a 7-wide window).
 */
export function runningMedian(xs: ArrayLike<number>, window: number, excludeCenter = false): Float64Array {
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
    const leaveOut = excludeCenter && sorted.length > 1;
    if (leaveOut) remove(xs[i]!);
    const k = sorted.length;
    out[i] = k % 2 ? sorted[k >> 1]! : (sorted[(k >> 1) - 1]! + sorted[k >> 1]!) / 2;
    if (leaveOut) insert(xs[i]!);
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
  let trend: Float64Array;
  let season: Float64Array;
  if (usable) {
    // 1. a first season from the moving-average trend (per-phase medians shrug off spikes)
    const s0 = phaseMedians(y, maTrend(y, usable), present, usable);
    // 2. a robust trend: the running median of the deseasonalized series (of the raw series
    //    a spike would shift the median by one rank of the season's values: a jump)
    const deseason = Float64Array.from(y, (v, i) => v - s0[i]!);
    const t1 = runningMedian(deseason, usable + (usable % 2 === 0 ? 1 : 0), true);
    // 3. what stands out from that is replaced by its expectation…
    const first = residuals(y, t1, s0, present);
    const cleaned = Float64Array.from(y);
    for (let i = 0; i < n; i++) {
      if (first.scale > 0 && Math.abs((first.r[i]! - first.center) / first.scale) > k) cleaned[i] = t1[i]! + s0[i]! + first.center;
    }
    // 4. …and the final trend is the moving average of the cleaned series: smooth, blind to spikes
    const ma = maTrend(cleaned, usable);
    // the cleaned series has no spikes left: per-phase means are safe there, and steadier than medians
    season = phaseMeans(cleaned, ma, present, usable);
    // each point's expectation leaves the point out of its own moving average (its weight in
    // the window is 1 of `usable`), so a bucket is judged against its neighbours only: noise
    // alone was flagged at ~0.5% with the point in, ~0.1% without. Where the window does not
    // fit (the ends, continued linearly) the point is not in it anyway.
    const h = Math.floor(usable / 2);
    trend = Float64Array.from(ma, (t, i) => (i >= h && i < n - h && cleaned[i] === y[i] ? (usable * t - y[i]!) / (usable - 1) : t));
  } else {
    trend = runningMedian(y, Math.min(7, n % 2 ? n : n - 1), true);
    season = new Float64Array(n);
  }
  const { r, center, scale } = residuals(y, trend, season, present);
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

/** Moving-average trend, continued past the ends along the slope of its first and last season. */
function maTrend(y: ArrayLike<number>, period: number): Float64Array {
  const t = centeredMovingAverage(y, period);
  let first = -1;
  let last = -1;
  for (let i = 0; i < t.length; i++) if (!Number.isNaN(t[i]!)) {
    if (first === -1) first = i;
    last = i;
  }
  if (first === -1) return runningMedian(y, Math.min(7, y.length % 2 ? y.length : y.length - 1));
  const span = Math.min(period, last - first);
  const headSlope = span > 0 ? (t[first + span]! - t[first]!) / span : 0;
  const tailSlope = span > 0 ? (t[last]! - t[last - span]!) / span : 0;
  for (let i = 0; i < first; i++) t[i] = t[first]! - (first - i) * headSlope;
  for (let i = last + 1; i < t.length; i++) t[i] = t[last]! + (i - last) * tailSlope;
  return t;
}

/** Per-phase medians of the detrended values, centered on their median, repeated over the series. */
function phaseMedians(y: ArrayLike<number>, trend: Float64Array, present: boolean[], period: number): Float64Array {
  const n = y.length;
  const byPhase: number[][] = Array.from({ length: period }, () => []);
  for (let i = 0; i < n; i++) if (present[i]) byPhase[i % period]!.push(y[i]! - trend[i]!);
  const idx = byPhase.map((d) => (d.length ? median(d) : 0));
  const c = median(idx);
  const season = new Float64Array(n);
  for (let i = 0; i < n; i++) season[i] = idx[i % period]! - c;
  return season;
}

/** Per-phase means of the detrended values, centered on their mean, repeated over the series. */
function phaseMeans(y: ArrayLike<number>, trend: Float64Array, present: boolean[], period: number): Float64Array {
  const n = y.length;
  const sums = new Float64Array(period);
  const counts = new Float64Array(period);
  for (let i = 0; i < n; i++) {
    if (!present[i]) continue;
    sums[i % period]! += y[i]! - trend[i]!;
    counts[i % period]!++;
  }
  const idx = Array.from(sums, (s, j) => (counts[j] ? s / counts[j]! : 0));
  const c = idx.reduce((a, b) => a + b, 0) / period;
  const season = new Float64Array(n);
  for (let i = 0; i < n; i++) season[i] = idx[i % period]! - c;
  return season;
}

/** Residuals and their robust center and scale (1.4826·MAD; the mean absolute deviation when MAD = 0). */
function residuals(y: ArrayLike<number>, trend: Float64Array, season: Float64Array, present: boolean[]) {
  const n = y.length;
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
  return { r, center, scale };
}
