/**
 * Statistics of an alternating-blocks comparison (ABAB…): two conditions measured in many short
 * blocks, paired in time, so that a shared machine's slow swings fall on both alike.
 *
 * Latency samples within a block are not independent (a busy minute slows them all), so the
 * confidence interval resamples whole block pairs (a paired block bootstrap), not samples.
 */

/** The p-th percentile (nearest rank) of `xs`. */
export function percentile(xs: ArrayLike<number>, p: number): number {
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** One pair of adjacent blocks: the samples without (`off`) and with (`on`) the change. */
export interface BlockPair {
  off: number[];
  on: number[];
}

const pooled = (blocks: number[][]) => blocks.flat();

/** Pooled percentile of the `on` blocks over that of the `off` blocks. */
export function pooledRatio(pairs: BlockPair[], p: number): number {
  return percentile(pooled(pairs.map((x) => x.on)), p) / percentile(pooled(pairs.map((x) => x.off)), p);
}

/**
 * A/A ratio: the pooled percentile of the `off` blocks of odd pairs over that of even pairs —
 * what the same measurement does with nothing changed, in this run.
 */
export function aaRatio(pairs: BlockPair[], p: number): number {
  const odd = pairs.filter((_, i) => i % 2 === 1).map((x) => x.off);
  const even = pairs.filter((_, i) => i % 2 === 0).map((x) => x.off);
  return percentile(pooled(odd), p) / percentile(pooled(even), p);
}

/**
 * 95 % confidence interval of `pooledRatio` by a paired block bootstrap: draw as many pairs as
 * there are, with replacement, and take the 2.5th and 97.5th percentiles of the ratio.
 */
export function bootstrapRatioCI(pairs: BlockPair[], p: number, rand: () => number, iterations = 2000): [number, number] {
  const ratios: number[] = [];
  for (let k = 0; k < iterations; k++) {
    const draw = Array.from({ length: pairs.length }, () => pairs[Math.floor(rand() * pairs.length)]!);
    ratios.push(pooledRatio(draw, p));
  }
  return [percentile(ratios, 2.5), percentile(ratios, 97.5)];
}

/**
 * The verdict on "unaffected": the ratio is at most `limit` and no larger than noise explains —
 * its 95 % interval includes 1, or it lies within the A/A band. `bounded` is the stronger claim
 * that the interval's upper end is itself at most `limit` (an effect, if any, is below it).
 */
export function unaffected(ratio: number, ci: [number, number], aa: number, limit = 1.1) {
  const band = Math.max(aa, 1 / aa);
  const noise = (ci[0] <= 1 && 1 <= ci[1]) || ratio <= band;
  return { pass: ratio <= limit && noise, bounded: ci[1] <= limit, band };
}
