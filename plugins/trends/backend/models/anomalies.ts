/**
 * Anomalies that account for seasonality: a robust decomposition, then a robust z-score of
 * what it leaves.
 *
 * 1. season length from the ACF (seasonality.ts), when the series holds two seasons;
 * 2. trend = centered running median over one season (7 buckets without a season): a spike
 *    moves a median by at most one rank, where it would drag a mean;
 * 3. season = per-phase median of the detrended values (centered to sum ≈ 0);
 * 4. residual r = value − trend − season, and z = (r − median r) / (1.4826·MAD r): the MAD is
 *    the standard deviation of normal noise, and a handful of spikes barely move it
 *    (Leys et al. 2013, "Detecting outliers: Do not use standard deviation around the mean,
 *    use absolute deviation around the median"). When over half the residuals are equal
 *    (MAD = 0) the mean absolute deviation ·1.2533 stands in.
 * A bucket is an anomaly when |z| > sensitivity (default 3: ~0.27% of normal noise);
 * `expected` = trend + season (+ the residuals' median), the band is expected ± sensitivity·σ̂.
 */
import { detectSeasonality } from './seasonality.ts';
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
  const w = usable ? usable + (usable % 2 === 0 ? 1 : 0) : Math.min(7, n % 2 ? n : n - 1);
  const trend = runningMedian(y, w);
  const season = new Float64Array(n);
  if (usable) {
    const byPhase: number[][] = Array.from({ length: usable }, () => []);
    for (let i = 0; i < n; i++) if (present[i]) byPhase[i % usable]!.push(y[i]! - trend[i]!);
    const idx = byPhase.map((d) => (d.length ? median(d) : 0));
    const c = median(idx);
    for (let i = 0; i < n; i++) season[i] = idx[i % usable]! - c;
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
