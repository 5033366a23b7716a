/** Background work the host started (job runs, bus handlers), so a shutdown can wait for it. */
export class InFlight {
  stopping = false;
  private running = new Set<Promise<unknown>>();

  track<T>(pr: Promise<T>) {
    this.running.add(pr);
    pr.finally(() => this.running.delete(pr));
    return pr;
  }

  /** No new work starts; resolves when what is running has settled. */
  async drain() {
    this.stopping = true;
    await Promise.allSettled([...this.running]);
  }
}
