import { describe, expect, it } from 'vitest';
import { rng } from '@orrery/backend-test-utils/random';
import { slope } from '../bench/ingestServer.ts';

/** the least-squares slope by brute force: the b that minimises the squared error, searched on a fine grid around the answer */
function bruteSlope(pts: Array<[number, number]>): number {
  const sse = (b: number) => {
    const a = pts.reduce((s, [t, y]) => s + y - b * t, 0) / pts.length;
    return pts.reduce((s, [t, y]) => s + (y - a - b * t) ** 2, 0);
  };
  let best = 0, bestErr = Infinity;
  for (let b = -20; b <= 20; b += 0.001) {
    const e = sse(b);
    if (e < bestErr) [best, bestErr] = [b, e];
  }
  return best;
}

describe('the sustained runs’ RSS slope', () => {
  it('is the least-squares slope (against a grid search), skips missing samples, and needs three points', () => {
    const rand = rng(16);
    for (let k = 0; k < 40; k++) {
      const b = Math.round((rand() * 20 - 10) * 100) / 100;
      const pts = Array.from({ length: 3 + Math.floor(rand() * 25) }, (_, i): [number, number] => [i * 10 + rand(), 500 + b * i * 10 + (rand() - 0.5) * 40]);
      expect(slope(pts)).toBeCloseTo(bruteSlope(pts), 2);
      // a sample the server did not answer (NaN) is left out, not counted as zero
      expect(slope([...pts, [999, NaN]])).toBeCloseTo(slope(pts), 10);
    }
    expect(slope([[0, 1], [1, 2]])).toBeNaN();
  });
});
