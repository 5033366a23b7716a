/**
 * A small seeded generator (mulberry32): the same seed draws the same numbers in [0, 1), like
 * Math.random. For repeatable data: demo data, sampling a plugin wants stable across runs,
 * and tests and benches (`@orrery/backend-test-utils/random` re-exports it as `rng`).
 * Not for anything secret.
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
