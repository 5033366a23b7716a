/**
 * The demo org's example rules (`env.onDemoData`): created through the plugin's validation,
 * listed, and evaluated by the plugin's job over the events. The day-long rule fires for the
 * agents whose share of failed invocations over the last day is above 10 %, as counted here
 * from random invocations (older failures and other event types mixed in); the minute-long one
 * stays normal on events that are all older than its window.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import { rng } from '@orrery/backend-test-utils/random';
import plugin from '../backend/index.ts';
import { DEMO_RULES } from '../backend/demo.ts';

const DAY = 86_400_000;

describe('alerts: the demo examples', () => {
  let backend: TestBackend;
  const invocations: Array<{ agent_name: string; status: string; t: number }> = [];

  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin], loadPluginFolders: true, onlyPlugins: ['metrics'] });
    const r = rng(21);
    const now = Date.now();
    const agents = { flaky: 0.35, steady: 0.03, borderline: 0.08, 'failed-long-ago': 0.02 };
    for (let i = 0; i < 900; i++) {
      const agent = Object.keys(agents)[i % 4] as keyof typeof agents;
      // the last day, minus two minutes (older than the minute rule's window); some a day or two earlier
      const old = agent === 'failed-long-ago' ? r() < 0.6 : r() < 0.1;
      const t = old ? now - DAY - 60_000 - Math.floor(r() * DAY) : now - 120_000 - Math.floor(r() * (DAY - 180_000));
      const p = old && agent === 'failed-long-ago' ? 0.9 : agents[agent];
      invocations.push({ agent_name: agent, status: r() < p ? 'failure' : 'success', t });
    }
    await backend.org.insertEvents([
      ...invocations.map((e, i) => ({ event_id: `inv-${i}`, event_type: 'agent_invocation', action: '', agent_name: e.agent_name, status: e.status, timestamp: new Date(e.t).toISOString(), user_id: `u${i % 30}`, session_id: 's', execution_time_ms: 100 })),
      ...Array.from({ length: 50 }, (_, i) => ({ event_id: `cmd-${i}`, event_type: 'command', action: '', status: 'failure', timestamp: new Date(now - 3_600_000).toISOString(), user_id: 'u1', session_id: 's' })),
    ]);
  }, 120_000);
  afterAll(() => backend?.close());

  it('are created by the seeder, and the day-long rule fires for the agents the invocations say', async () => {
    const seeded = await backend.seedDemoData({ from: new Date(Date.now() - 2 * DAY), to: new Date() });
    expect(seeded).toEqual(expect.arrayContaining([{ plugin: 'alerts', description: expect.stringMatching(/error rate/), ok: true }]));
    const { rules } = (await backend.client.get('/api/v1/alerts/rules')).body as { rules: Array<{ id: string; name: string; contact_point_id: string | null }> };
    expect(rules.map((x) => x.name).sort()).toEqual(DEMO_RULES.map((x) => x.name).sort());
    expect(rules.every((x) => x.contact_point_id === null)).toBe(true);

    await backend.runJob('alerts', 'tick');
    const since = Date.now() - DAY;
    const expected = [...new Set(invocations.map((e) => e.agent_name))].filter((a) => {
      const mine = invocations.filter((e) => e.agent_name === a && e.t >= since);
      return mine.filter((e) => e.status === 'failure').length / mine.length > 0.1;
    }).sort();
    expect(expected).toContain('flaky');
    expect(expected).not.toContain('failed-long-ago');
    const day = rules.find((x) => x.name === DEMO_RULES[1]!.name)!;
    const got = (await backend.client.get(`/api/v1/alerts/rules/${day.id}`)).body as { state: string; instances: Array<{ labels: Record<string, string>; state: string }> };
    expect(got.instances.filter((i) => i.state === 'firing').map((i) => i.labels.agent_name).sort()).toEqual(expected);
    expect(got.state).toBe('firing');
    const minute = rules.find((x) => x.name === DEMO_RULES[0]!.name)!;
    const quiet = (await backend.client.get(`/api/v1/alerts/rules/${minute.id}`)).body as { state: string; instances: Array<{ state: string }> };
    expect(quiet.instances.filter((i) => i.state === 'firing')).toEqual([]);
  });
});
