import { describe, expect, it } from 'vitest';
import { normalQuantile } from './normal.ts';
import { seededRandom } from './random.ts';

/** Φ by numerical integration of the density (Simpson's rule from 0): a reference independent of the approximation. */
function normalCdfByIntegration(z: number): number {
  const n = 20_000;
  const h = z / n;
  const pdf = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
  let s = pdf(0) + pdf(z);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * pdf(i * h);
  return 0.5 + (s * h) / 3;
}

describe('normalQuantile', () => {
  it('inverts the normal CDF over the whole range, tails included', () => {
    const rnd = seededRandom(7);
    const ps = [1e-9, 1e-6, 0.001, 0.02, 0.02425, 0.025, 0.5, 0.975, 0.97575, 0.999, 1 - 1e-6];
    for (let i = 0; i < 200; i++) ps.push(rnd());
    for (const p of ps) {
      const back = normalCdfByIntegration(normalQuantile(p));
      // absolute everywhere (the reference's own cancellation in the far tails), relative where it is sharp
      expect(Math.abs(back - p)).toBeLessThan(1e-9);
      if (Math.min(p, 1 - p) > 1e-3) expect(Math.abs(back - p) / Math.min(p, 1 - p)).toBeLessThan(1e-6);
    }
  });

  it('is antisymmetric about one half and increasing', () => {
    const rnd = seededRandom(11);
    let prev = -Infinity;
    for (let i = 1; i < 1000; i++) {
      const p = i / 1000;
      const z = normalQuantile(p);
      expect(z).toBeGreaterThan(prev);
      prev = z;
      const q = rnd();
      expect(normalQuantile(q) + normalQuantile(1 - q)).toBeCloseTo(0, 7);
    }
  });

  it('matches the printed tables', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963985, 8);
    expect(normalQuantile(0.95)).toBeCloseTo(1.644853627, 8);
    expect(normalQuantile(0.995)).toBeCloseTo(2.575829304, 8);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306, 8);
  });

  it('answers the ends and rejects what is not a probability', () => {
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(-0.1)).toBeNaN();
    expect(normalQuantile(1.5)).toBeNaN();
    expect(normalQuantile(Number.NaN)).toBeNaN();
  });
});
