/**
 * Leading + trailing throttle that hands the callback every item collected since its last
 * call. A busy org can publish hundreds of bus messages a second; widgets must re-render at
 * most a few times a second without dropping the information that something arrived.
 */
export interface Throttled<T> {
  push(item: T): void;
  cancel(): void;
}

export function throttleBatch<T>(
  fn: (batch: T[]) => void,
  intervalMs: number,
  clock: { now(): number; setTimeout(cb: () => void, ms: number): unknown; clearTimeout(h: unknown): void } = {
    now: () => Date.now(),
    setTimeout: (cb, ms) => setTimeout(cb, ms),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  },
): Throttled<T> {
  let last = -Infinity;
  let pending: T[] = [];
  let timer: unknown = null;
  const flush = () => {
    timer = null;
    if (pending.length === 0) return;
    last = clock.now();
    const batch = pending;
    pending = [];
    fn(batch);
  };
  return {
    push(item) {
      pending.push(item);
      if (timer !== null) return;
      const wait = last + intervalMs - clock.now();
      if (wait <= 0) flush();
      else timer = clock.setTimeout(flush, wait);
    },
    cancel() {
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
      pending = [];
    },
  };
}
