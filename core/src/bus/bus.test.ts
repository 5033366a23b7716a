import { describe, expect, it } from 'vitest';
import { inProcessBus } from './bus.ts';

describe('bus messages say which node published them', () => {
  it('carries the publishing bus’s node id, one id per bus', async () => {
    const a = inProcessBus();
    const b = inProcessBus();
    expect(a.node).not.toBe(b.node);
    const got: Array<{ node: string; topic: string }> = [];
    a.subscribe('x.*', (m) => got.push({ node: m.node, topic: m.topic }));
    await a.publish('org', { kind: 'org' }, 'x.one', {});
    await new Promise((r) => setTimeout(r, 0));
    expect(got).toEqual([{ node: a.node, topic: 'x.one' }]);
  });
});
