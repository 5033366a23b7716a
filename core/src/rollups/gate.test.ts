/** The read/publish gate of the rollup service: a publish never overlaps a read. */
import { describe, expect, it } from 'vitest';
import { Gate } from './service.ts';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('rollup gate', () => {
  it('lets a publish wait for the reads in flight and holds new reads until it is done', async () => {
    const gate = new Gate();
    const log: string[] = [];
    const r1 = gate.read(async () => { log.push('r1 start'); await tick(20); log.push('r1 end'); });
    await tick(1);
    const w = gate.write(async () => { log.push('w start'); await tick(20); log.push('w end'); });
    await tick(1);
    const r2 = gate.read(async () => { log.push('r2 start'); log.push('r2 end'); });
    await Promise.all([r1, w, r2]);
    expect(log).toEqual(['r1 start', 'r1 end', 'w start', 'w end', 'r2 start', 'r2 end']);
  });

  it('runs a read nested in a read at once, even with a publish waiting (no deadlock)', async () => {
    const gate = new Gate();
    const log: string[] = [];
    const outer = gate.read(async () => {
      await tick(10); // a publish arrives meanwhile and waits for this read
      await gate.read(async () => log.push('inner'));
      log.push('outer end');
    });
    await tick(1);
    const w = gate.write(async () => log.push('publish'));
    await Promise.all([outer, w]);
    expect(log).toEqual(['inner', 'outer end', 'publish']);
  });

  it('passes a failure of the reader on and stays usable', async () => {
    const gate = new Gate();
    await expect(gate.read(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(gate.write(async () => 'ok')).resolves.toBe('ok');
    await expect(gate.read(async () => 'read')).resolves.toBe('read');
  });
});
