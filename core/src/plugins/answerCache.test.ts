import { describe, expect, it } from 'vitest';
import { AnswerCache } from './answerCache.ts';

describe('AnswerCache', () => {
  it('answers from memory until the org’s data changes, per org', async () => {
    const cache = new AnswerCache();
    let runs = 0;
    const compute = async () => ({ n: ++runs });
    expect(await cache.get('org-a', 'k', 60_000, compute)).toEqual({ value: { n: 1 }, hit: false });
    expect(await cache.get('org-a', 'k', 60_000, compute)).toEqual({ value: { n: 1 }, hit: true });
    // the same key in another org is another answer
    expect(await cache.get('org-b', 'k', 60_000, compute)).toEqual({ value: { n: 2 }, hit: false });
    cache.changed('org-a');
    expect(await cache.get('org-a', 'k', 60_000, compute)).toEqual({ value: { n: 3 }, hit: false });
    // org-b did not change
    expect(await cache.get('org-b', 'k', 60_000, compute)).toEqual({ value: { n: 2 }, hit: true });
    expect(cache.stats).toEqual({ hits: 2, misses: 3 });
  });

  it('does not keep an answer when the data changed while it was computed', async () => {
    const cache = new AnswerCache();
    let runs = 0;
    const first = await cache.get('org', 'k', 60_000, async () => {
      cache.changed('org'); // a commit lands mid-query: the answer may miss it
      return ++runs;
    });
    expect(first).toEqual({ value: 1, hit: false });
    expect(await cache.get('org', 'k', 60_000, async () => ++runs)).toEqual({ value: 2, hit: false });
    expect(await cache.get('org', 'k', 60_000, async () => ++runs)).toEqual({ value: 2, hit: true });
  });

  it('forgets answers older than their maximum age, and the least recently used beyond its size', async () => {
    const cache = new AnswerCache({ maxEntries: 2 });
    let runs = 0;
    await cache.get('org', 'old', 0, async () => ++runs);
    expect((await cache.get('org', 'old', 0, async () => ++runs)).hit).toBe(false);
    await cache.get('org', 'a', 60_000, async () => ++runs);
    await cache.get('org', 'b', 60_000, async () => ++runs);
    await cache.get('org', 'a', 60_000, async () => ++runs); // a is now the most recent
    await cache.get('org', 'c', 60_000, async () => ++runs); // b goes
    expect(cache.size).toBe(2);
    expect((await cache.get('org', 'a', 60_000, async () => ++runs)).hit).toBe(true);
    expect((await cache.get('org', 'b', 60_000, async () => ++runs)).hit).toBe(false);
  });
});
