/**
 * The invocations notice: what a burst of committed invocations adds up to, against sums
 * recomputed here from random events (timestamps in several zones, failures, more agents than
 * a notice names), and how bursts are coalesced into one notice per window.
 */
import { describe, expect, it } from 'vitest';
import type { StoredEvent, TenantContext } from '@orrery/plugin-sdk';
import { rng } from '@orrery/backend-test-utils/random';
import { InvocationPublisher, type InvocationsNotice } from '../backend/live.ts';

function context(orgId: string, sent: InvocationsNotice[]): TenantContext {
  return { org: { id: orgId }, bus: { publish: async (_topic: string, n: InvocationsNotice) => void sent.push(structuredClone(n)) }, logger: { warn() {} } } as unknown as TenantContext;
}

const zoned = (ms: number, offsetMin: number) => {
  const local = new Date(ms + offsetMin * 60_000).toISOString().slice(0, 23);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
};

describe('invocations notice', () => {
  it('sums invocations, failures and agents, and names the newest timestamp, as the events say', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rand = rng(seed);
      const sent: InvocationsNotice[] = [];
      const pub = new InvocationPublisher(60_000);
      const ctx = context('org-1', sent);
      const agents = Array.from({ length: 1 + Math.floor(rand() * 130) }, (_, i) => `agent-${i}`);
      const events: StoredEvent[] = [];
      const base = Date.parse('2026-11-01T00:00:00Z');
      for (let i = 0; i < 1 + Math.floor(rand() * 400); i++) {
        const ms = base + Math.floor(rand() * 86_400_000);
        events.push({ event_id: `e${i}`, event_type: 'agent_invocation', action: '', org_id: 'org-1', department_id: '', user_id: 'u', session_id: 's', timestamp: zoned(ms, [0, 120, -330, 345][Math.floor(rand() * 4)]!), agent_name: agents[Math.floor(rand() * agents.length)], status: rand() < 0.2 ? 'failure' : 'success' });
      }
      // the first batch goes out at once; the rest wait for the window and are flushed together
      const first = Math.max(1, Math.floor(rand() * events.length));
      pub.add(events.slice(0, first), ctx);
      await new Promise((r) => setImmediate(r));
      pub.add(events.slice(first), ctx);
      await (pub as unknown as { flush(org: string): Promise<void> }).flush('org-1');
      const parts = [events.slice(0, first), events.slice(first)].filter((x) => x.length);
      expect(sent).toHaveLength(parts.length);
      parts.forEach((part, k) => {
        const n = sent[k]!;
        expect(n.invocations).toBe(part.length);
        expect(n.failures).toBe(part.filter((e) => e.status === 'failure').length);
        expect(n.last_at).toBe(new Date(Math.max(...part.map((e) => Date.parse(e.timestamp)))).toISOString());
        // at most 100 agents are named, in order of first appearance, each with its own sums
        const named = [...new Set(part.map((e) => e.agent_name as string))].slice(0, 100);
        expect(Object.keys(n.agents)).toEqual(named);
        for (const a of named) {
          const mine = part.filter((e) => e.agent_name === a);
          expect(n.agents[a]).toEqual({ invocations: mine.length, failures: mine.filter((e) => e.status === 'failure').length });
        }
      });
    }
  });
});
