import { describe, expect, it } from 'vitest';
import { rng } from '@orrery/backend-test-utils/random';
import { aaRatio, bootstrapRatioCI, percentile, pooledRatio, unaffected, type BlockPair } from '../bench/alternating.ts';

/** nearest-rank percentile, written out: the smallest value with at least p % of the values at or below it */
const reference = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.find((x) => s.filter((y) => y <= x).length >= (p / 100) * s.length) ?? s[0]!;
};

const blockOf = (rand: () => number, scale: number, n = 50) => Array.from({ length: n }, () => scale * (10 + Math.floor(rand() * 90)));

describe('alternating-blocks statistics', () => {
  it('percentile is the nearest rank', () => {
    const rand = rng(1);
    for (let k = 0; k < 200; k++) {
      const xs = Array.from({ length: 1 + Math.floor(rand() * 60) }, () => Math.floor(rand() * 20));
      for (const p of [1, 50, 95, 99, 100]) expect(percentile(xs, p)).toBe(reference(xs, p));
    }
  });

  it('pooled and A/A ratios pool the blocks of each side', () => {
    const rand = rng(2);
    const pairs: BlockPair[] = Array.from({ length: 6 }, () => ({ off: blockOf(rand, 1), on: blockOf(rand, 2) }));
    expect(pooledRatio(pairs, 95)).toBe(reference(pairs.flatMap((x) => x.on), 95) / reference(pairs.flatMap((x) => x.off), 95));
    const odd = pairs.filter((_, i) => i % 2 === 1).flatMap((x) => x.off);
    const even = pairs.filter((_, i) => i % 2 === 0).flatMap((x) => x.off);
    expect(aaRatio(pairs, 50)).toBe(reference(odd, 50) / reference(even, 50));
  });

  it('the bootstrap interval holds a doubled side away from 1 and a same-distribution side around 1', () => {
    const rand = rng(3);
    const doubled: BlockPair[] = Array.from({ length: 12 }, () => ({ off: blockOf(rand, 1), on: blockOf(rand, 2) }));
    const [lo] = bootstrapRatioCI(doubled, 95, rng(4), 500);
    expect(lo).toBeGreaterThan(1.5);
    const same: BlockPair[] = Array.from({ length: 12 }, () => ({ off: blockOf(rand, 1), on: blockOf(rand, 1) }));
    const ci = bootstrapRatioCI(same, 95, rng(5), 500);
    expect(ci[0]).toBeLessThanOrEqual(1);
    expect(ci[1]).toBeGreaterThanOrEqual(1);
    // identical pairs leave nothing to resample: the interval is the ratio itself
    const fixed: BlockPair[] = Array.from({ length: 4 }, () => ({ off: [10, 20, 30], on: [15, 30, 45] }));
    expect(bootstrapRatioCI(fixed, 95, rng(6), 50)).toEqual([1.5, 1.5]);
  });

  it('unaffected needs a ratio at most the limit and inside the noise', () => {
    expect(unaffected(1.05, [0.95, 1.2], 1.0).pass).toBe(true);
    expect(unaffected(1.05, [0.95, 1.2], 1.0).bounded).toBe(false);
    expect(unaffected(1.05, [1.02, 1.08], 0.9).pass).toBe(true); // within the A/A band of 1/0.9
    expect(unaffected(1.05, [1.02, 1.08], 1.01).pass).toBe(false); // outside both
    expect(unaffected(1.2, [0.9, 1.5], 1.3).pass).toBe(false); // over the limit
    expect(unaffected(1.02, [0.98, 1.07], 1.0)).toMatchObject({ pass: true, bounded: true });
  });
});
