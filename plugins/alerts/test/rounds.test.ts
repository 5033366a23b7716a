/**
 * How a round treats the rules and the rows it touches: threshold and change rules of one
 * window share their queries and still answer what a reference computed here from the random
 * events says; an instance that stays as it was is not written again; a rule that missed a
 * whole slot (a restart) takes its own next slot instead of landing in the first round.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import { rng } from '@orrery/backend-test-utils/random';
import plugin from '../backend/index.ts';
import { PHASE_SECONDS, phaseSlotAfter } from '../backend/engine.ts';

const AGENTS = ['planner', 'coder', 'reviewer', 'tester', 'writer'];

describe('alert rounds', () => {
  let backend: TestBackend;
  const table = (name: string) => backend.kernel.services.knex.withSchema(backend.org.schema).table(name);

  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin], loadPluginFolders: true, onlyPlugins: ['metrics'] });
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
  });

  it('batched threshold, change and change_percent rules answer what the events say, per group', async () => {
    const r = rng(2207);
    const now = Date.now();
    const W = 600_000;
    const counts = Object.fromEntries(AGENTS.map((a) => [a, { cur: 0, prev: 0 }]));
    const events = [];
    let seq = 0;
    for (const a of AGENTS) {
      // some agents absent from one window: a missing count is 0
      const nCur = r() < 0.2 ? 0 : Math.floor(r() * 15);
      const nPrev = r() < 0.2 ? 0 : Math.floor(r() * 15);
      for (const [n, at, key] of [[nCur, () => now - 30_000 - r() * (W - 90_000), 'cur'], [nPrev, () => now - W - 30_000 - r() * (W - 90_000), 'prev']] as const) {
        for (let i = 0; i < n; i++) {
          events.push({ event_id: `round-${seq++}`, event_type: 'agent_invocation', timestamp: new Date(at()).toISOString(), user_id: 'u1', agent_name: a, status: 'success' });
          counts[a]![key]++;
        }
      }
    }
    await backend.org.insertEvents(events);
    const query = { event_type: 'agent_invocation', measure: 'count', group_by: ['agent_name'] };
    const c = backend.client;
    // thresholds drawn at random, several rules of each kind, all in one window: one batch
    const rules: Array<{ id: string; kind: string; threshold: number }> = [];
    for (let i = 0; i < 9; i++) {
      const kind = ['threshold', 'change', 'change_percent'][i % 3]!;
      const threshold = kind === 'change_percent' ? Math.round(r() * 200 - 100) : kind === 'change' ? Math.round(r() * 10 - 5) : Math.floor(r() * 10);
      const res = await c.post('/api/v1/alerts/rules', { name: `batched ${i}`, query, window_seconds: W / 1000, condition: { kind, op: 'gt', threshold }, interval_seconds: 60 });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      rules.push({ id: res.body.id, kind, threshold });
    }
    await backend.runJob('alerts', 'tick');
    for (const rule of rules) {
      const expected: Record<string, number | null> = {};
      for (const a of AGENTS) {
        const { cur, prev } = counts[a]!;
        if (cur === 0 && prev === 0) continue; // a group in neither window is not seen at all
        const value = rule.kind === 'threshold' ? cur : rule.kind === 'change' ? cur - prev : prev === 0 ? (cur === 0 ? 0 : null) : (100 * (cur - prev)) / prev;
        if (rule.kind === 'threshold' && cur === 0) continue; // threshold rules see only groups of the current window
        if (value === null) expected[a] = null; // no data: an instance in the nodata state
        else if (value > rule.threshold) expected[a] = value;
      }
      const got = (await c.get(`/api/v1/alerts/rules/${rule.id}`)).body.instances;
      const seen = Object.fromEntries(got.map((i: any) => [i.labels.agent_name, i.value]));
      expect(seen, `${rule.kind} > ${rule.threshold}`).toEqual(expected);
      for (const i of got) expect(i.state).toBe(i.value === null ? 'nodata' : 'firing');
    }
  });

  it('rules asking the same question share one answer, and rules asking different ones in the same batch each get their own', async () => {
    const r = rng(2212);
    const now = Date.now();
    const W = 600_000;
    // agents of their own, so the other tests' events do not count here
    const agents = AGENTS.map((a) => `same-${a}`);
    const counts = Object.fromEntries(agents.map((a) => [a, { cur: 0, prev: 0 }]));
    const events = [];
    for (const a of agents) {
      for (const [key, from] of [['cur', now - W], ['prev', now - 2 * W]] as const) {
        const n = r() < 0.25 ? 0 : Math.floor(r() * 12);
        for (let i = 0; i < n; i++) events.push({ event_id: `same-${a}-${key}-${i}`, event_type: 'agent_invocation', timestamp: new Date(from + 30_000 + r() * (W - 90_000)).toISOString(), user_id: 'u1', agent_name: a, status: 'success' });
        counts[a]![key] += n;
      }
    }
    await backend.org.insertEvents(events);
    const c = backend.client;
    // every agent's count asked by several rules of each kind, interleaved, all in one window: one batch of repeated and distinct queries
    const rules: Array<{ id: string; agent: string; kind: string; threshold: number }> = [];
    for (let i = 0; i < 3 * agents.length * 2; i++) {
      const agent = agents[Math.floor(r() * agents.length)]!;
      const kind = ['threshold', 'change', 'change_percent'][i % 3]!;
      const threshold = kind === 'change_percent' ? Math.round(r() * 200 - 100) : kind === 'change' ? Math.round(r() * 10 - 5) : Math.floor(r() * 8);
      const query = { event_type: 'agent_invocation', measure: 'count', where: { agent_name: agent } };
      const res = await c.post('/api/v1/alerts/rules', { name: `same ${i}`, query, window_seconds: W / 1000, condition: { kind, op: 'gt', threshold }, interval_seconds: 60 });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      rules.push({ id: res.body.id, agent, kind, threshold });
    }
    await backend.runJob('alerts', 'tick');
    for (const rule of rules) {
      const { cur, prev } = counts[rule.agent]!;
      // one series without groups: a count with no events is 0
      const value = rule.kind === 'threshold' ? cur : rule.kind === 'change' ? cur - prev : prev === 0 ? (cur === 0 ? 0 : null) : (100 * (cur - prev)) / prev;
      const got = (await c.get(`/api/v1/alerts/rules/${rule.id}`)).body.instances.map((i: any) => ({ value: i.value, state: i.state }));
      const expected = value === null ? [{ value: null, state: 'nodata' }] : value > rule.threshold ? [{ value, state: 'firing' }] : [];
      expect(got, `${rule.agent} ${rule.kind} > ${rule.threshold}`).toEqual(expected);
    }
  });

  it('leaves an instance that stays as it was unwritten, and writes it when its value moves', async () => {
    const c = backend.client;
    const res = await c.post('/api/v1/alerts/rules', { name: 'steady', query: { event_type: 'agent_invocation', measure: 'count', where: { agent_name: 'steady-agent' } }, window_seconds: 3600, condition: { op: 'gte', threshold: 1 }, interval_seconds: 60 });
    const id = res.body.id;
    await backend.org.insertEvents([{ event_id: 'steady-1', event_type: 'agent_invocation', timestamp: new Date(Date.now() - 60_000).toISOString(), user_id: 'u1', agent_name: 'steady-agent', status: 'success' }]);
    await backend.runJob('alerts', 'tick');
    const first = await table('alert_instances').where({ rule_id: id }).first();
    expect(first).toMatchObject({ state: 'firing', value: 1 });
    // due again, the same answer: the row keeps its write time
    await table('alert_rules').where({ id }).update({ next_eval_at: new Date() });
    await backend.runJob('alerts', 'tick');
    const second = await table('alert_instances').where({ rule_id: id }).first();
    expect(new Date(second.updated_at).getTime()).toBe(new Date(first.updated_at).getTime());
    expect(new Date((await table('alert_rule_runs').where({ rule_id: id }).first()).last_eval_at).getTime()).toBeGreaterThan(new Date(first.updated_at).getTime());
    // a new value is written, still firing, with one firing transition in the history
    await backend.org.insertEvents([{ event_id: 'steady-2', event_type: 'agent_invocation', timestamp: new Date(Date.now() - 30_000).toISOString(), user_id: 'u1', agent_name: 'steady-agent', status: 'success' }]);
    await table('alert_rules').where({ id }).update({ next_eval_at: new Date() });
    await backend.runJob('alerts', 'tick');
    const third = await table('alert_instances').where({ rule_id: id }).first();
    expect(third).toMatchObject({ state: 'firing', value: 2 });
    expect(new Date(third.starts_at).getTime()).toBe(new Date(first.starts_at).getTime());
    expect(await table('alert_history').where({ rule_id: id, kind: 'state' }).select('to_state')).toEqual([{ to_state: 'firing' }]);
  });

  it('after a restart, a rule that missed a whole slot takes its next one; a rule just due is evaluated', async () => {
    const c = backend.client;
    const make = async (name: string) => (await c.post('/api/v1/alerts/rules', { name, query: { event_type: 'agent_invocation', measure: 'count' }, window_seconds: 300, condition: { op: 'gt', threshold: 1e9 }, interval_seconds: 60 })).body.id as string;
    const late = await Promise.all(Array.from({ length: 40 }, (_, i) => make(`late ${i}`)));
    const due = await make('just due');
    await table('alert_rule_runs').delete();
    await table('alert_rules').update({ next_eval_at: new Date(Date.now() + 3_600_000) });
    await table('alert_rules').whereIn('id', late).update({ next_eval_at: new Date(Date.now() - 600_000) });
    await table('alert_rules').where({ id: due }).update({ next_eval_at: new Date(Date.now() - 1000) });
    const before = Date.now();
    await backend.runJob('alerts', 'tick');
    const after = Date.now();
    const runs = await table('alert_rule_runs').select('rule_id');
    expect(runs.map((x: any) => x.rule_id)).toEqual([due]);
    const rows = await table('alert_rules').whereIn('id', late).select('id', 'next_eval_at');
    for (const row of rows) {
      const t = new Date(row.next_eval_at).getTime();
      // the rule's own phase, within one interval of the round
      expect(t).toBeGreaterThan(before);
      expect(t).toBeLessThanOrEqual(after + 60_000);
      expect([phaseSlotAfter(row.id, 60, new Date(before)).getTime(), phaseSlotAfter(row.id, 60, new Date(after)).getTime()]).toContain(t);
    }
    // spread over the interval, not one slot
    expect(new Set(rows.map((row: any) => new Date(row.next_eval_at).getTime())).size).toBeGreaterThanOrEqual(60 / PHASE_SECONDS - 1);
  });

  it('rules due together for their first evaluation: a round takes 50, the rest take their own slot and are evaluated there; rules on their phase are never deferred', async () => {
    const c = backend.client;
    const make = async (name: string) => (await c.post('/api/v1/alerts/rules', { name, query: { event_type: 'agent_invocation', measure: 'count' }, window_seconds: 300, condition: { op: 'gt', threshold: 1e9 }, interval_seconds: 60, paused: true })).body.id as string;
    const bulk = await Promise.all(Array.from({ length: 80 }, (_, i) => make(`bulk ${i}`)));
    const phased = await Promise.all(Array.from({ length: 60 }, (_, i) => make(`phased ${i}`)));
    await table('alert_rule_runs').delete();
    const far = new Date(Date.now() + 3_600_000);
    await table('alert_rules').update({ next_eval_at: far });
    // unpaused together (the route sets next_eval_at to now), oldest first
    const at = Date.now() - 1000;
    for (const [i, id] of bulk.entries()) await table('alert_rules').where({ id }).update({ paused: false, next_eval_at: new Date(at - 80 + i) });
    // rules due on their own phase slot of the last 30 s (late by less than an interval: not a missed slot)
    const now = Date.now();
    const dueOnPhase = phased.filter((id) => phaseSlotAfter(id, 60, new Date(now - 30_000)).getTime() <= now - 500);
    expect(dueOnPhase.length).toBeGreaterThan(5);
    for (const id of dueOnPhase) await table('alert_rules').where({ id }).update({ paused: false, next_eval_at: phaseSlotAfter(id, 60, new Date(now - 30_000)) });
    const before = Date.now();
    await backend.runJob('alerts', 'tick');
    const after = Date.now();
    const evaluated = new Set((await table('alert_rule_runs').select('rule_id')).map((x: any) => x.rule_id as string));
    expect(dueOnPhase.filter((id) => !evaluated.has(id))).toEqual([]);
    expect(bulk.filter((id) => evaluated.has(id))).toEqual(bulk.slice(0, 50));
    // the other 30 wait for their own phase slot, within one interval
    const waiting: Array<{ id: string; next_eval_at: Date }> = await table('alert_rules').whereIn('id', bulk.slice(50)).select('id', 'next_eval_at');
    expect(waiting).toHaveLength(30);
    for (const row of waiting) {
      const t = new Date(row.next_eval_at).getTime();
      expect([phaseSlotAfter(row.id, 60, new Date(before)).getTime(), phaseSlotAfter(row.id, 60, new Date(after)).getTime()]).toContain(t);
    }
    // when that slot comes they are on their phase and evaluated, however many: as if a minute had passed (late by < 45 s, not a missed slot)
    await table('alert_rule_runs').delete();
    await table('alert_rules').update({ next_eval_at: far });
    const t2 = Date.now();
    const shifted = waiting.map((row) => ({ id: row.id, slot: new Date(new Date(row.next_eval_at).getTime() - 60_000) })).filter((x) => x.slot.getTime() >= t2 - 45_000 && x.slot.getTime() <= t2);
    expect(shifted.length).toBeGreaterThan(5);
    for (const x of shifted) await table('alert_rules').where({ id: x.id }).update({ next_eval_at: x.slot });
    await backend.runJob('alerts', 'tick');
    const later = new Set((await table('alert_rule_runs').select('rule_id')).map((x: any) => x.rule_id as string));
    expect(shifted.map((x) => x.id).filter((id) => !later.has(id))).toEqual([]);
  });
});
