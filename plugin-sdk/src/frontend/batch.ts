/**
 * Groups the calls made within a few milliseconds of each other into one: the widgets of a
 * dashboard mount together, and when each asks its plugin for data on its own, a page of
 * twenty widgets sends twenty requests that queue behind the browser's six connections per
 * host and each pay the server's fixed cost (auth, tenant context, serialization). A plugin
 * with a batch route answers them all with one round trip instead.
 *
 * `send` gets the items in the order they were asked, the `via` of the first caller (e.g. its
 * `WidgetContext.request`; every caller's must be interchangeable), and a signal that aborts
 * once every caller of the batch has aborted; it answers one result per item, an `Error` for
 * an item that failed on its own. A call whose signal aborts is rejected with an `AbortError`
 * without disturbing the others.
 */
export interface BatchOptions {
  /** most items in one call of `send` (default 20); more are sent in further batches */
  maxItems?: number;
  /** how long the first call of a batch waits for others (default 10 ms) */
  waitMs?: number;
}

interface Pending<I, O, V> {
  item: I;
  via: V;
  signal?: AbortSignal;
  resolve(value: O): void;
  reject(error: unknown): void;
}

const abortError = () => Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' });

export function createBatcher<I, O, V>(
  send: (items: I[], via: V, signal: AbortSignal) => Promise<Array<O | Error>>,
  opts: BatchOptions = {},
): (item: I, via: V, signal?: AbortSignal) => Promise<O> {
  const maxItems = Math.max(1, opts.maxItems ?? 20);
  const waitMs = opts.waitMs ?? 10;
  let queue: Array<Pending<I, O, V>> = [];
  let timer: ReturnType<typeof setTimeout> | null = null;

  const dispatch = (batch: Array<Pending<I, O, V>>) => {
    const live = batch.filter((p) => !p.signal?.aborted);
    for (const p of batch) if (p.signal?.aborted) p.reject(abortError());
    if (!live.length) return;
    const ac = new AbortController();
    let open = live.length;
    for (const p of live) {
      p.signal?.addEventListener('abort', () => {
        p.reject(abortError());
        if (--open === 0) ac.abort();
      }, { once: true });
    }
    send(live.map((p) => p.item), live[0]!.via, ac.signal).then(
      (results) => live.forEach((p, i) => {
        const r = results[i];
        if (r === undefined) p.reject(new Error('the batch answered fewer results than it was asked'));
        else if (r instanceof Error) p.reject(r);
        else p.resolve(r);
      }),
      (error: unknown) => live.forEach((p) => p.reject(error)),
    );
  };

  const flush = () => {
    timer = null;
    const all = queue;
    queue = [];
    for (let i = 0; i < all.length; i += maxItems) dispatch(all.slice(i, i + maxItems));
  };

  return (item, via, signal) =>
    new Promise<O>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError());
      queue.push({ item, via, signal, resolve, reject });
      if (queue.length >= maxItems) {
        if (timer) clearTimeout(timer);
        flush();
      } else if (!timer) {
        timer = setTimeout(flush, waitMs);
      }
    });
}
