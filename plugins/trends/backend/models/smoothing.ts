/**
 * Moving averages exactly as API.md → "Trends" defines them:
 * - SMA: the mean of the last `window` values;
 * - EMA: α = 2/(window+1), seeded with the first value, smoothed from the first value on;
 * - WMA: weights 1…window over the last `window` values, the newest heaviest.
 * SMA and WMA are null until `window` values exist.
 *
 * Gaps: a bucket without a value (null) is not a zero. It gets a null `smoothed` and is
 * skipped: the window holds the last `window` values that exist, and EMA carries its state
 * over the gap. A metrics query answers 0 for empty count/users/sum buckets, so gaps come
 * only from measures that have no value without events (avg, pXX, rate).
 */
export type Method = 'sma' | 'ema' | 'wma';

export function smoothValues(values: ReadonlyArray<number | null>, method: Method, window: number): Array<number | null> {
  if (!Number.isInteger(window) || window < 1) throw new RangeError(`window must be a positive integer, got ${window}`);
  const out: Array<number | null> = new Array(values.length).fill(null);
  if (method === 'ema') {
    const alpha = 2 / (window + 1);
    let s: number | null = null;
    values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return;
      s = s === null ? v : alpha * v + (1 - alpha) * s;
      out[i] = s;
    });
    return out;
  }
  // ring of the last `window` values that exist; running sums keep each step O(1)
  const ring = new Float64Array(window);
  let count = 0;
  let sum = 0; // Σ values in the ring
  let wsum = 0; // Σ weight·value, newest weight = window
  const wTotal = (window * (window + 1)) / 2;
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) return;
    const slot = count % window;
    if (count >= window) {
      const oldest = ring[slot]!;
      // every value's weight drops by one, the oldest (weight 1) leaves, the new one enters at `window`
      wsum = wsum - sum + window * v;
      sum = sum - oldest + v;
    } else {
      // while filling, weights are 1…count+1 with the newest heaviest
      wsum = wsum + (count + 1) * v;
      sum += v;
    }
    ring[slot] = v;
    count++;
    if (count >= window) out[i] = method === 'sma' ? sum / window : wsum / wTotal;
  });
  return out;
}
