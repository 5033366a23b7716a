/**
 * Cooperative slicing of a round. The embedded PostgreSQL (PGlite) runs every statement on
 * the event loop's thread, and so does the round's own JavaScript: a round that runs its
 * work back to back holds the thread for its whole length, and an HTTP request arriving
 * meanwhile waits for all of it. `pause()` gives the loop a turn (`setImmediate`: pending
 * I/O callbacks and timers run first) once the work since the last turn exceeds a small
 * budget, so requests interleave with the round instead of queueing behind it.
 */
export interface Slicer {
  /** yields to the event loop when more than the budget has run since the last turn */
  pause(): Promise<void>;
}

/** a dashboard request waits at most about this long for a round's slice (one statement may overrun it) */
export const SLICE_BUDGET_MS = 4;

export const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export function slicer(budgetMs = SLICE_BUDGET_MS): Slicer {
  let since = performance.now();
  return {
    async pause() {
      if (performance.now() - since < budgetMs) return;
      await yieldToLoop();
      since = performance.now();
    },
  };
}
