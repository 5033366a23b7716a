/**
 * Seasonality: the season length from the autocorrelation function and its strength from a
 * classical decomposition.
 *
 * Detection: remove a least-squares line (a trend makes every lag look correlated), clip
 * outliers (winsorized), then
 * take the sample ACF at lags 2…min(n/2, MAX_LAG) and choose the lag with the highest ACF
 * among local peaks above max(PEAK_MIN, 2.5/√n) that the ACF dipped to before (TROUGH_DEPTH); at least two
 * full seasons are needed. A multiple of the season (14 for a weekly one) that edges out the
 * season on noisy data gives way to it (HARMONIC_SHARE). The peak must show in the ACF of the
 * first differences too (DIFF_CONFIRM), which rules out the chance peaks of a random walk.
 *
 * Strength (Wang, Smith & Hyndman 2006; fpp3 §4.3): F_S = max(0, 1 − Var(R) / Var(S + R))
 * from a classical additive decomposition with that period: 0 = no seasonal pattern, 1 = all
 * the detrended variation is seasonal. A peak whose strength is below MIN_STRENGTH is no season.
 */
import { MAD_TO_SD, mad, mean, median, variance } from './series.ts';

export const MAX_LAG = 400;
export const PEAK_MIN = 0.3;
/** how far the ACF must have dipped below a peak before it, for the peak to count */
export const TROUGH_DEPTH = 0.2;
/** a divisor of the best lag wins when its ACF is at least this share of the best's */
export const HARMONIC_SHARE = 0.85;
/** below this seasonal strength a peak is reported as no season */
export const MIN_STRENGTH = 0.3;
/** the ACF of the first differences at the chosen lag must reach this */
export const DIFF_CONFIRM = 0.2;

/** ACF at `lag` of the first differences x_t − x_{t−1}. */
export function lagCorrelationOfDifferences(xs: ArrayLike<number>, lag: number): number {
  const n = xs.length - 1;
  if (n <= lag) return 0;
  const d = new Float64Array(n);
  for (let i = 1; i <= n; i++) d[i - 1] = xs[i]! - xs[i - 1]!;
  const m = mean(d);
  let num = 0;
  let den = 0;
  for (let t = 0; t < n; t++) {
    den += (d[t]! - m) ** 2;
    if (t + lag < n) num += (d[t]! - m) * (d[t + lag]! - m);
  }
  return den > 0 ? num / den : 0;
}

export interface Seasonality {
  period: number | null;
  strength: number;
  /** the ACF at the chosen lag (0 without a period) */
  acf: number;
}

/** Residuals of a least-squares line through (i, x_i). */
export function detrendLinear(xs: ArrayLike<number>): Float64Array {
  const n = xs.length;
  const out = new Float64Array(n);
  if (n === 0) return out;
  const tm = (n - 1) / 2;
  const xm = mean(xs);
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (i - tm) * (xs[i]! - xm);
    sxx += (i - tm) ** 2;
  }
  const slope = sxx ? sxy / sxx : 0;
  for (let i = 0; i < n; i++) out[i] = xs[i]! - (xm + slope * (i - tm));
  return out;
}

/**
 * Sample autocorrelation r_k = Σ (x_t − x̄)(x_{t+k} − x̄) / Σ (x_t − x̄)², k = 0…maxLag.
 * Many lags of a long series go through the FFT (Wiener–Khinchin: the autocovariance is the
 * inverse transform of the power spectrum of the zero-padded series), O(n log n) instead of
 * O(n · lags); the direct sum otherwise. Both give the same numbers to rounding.
 */
export function acf(xs: ArrayLike<number>, maxLag: number): Float64Array {
  const n = xs.length;
  if (n >= 64 && maxLag >= 32) return acfFft(xs, maxLag);
  const m = mean(xs);
  const d = new Float64Array(n);
  let denom = 0;
  for (let i = 0; i < n; i++) {
    d[i] = xs[i]! - m;
    denom += d[i]! * d[i]!;
  }
  const L = Math.min(maxLag, n - 1);
  const r = new Float64Array(L + 1);
  if (denom === 0) return r;
  for (let k = 0; k <= L; k++) {
    let s = 0;
    for (let t = 0; t + k < n; t++) s += d[t]! * d[t + k]!;
    r[k] = s / denom;
  }
  return r;
}

function acfFft(xs: ArrayLike<number>, maxLag: number): Float64Array {
  const n = xs.length;
  const m = mean(xs);
  let size = 1;
  while (size < 2 * n) size <<= 1;
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  for (let i = 0; i < n; i++) re[i] = xs[i]! - m;
  fft(re, im, false);
  for (let i = 0; i < size; i++) {
    re[i] = re[i]! * re[i]! + im[i]! * im[i]!;
    im[i] = 0;
  }
  fft(re, im, true);
  const L = Math.min(maxLag, n - 1);
  const r = new Float64Array(L + 1);
  const denom = re[0]!;
  if (!(denom > 0)) return r;
  for (let k = 0; k <= L; k++) r[k] = re[k]! / denom;
  return r;
}

/** In-place iterative radix-2 FFT (length a power of two); `inverse` without the 1/N scale (the ACF divides it out). */
function fft(re: Float64Array, im: Float64Array, inverse: boolean) {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i]!;
      re[i] = re[j]!;
      re[j] = t;
      t = im[i]!;
      im[i] = im[j]!;
      im[j] = t;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = ((inverse ? 2 : -2) * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let j = 0; j < len / 2; j++) {
        const a = i + j;
        const b = a + len / 2;
        const xr = re[b]! * cr - im[b]! * ci;
        const xi = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - xr;
        im[b] = im[a]! - xi;
        re[a] = re[a]! + xr;
        im[a] = im[a]! + xi;
        const ncr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = ncr;
      }
    }
  }
}

/**
 * Centered moving average of length `period` (a 2×m MA for even m, as classical
 * decomposition uses); NaN where the window does not fit.
 */
export function centeredMovingAverage(xs: ArrayLike<number>, period: number): Float64Array {
  const n = xs.length;
  const out = new Float64Array(n).fill(NaN);
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + xs[i]!;
  const sum = (a: number, b: number) => prefix[b + 1]! - prefix[a]!; // inclusive
  if (period % 2 === 1) {
    const h = (period - 1) / 2;
    for (let i = h; i + h < n; i++) out[i] = sum(i - h, i + h) / period;
  } else {
    const h = period / 2;
    for (let i = h; i + h < n; i++) out[i] = (sum(i - h, i + h) - xs[i - h]! / 2 - xs[i + h]! / 2) / period;
  }
  return out;
}

/** Classical additive decomposition: trend (centered MA), seasonal indices summing to 0, remainder. */
export function classicalDecomposition(xs: ArrayLike<number>, period: number) {
  const n = xs.length;
  const trend = centeredMovingAverage(xs, period);
  const sums = new Float64Array(period);
  const counts = new Float64Array(period);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(trend[i]!)) continue;
    sums[i % period]! += xs[i]! - trend[i]!;
    counts[i % period]!++;
  }
  const idx = new Float64Array(period);
  for (let j = 0; j < period; j++) idx[j] = counts[j] ? sums[j]! / counts[j]! : 0;
  const idxMean = mean(idx);
  for (let j = 0; j < period; j++) idx[j]! -= idxMean;
  const seasonal = new Float64Array(n);
  for (let i = 0; i < n; i++) seasonal[i] = idx[i % period]!;
  return { trend, seasonal, indices: idx };
}

/** F_S = max(0, 1 − Var(R)/Var(S+R)) over the points where the trend is defined. */
export function seasonalStrength(xs: ArrayLike<number>, period: number): number {
  const { trend, seasonal } = classicalDecomposition(xs, period);
  const r: number[] = [];
  const sr: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    if (Number.isNaN(trend[i]!)) continue;
    const detr = xs[i]! - trend[i]!;
    sr.push(detr);
    r.push(detr - seasonal[i]!);
  }
  const vsr = variance(sr);
  if (!(vsr > 0)) return 0;
  return Math.max(0, Math.min(1, 1 - variance(r) / vsr));
}

/**
 * The series with its outliers pulled in: deviations from the least-squares line beyond
 * 6 robust standard deviations (1.4826·MAD) are clipped to that bound (wide, because
 * the MAD of a seasonal series can be small next to its off-days). One spike day of four
 * times the usual volume otherwise dominates the ACF's denominator and hides a clear season.
 */
export function winsorized(xs: ArrayLike<number>): { detrended: Float64Array; clipped: Float64Array } {
  const d = detrendLinear(xs);
  const c = median(d);
  const s = MAD_TO_SD * mad(d, c);
  const clipped = Float64Array.from(xs as ArrayLike<number>);
  if (!(s > 0)) return { detrended: d, clipped };
  for (let i = 0; i < d.length; i++) {
    const lim = Math.max(c - 6 * s, Math.min(c + 6 * s, d[i]!));
    clipped[i] = clipped[i]! + (lim - d[i]!);
    d[i] = lim;
  }
  return { detrended: d, clipped };
}

export function detectSeasonality(xs: ArrayLike<number>, opts: { maxLag?: number } = {}): Seasonality {
  const n = xs.length;
  const maxLag = Math.min(opts.maxLag ?? MAX_LAG, Math.floor(n / 2));
  if (maxLag < 2) return { period: null, strength: 0, acf: 0 };
  const { detrended, clipped } = winsorized(xs);
  xs = clipped;
  const r = acf(detrended, maxLag + 1);
  // the ACF of noise has a standard error of about 1/√n: a short series needs a taller peak
  const minPeak = Math.max(PEAK_MIN, 2.5 / Math.sqrt(n));
  const peaks: number[] = [];
  let trough = r[1] ?? 0;
  for (let k = 2; k <= maxLag && k + 1 < r.length; k++) {
    trough = Math.min(trough, r[k]!);
    // a real season dips between lag 1 and itself; a slowly decaying ACF (random walk, a
    // curved trend) only wiggles, and its wiggles are not seasons
    if (r[k]! < minPeak || r[k]! <= r[k - 1]! || r[k]! < r[k + 1]! || r[k]! - trough < TROUGH_DEPTH) continue;
    peaks.push(k);
  }
  let best = -1;
  for (const k of peaks) if (best === -1 || r[k]! > r[best]!) best = k;
  // a multiple of the season (14 for a weekly one) can edge out the season itself on noisy
  // data: the shortest peak that divides the best one and nearly matches it is the season
  if (best !== -1) {
    for (const k of peaks) {
      if (k < best && best % k === 0 && r[k]! >= HARMONIC_SHARE * r[best]!) {
        best = k;
        break;
      }
    }
  }
  if (best === -1) return { period: null, strength: 0, acf: 0 };
  // a random walk wanders around any line, and its ACF can show a peak by chance; its
  // changes are noise, while a season survives differencing: confirm on the differences
  if (lagCorrelationOfDifferences(xs, best) < DIFF_CONFIRM) return { period: null, strength: 0, acf: 0 };
  const strength = seasonalStrength(xs, best);
  // a pattern that explains little of the variation is not worth modelling (nor reporting)
  if (strength < MIN_STRENGTH) return { period: null, strength: 0, acf: 0 };
  return { period: best, strength, acf: r[best]! };
}
