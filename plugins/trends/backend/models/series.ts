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
