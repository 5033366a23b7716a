import { describe, expect, it } from 'vitest';
import { createBatcher } from './batch.ts';

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

describe('createBatcher', () => {
  it('sends the calls of one moment together, in order, with the first caller\'s via, and answers each its own result', async () => {
    const sent: Array<{ items: number[]; via: string }> = [];
    const ask = createBatcher<number, number, string>(async (items, via) => {
      sent.push({ items, via });
      return items.map((n) => (n < 0 ? new Error(`bad ${n}`) : n * 10));
    });
    const answers = await Promise.allSettled([ask(1, 'a'), ask(-2, 'b'), ask(3, 'c')]);
    expect(sent).toEqual([{ items: [1, -2, 3], via: 'a' }]);
    expect(answers.map((a) => (a.status === 'fulfilled' ? a.value : (a.reason as Error).message))).toEqual([10, 'bad -2', 30]);
    // a later call is a new batch
    expect(await ask(4, 'd')).toBe(40);
    expect(sent).toHaveLength(2);
  });

  it('splits at maxItems and rejects every member when the send fails', async () => {
    const sizes: number[] = [];
    const ask = createBatcher<number, number, null>(async (items) => {
      sizes.push(items.length);
      if (items.includes(99)) throw new Error('down');
      return items;
    }, { maxItems: 3 });
    const got = await Promise.allSettled([1, 2, 3, 4, 5, 99, 7].map((n) => ask(n, null)));
    expect(sizes).toEqual([3, 3, 1]);
    expect(got.map((g) => g.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled']);
  });

  it('drops a caller that aborts without disturbing the others, and aborts the request only when all have', async () => {
    const signals: AbortSignal[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const ask = createBatcher<number, number, null>(async (items, _via, signal) => {
      signals.push(signal);
      // the first batch waits for the test; later ones never answer (only an abort ends them)
      if (signals.length === 1) await gate;
      else await new Promise(() => undefined);
      return items;
    });
    const early = new AbortController();
    early.abort();
    await expect(ask(0, null, early.signal)).rejects.toMatchObject({ name: 'AbortError' });

    const one = new AbortController();
    const two = new AbortController();
    const a = ask(1, null, one.signal);
    const b = ask(2, null, two.signal);
    const c = ask(3, null);
    await tick();
    one.abort();
    await expect(a).rejects.toMatchObject({ name: 'AbortError' });
    expect(signals[0]!.aborted).toBe(false);
    release();
    expect(await Promise.all([b, c])).toEqual([2, 3]);

    // every caller gone: the request's own signal aborts
    const x = new AbortController();
    const y = new AbortController();
    const gone = [ask(4, null, x.signal), ask(5, null, y.signal)].map((p) => p.catch((e: Error) => e.name));
    await tick();
    x.abort();
    y.abort();
    expect(await Promise.all(gone)).toEqual(['AbortError', 'AbortError']);
    expect(signals[1]!.aborted).toBe(true);
  });

  it('sends an answer that is missing a result as an error for that caller', async () => {
    const ask = createBatcher<number, number, null>(async (items) => items.slice(1));
    const got = await Promise.allSettled([ask(1, null), ask(2, null)]);
    expect(got[0]).toMatchObject({ status: 'fulfilled', value: 2 });
    expect(got[1]!.status).toBe('rejected');
  });
});
