/** Synthetic series for the tests and the bench: trend + weekly season + normal noise (+ spikes), from a seed. */
import { mulberry32 } from '../backend/models/random.ts';

export function gaussian(rand: () => number): () => number {
  return () => {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

export interface SyntheticSpec {
  n: number;
  level: number;
  slope: number;
  period: number;
  amplitude: number;
  noise: number;
  seed: number;
}

/** y_t = level + slope·t + amplitude·pattern[t mod period] + noise·N(0,1); the pattern is random, zero-mean, max |1|. */
export function synthetic(spec: SyntheticSpec): { values: number[]; truth: number[]; pattern: number[] } {
  const rand = mulberry32(spec.seed);
  const z = gaussian(rand);
  const raw = Array.from({ length: spec.period }, () => rand() * 2 - 1);
  const m = raw.reduce((a, b) => a + b, 0) / spec.period;
  const centered = raw.map((x) => x - m);
  const top = Math.max(...centered.map(Math.abs)) || 1;
  const pattern = centered.map((x) => x / top);
  const truth = Array.from({ length: spec.n }, (_, t) => spec.level + spec.slope * t + spec.amplitude * pattern[t % spec.period]!);
  return { values: truth.map((x) => x + spec.noise * z()), truth, pattern };
}
