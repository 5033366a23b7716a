import { describe, expect, it } from 'vitest';
import { AnswerCache } from './answerCache.ts';

describe('AnswerCache', () => {
  it('answers from memory until the org’s data changes, per org', async () => {
    const cache = new AnswerCache({ refreshDelayMs: 0 });
    let runs = 0;
    const compute = async () => ({ n: ++runs });
    expect(await cache.get('org-a', 'p', 'k', 60_000, compute)).toMatchObject({ value: { n: 1 }, hit: false });
    expect(await cache.get('org-a', 'p', 'k', 60_000, compute)).toMatchObject({ value: { n: 1 }, hit: true });
    // the same key in another org is another answer
    expect(await cache.get('org-b', 'p', 'k', 60_000, compute)).toMatchObject({ value: { n: 2 }, hit: false });
    cache.changed('org-a');
    expect(await cache.get('org-a', 'p', 'k', 60_000, compute)).toMatchObject({ value: { n: 3 }, hit: false });
    // org-b did not change
    expect(await cache.get('org-b', 'p', 'k', 60_000, compute)).toMatchObject({ value: { n: 2 }, hit: true });
    expect(cache.stats).toEqual({ hits: 2, misses: 3, joined: 0, refreshed: 0 });
  });

  it('does not keep an answer when the data changed while it was computed', async () => {
    const cache = new AnswerCache({ refreshDelayMs: 0 });
    let runs = 0;
    const first = await cache.get('org', 'p', 'k', 60_000, async () => {
      cache.changed('org'); // a commit lands mid-query: the answer may miss it
      return ++runs;
    });
    expect(first).toMatchObject({ value: 1, hit: false });
    expect(await cache.get('org', 'p', 'k', 60_000, async () => ++runs)).toMatchObject({ value: 2, hit: false });
    expect(await cache.get('org', 'p', 'k', 60_000, async () => ++runs)).toMatchObject({ value: 2, hit: true });
  });

  it('forgets answers older than their maximum age, and the least recently used beyond its size', async () => {
    const cache = new AnswerCache({ maxEntries: 2, refreshDelayMs: 0 });
    let runs = 0;
    await cache.get('org', 'p', 'old', 0, async () => ++runs);
    expect((await cache.get('org', 'p', 'old', 0, async () => ++runs)).hit).toBe(false);
    await cache.get('org', 'p', 'a', 60_000, async () => ++runs);
    await cache.get('org', 'p', 'b', 60_000, async () => ++runs);
    await cache.get('org', 'p', 'a', 60_000, async () => ++runs); // a is now the most recent
    await cache.get('org', 'p', 'c', 60_000, async () => ++runs); // b goes
    expect(cache.size).toBe(2);
    expect((await cache.get('org', 'p', 'a', 60_000, async () => ++runs)).hit).toBe(true);
    expect((await cache.get('org', 'p', 'b', 60_000, async () => ++runs)).hit).toBe(false);
  });
});

describe('AnswerCache: answers somebody reads are refreshed after a change', () => {
  /** polls until `cond` holds: the refresh starts on a timer */
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(cond()).toBe(true);
  };
  const deferred = () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  };

  it('recomputes a read answer in the background, and serves it as refreshed', async () => {
    const cache = new AnswerCache({ refreshDelayMs: 5 });
    let data = 1;
    let runs = 0;
    const compute = async () => { runs++; return { data }; };
    await cache.get('org', 'p', 'k', 60_000, compute);
    data = 2;
    cache.changed('org');
    await cache.settled();
    expect(runs).toBe(2);
    expect(cache.stats.refreshed).toBe(1);
    expect(await cache.get('org', 'p', 'k', 60_000, compute)).toEqual({ value: { data: 2 }, hit: true, source: 'refreshed' });
    expect(runs).toBe(2);
    cache.stop();
  });

  it('does not refresh an answer again that nobody read since its last refresh', async () => {
    const cache = new AnswerCache({ refreshDelayMs: 5 });
    let runs = 0;
    const compute = async () => ++runs;
    await cache.get('org', 'p', 'k', 60_000, compute);
    cache.changed('org');
    await cache.settled();
    expect(runs).toBe(2); // read once → refreshed once
    cache.changed('org');
    await cache.settled();
    expect(runs).toBe(2); // the refreshed answer was not read: left to the next request
    expect(await cache.get('org', 'p', 'k', 60_000, compute)).toEqual({ value: 3, hit: false, source: 'computed' });
    // other orgs' answers are not touched by this org's changes
    await cache.get('other', 'p', 'k', 60_000, async () => 'theirs');
    cache.changed('org');
    await cache.settled();
    expect(await cache.get('other', 'p', 'k', 60_000, async () => 'recomputed')).toMatchObject({ value: 'theirs', source: 'remembered' });
    cache.stop();
  });

  it('a request that arrives while its answer is being refreshed waits for it instead of computing it again', async () => {
    const cache = new AnswerCache({ refreshDelayMs: 5 });
    let runs = 0;
    let gate = deferred();
    const compute = async () => { runs++; await gate.promise; return runs; };
    const first = cache.get('org', 'p', 'k', 60_000, compute);
    gate.resolve();
    await first;
    gate = deferred();
    cache.changed('org');
    await until(() => runs === 2); // the refresh has started and waits on the gate
    const joined = cache.get('org', 'p', 'k', 60_000, compute);
    gate.resolve();
    expect(await joined).toEqual({ value: 2, hit: false, source: 'computed' });
    expect(runs).toBe(2);
    expect(cache.stats.joined).toBe(1);
    // two identical requests at once compute once
    cache.changed('org');
    cache.stop(); // no refresh this time
    gate = deferred();
    const a = cache.get('org', 'p', 'k', 60_000, compute);
    const b = cache.get('org', 'p', 'k', 60_000, compute);
    gate.resolve();
    expect((await a).value).toBe(3);
    expect((await b).value).toBe(3);
    expect(runs).toBe(3);
  });

  it('drops a refresh that a newer change overtook, and refreshes again after it', async () => {
    const cache = new AnswerCache({ refreshDelayMs: 5 });
    let data = 1;
    let gate = deferred();
    let runs = 0;
    const compute = async () => { runs++; const seen = data; await gate.promise; return seen; };
    const first = cache.get('org', 'p', 'k', 60_000, compute);
    gate.resolve();
    await first;
    gate = deferred();
    data = 2;
    cache.changed('org');
    await until(() => runs === 2); // refreshing with data 2, held at the gate
    data = 3;
    cache.changed('org'); // lands mid-refresh: the answer for 2 must not be kept
    gate.resolve();
    await cache.settled();
    expect(await cache.get('org', 'p', 'k', 60_000, compute)).toMatchObject({ value: 3, hit: true });
    cache.stop();
  });

  it('fresh skips the remembered answer and replaces it; forget drops an org without refreshing', async () => {
    const cache = new AnswerCache({ refreshDelayMs: 5 });
    let runs = 0;
    const compute = async () => ++runs;
    await cache.get('org', 'p', 'k', 60_000, compute);
    expect(await cache.get('org', 'p', 'k', 60_000, compute, { fresh: true })).toEqual({ value: 2, hit: false, source: 'computed' });
    expect(await cache.get('org', 'p', 'k', 60_000, compute)).toEqual({ value: 2, hit: true, source: 'remembered' });
    cache.forget('org');
    await cache.settled();
    expect(runs).toBe(2);
    expect(cache.size).toBe(0);
    cache.stop();
  });
});

describe('AnswerCache: a plugin that writes moves only its own answers on', () => {
  it('leaves other plugins’ answers remembered, and refreshes its own read ones', async () => {
    const cache = new AnswerCache({ refreshDelayMs: 5 });
    let scores = 1;
    let runs = 0;
    await cache.get('org', 'adoption', 'k', 60_000, async () => { runs++; return scores; });
    await cache.get('org', 'agents', 'k', 60_000, async () => 'agents');
    scores = 2;
    cache.changed('org', 'adoption');
    await cache.settled();
    expect(runs).toBe(2);
    expect(await cache.get('org', 'adoption', 'k', 60_000, async () => -1)).toMatchObject({ value: 2, source: 'refreshed' });
    expect(await cache.get('org', 'agents', 'k', 60_000, async () => 'recomputed')).toMatchObject({ value: 'agents', source: 'remembered' });
    // events move every plugin's answers on
    cache.changed('org');
    expect((await cache.get('org', 'agents', 'k', 60_000, async () => 'recomputed')).value).toBe('recomputed');
    cache.stop();
  });
});
