/**
 * The demo org's example budget (`env.onDemoData`): the org's monthly AI spend, set at 90 % of
 * where the month is heading (rounded down to $50, at least $100), which a reference recomputes
 * here from random invocations of this month, the month before and another org.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import { rng } from '@orrery/backend-test-utils/random';
import plugin from '../backend/index.ts';
import { DEMO_BUDGET, demoAmount } from '../backend/demo.ts';

const DAY = 86_400_000;

describe('executive: the demo budget', () => {
  let backend: TestBackend;
  const mine: Array<{ timestamp: string; cost_usd: number }> = [];

  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin], loadPluginFolders: true, onlyPlugins: ['metrics'] });
    const rand = rng(11);
    const now = Date.now();
    const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
    const event = (i: number, t: number, cost: number) => ({
      event_id: `demo-budget-${i}`, event_type: 'agent_invocation', timestamp: new Date(t).toISOString(), department_id: 'eng', user_id: `u${i % 9}`, session_id: 's',
      agent_name: 'planner', agent_version: '1', invocation_id: `inv-${i}`, model_used: 'm', input_tokens: 10, output_tokens: 5, execution_time_ms: 100, status: 'success', cost_usd: cost,
    });
    const events = Array.from({ length: 400 }, (_, i) => {
      // a fifth of them last month: not this month's spend
      const t = rand() < 0.2 ? monthStart - 1 - Math.floor(rand() * 20 * DAY) : monthStart + Math.floor(rand() * Math.max(1, now - monthStart - 60_000));
      const e = event(i, t, Math.round(rand() * 500) / 100);
      if (t >= monthStart) mine.push(e);
      return e;
    });
    await backend.org.insertEvents(events);
    const other = await backend.createOrg('demo-budget-other');
    await other.insertEvents(Array.from({ length: 50 }, (_, i) => event(1000 + i, now - 3_600_000, 40)));
  }, 120_000);
  afterAll(() => backend?.close());

  it('is set by the seeder at 90 % of the month\'s projected spend', async () => {
    // the month's projection at an instant, from the raw invocations
    const projectedAt = (at: number) => {
      const start = Date.UTC(new Date(at).getUTCFullYear(), new Date(at).getUTCMonth(), 1);
      const end = Date.UTC(new Date(at).getUTCFullYear(), new Date(at).getUTCMonth() + 1, 1);
      const spent = mine.filter((e) => Date.parse(e.timestamp) >= start && Date.parse(e.timestamp) < at).reduce((s, e) => s + e.cost_usd, 0);
      return spent + (spent / ((at - start) / DAY)) * ((end - at) / DAY);
    };
    const before = Date.now();
    const seeded = await backend.seedDemoData({ from: new Date(before - 30 * DAY), to: new Date(before) });
    const after = Date.now();
    expect(seeded).toEqual([{ plugin: 'executive', description: expect.stringMatching(/budget/), ok: true }]);

    const { budgets } = (await backend.client.get('/api/v1/budgets')).body;
    expect(budgets.map((b: any) => [b.name, b.scope, b.scope_id])).toEqual([[DEMO_BUDGET, 'org', null]]);
    expect(projectedAt(after)).toBeGreaterThan(200); // the data should make a budget above the floor
    expect([demoAmount(projectedAt(before)), demoAmount(projectedAt(after))]).toContain(budgets[0].amount_usd);
    // a little under where the month is heading: at risk, or over once the month's spend so far passed it (its last days)
    const spent = mine.filter((e) => Date.parse(e.timestamp) < after).reduce((s, e) => s + e.cost_usd, 0);
    expect(budgets[0].state.status).toBe(spent > budgets[0].amount_usd ? 'over' : 'at_risk');
  });
});
