/**
 * Small numeric helpers shared by the models: gap filling, robust and plain summaries, and
 * the standard normal quantile. Pure functions over plain arrays; no dependencies.
 */

/** Values with gaps (null) filled for the models: linear between neighbours, nearest value at the edges. */
export function fillGaps(values: ReadonlyArray<number | null>): number[] {
  const n = values.length;
  const out = new Array<number>(n);
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    if (prev === -1) for (let j = 0; j < i; j++) out[j] = v;
    else {
      const a = values[prev] as number;
      for (let j = prev + 1; j < i; j++) out[j] = a + ((v - a) * (j - prev)) / (i - prev);
    }
    out[i] = v;
    prev = i;
  }
  if (prev === -1) return values.map(() => 0);
  for (let j = prev + 1; j < n; j++) out[j] = values[prev] as number;
  return out;
}

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return xs.length ? s / xs.length : NaN;
}

/** Population variance (divides by n). */
export function variance(xs: ArrayLike<number>): number {
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i]! - m) ** 2;
  return xs.length ? s / xs.length : NaN;
}

export function median(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n === 0) return NaN;
  const a = Float64Array.from(xs);
  const h = n >> 1;
  const hi = select(a, h);
  if (n % 2) return hi;
  // the lower middle is the largest value left of h after the partition
  let lo = -Infinity;
  for (let i = 0; i < h; i++) if (a[i]! > lo) lo = a[i]!;
  return (lo + hi) / 2;
}

/** The k-th smallest value (0-based), partitioning `a` in place (Hoare's quickselect, median-of-three pivot). */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    // median of three as the pivot: sorted input stays linear
    const x = a[lo]!, y = a[mid]!, z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** Median absolute deviation from the median (unscaled). */
export function mad(xs: ArrayLike<number>, center = median(xs)): number {
  const d = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) d[i] = Math.abs(xs[i]! - center);
  return median(d);
}

/** 1.4826 · MAD estimates the standard deviation of normal data. */
export const MAD_TO_SD = 1.482602218505602;

/**
 * Inverse of the standard normal CDF: Acklam's rational approximation, relative error below
 * 1.2e-9 over (0, 1) — far below what a prediction interval's width needs.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    return NaN;
  }
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  let x: number;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - lo) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  return x;
}

/** Mean absolute percentage error in percent over pairs whose actual is not 0; null when there are none. */
export function mape(actual: ArrayLike<number>, predicted: ArrayLike<number>): number | null {
  let s = 0;
  let k = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    if (a === 0 || !Number.isFinite(a) || !Number.isFinite(predicted[i]!)) continue;
    s += Math.abs((a - predicted[i]!) / a);
    k++;
  }
  return k ? (100 * s) / k : null;
}
