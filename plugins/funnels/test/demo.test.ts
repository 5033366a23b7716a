/**
 * The demo org's example funnel (`env.onDemoData`): saved by the seeder, listed, and its results
 * over random sessions, invocations and feedback are the reference funnel's for the same
 * definition (per session: started → a failed invocation → a successful one → an accepted answer,
 * within the hour).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { DEMO_FUNNEL } from '../backend/funnel/demo.ts';
import { referenceFunnel, rng, type Ev } from './reference.ts';

const FROM = Date.parse('2026-10-01T00:00:00Z');
const TO = FROM + 5 * 86_400_000;

describe('funnels: the demo example', () => {
  let backend: TestBackend;
  const events: Ev[] = [];

  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin] });
    const rand = rng(31);
    const at = (ms: number) => new Date(ms).toISOString();
    // sessions of 8 users over 5 days, each a burst of events within about two hours
    for (let i = 0; i < 1200; i++) {
      const user = `u${Math.floor(rand() * 8)}`;
      const day = Math.floor(rand() * 5);
      const session = `${user}-d${day}`;
      const t = FROM + day * 86_400_000 + 9 * 3_600_000 + Math.floor(rand() * 7_200_000);
      const kind = rand();
      const base = { event_id: `e${i}`, timestamp: at(t), user_id: user, session_id: session };
      if (kind < 0.1) events.push({ ...base, event_type: 'session', action: rand() < 0.8 ? 'started' : 'ended' });
      else if (kind < 0.8) events.push({ ...base, event_type: 'agent_invocation', status: rand() < 0.7 ? 'success' : 'failure', agent_name: 'a' });
      else events.push({ ...base, event_type: 'feedback', action: rand() < 0.8 ? 'accept' : 'reject' });
    }
    await backend.org.insertEvents(events);
  }, 120_000);
  afterAll(() => backend?.close());

  it('is saved by the seeder and answers as the reference funnel does', async () => {
    const seeded = await backend.seedDemoData({ from: new Date(FROM), to: new Date(TO) });
    expect(seeded).toEqual([{ plugin: 'funnels', description: expect.stringMatching(/funnel/), ok: true }]);
    const list = (await backend.client.get('/api/v1/funnels/saved')).body.funnels as Array<{ id: number; name: string; definition: Record<string, unknown> }>;
    expect(list.map((f) => f.name)).toEqual([DEMO_FUNNEL]);
    const range = { from: new Date(FROM).toISOString(), to: new Date(TO).toISOString() };
    const got = await backend.client.get(`/api/v1/funnels/saved/${list[0]!.id}/results`, range);
    expect(got.status, got.text).toBe(200);
    const want = referenceFunnel({ ...(list[0]!.definition as object), ...range } as Parameters<typeof referenceFunnel>[0], events);
    expect(got.body.steps.map((s: { count: number }) => s.count)).toEqual(want.steps.map((s) => s.count));
    // the data reach every step, so the example shows a real drop-off
    expect(want.steps.at(-1)!.count).toBeGreaterThan(0);
    expect(want.steps[0]!.count).toBeGreaterThan(want.steps.at(-1)!.count);
  });
});
