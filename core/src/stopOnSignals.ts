/**
 * How `npm start` stops: the first SIGINT or SIGTERM closes the platform cleanly (the HTTP
 * server, the loader's drain, the stores); a second one while that runs ends the process at
 * once, as people expect from a second Ctrl-C. Nothing answered is lost either way: an event is
 * in the durable log before its 2xx and is loaded on the next start. The forced end is SIGKILL
 * to the process itself, not `process.exit`: exit handlers can wait on the embedded
 * ClickHouse, which is what a stuck stop may be waiting on.
 */
export function stopOnSignals(close: () => Promise<void>, say: (line: string) => void = console.log): void {
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (stopping) {
        say(`orrery: second ${sig} — ending now without finishing the stop (answered events are in the durable log and load on the next start)`);
        process.kill(process.pid, 'SIGKILL');
        return;
      }
      stopping = true;
      say(`orrery: ${sig} — stopping (send it again to end at once)`);
      close()
        .then(() => process.exit(0))
        .catch((err) => {
          console.error(`orrery: unclean stop: ${(err as Error).message}`);
          process.exit(1);
        });
    });
  }
}
