/**
 * An audience of departments and/or roles (the directory's): assignment answers
 * only people in it, offline exposures of others are not stored, and results
 * count only units whose user is in it — each checked against a reference
 * computed here from the random people and events the test made.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import { rng } from '@orrery/backend-test-utils/random';
import plugin from '../backend/index.ts';
import { assignVariant, inAudience } from '../backend/assign.ts';

const START = Date.parse('2026-05-04T00:00:00.000Z');
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const DEPARTMENTS = ['eng', 'sales', 'ops'];
const ROLES = ['Manager', 'Developer'] as const;

interface Person { id: string; role: string; departments: string[] }
type Ev = Record<string, unknown> & { event_id: string; timestamp: string; user_id: string };

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('experiments: audience by department and role', () => {
  let backend: TestBackend;
  const people: Person[] = [];
  const dept = (name: string) => backend.org.departments.get(name)!;

  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin] });
    const rand = rng(23);
    // few people: each one is a member with a password (slow to make); both roles always present
    for (let i = 0; i < 12; i++) {
      const role = ROLES[i % ROLES.length]!;
      // none, one or two departments
      const ds = DEPARTMENTS.filter(() => rand() < 0.4);
      const u = await backend.org.addUser({ email: `p${i}@aud.local`, role, departments: ds });
      people.push({ id: u.userId, role, departments: ds });
    }
    // every department exists even if the draw left one empty
    for (const d of DEPARTMENTS) if (!backend.org.departments.has(d)) await backend.org.addUser({ email: `only-${d}@aud.local`, role: 'Developer', departments: [d] });
    for (const p of people) p.departments = p.departments.map(dept);
  }, 300_000);
  afterAll(() => backend?.close());

  it('results by user and by invocation count only the audience, equal to a reference', async () => {
    const rand = rng(5);
    const events: Ev[] = [];
    const users = [...people.map((p) => p.id), 'not-a-member-1', 'not-a-member-2'];
    users.forEach((user, u) => {
      const version = rand() < 0.5 ? 'v1' : 'v2';
      for (let k = 0; k < 3 + Math.floor(rand() * 8); k++) {
        events.push({
          event_id: `a-${u}-${k}`,
          event_type: 'agent_invocation',
          timestamp: iso(START + Math.floor(rand() * 72 * HOUR)),
          user_id: user,
          agent_name: 'auditor',
          agent_version: version,
          invocation_id: `a-${u}-${k}`,
          status: rand() < (version === 'v2' ? 0.7 : 0.6) ? 'success' : 'failure',
          execution_time_ms: 100 + Math.floor(rand() * 900),
        });
      }
    });
    await backend.org.insertEvents(events);
    const audience = { departments: [dept('eng'), dept('ops')], roles: ['Developer'] };
    const base = {
      name: 'Auditor v2',
      agent_name: 'auditor',
      variant_field: 'agent_version',
      variants: [{ key: 'v1', weight: 50 }, { key: 'v2', weight: 50 }],
      control: 'v1',
      metrics: [{ name: 'success_rate', kind: 'proportion', where: { status: 'success' } }, { name: 'latency', kind: 'mean', field: 'execution_time_ms', guardrail: true }],
      start_at: iso(START),
    };
    const inside = new Set(people.filter((p) => inAudience(audience, p)).map((p) => p.id));
    // the rule itself, written out: a Developer in eng or ops
    expect([...inside].sort()).toEqual(people.filter((p) => p.role === 'Developer' && p.departments.some((d) => d === dept('eng') || d === dept('ops'))).map((p) => p.id).sort());
    expect(inside.size).toBeGreaterThan(2);
    expect(inside.size).toBeLessThan(people.length);

    for (const unit of ['user', 'invocation'] as const) {
      const key = `auditor-${unit}`;
      const created = await backend.client.post('/api/v1/experiments', { ...base, key, unit, audience });
      expect(created.status, created.text).toBe(200);
      for (const metric of ['success_rate', 'latency']) {
        const res = await backend.client.get(`/api/v1/experiments/${key}/results`, { metric });
        expect(res.status).toBe(200);
        const mine = events.filter((e) => inside.has(e.user_id));
        const outcome = (es: Ev[]) => (metric === 'success_rate' ? es.filter((e) => e.status === 'success').length / es.length : mean(es.map((e) => e.execution_time_ms as number)));
        // a unit: a user with all their invocations (each user has one version here), or one invocation
        const units: Ev[][] = unit === 'user' ? [...inside].map((u) => mine.filter((e) => e.user_id === u)).filter((es) => es.length) : mine.map((e) => [e]);
        for (const v of ['v1', 'v2']) {
          const ys = units.filter((es) => es[0]!.agent_version === v).map(outcome);
          const row = res.body.variants.find((r: any) => r.key === v);
          expect(row.units, `${key} ${metric} ${v}`).toBe(ys.length);
          expect(row.assigned).toBe(ys.length);
          expect(row.value).toBeCloseTo(mean(ys), 9);
        }
        expect(res.body.excluded_units).toBe(0);
      }
    }
    // without the audience every user with events is a unit
    expect((await backend.client.post('/api/v1/experiments', { ...base, key: 'auditor-all', unit: 'user' })).status).toBe(200);
    const all = await backend.client.get('/api/v1/experiments/auditor-all/results');
    expect(all.body.variants.reduce((a: number, r: any) => a + r.units, 0)).toBe(users.length);
  });

  it('assignment and offline exposures keep to the audience; exposures drive results', async () => {
    const audience = { departments: [dept('sales')] };
    const def = {
      key: 'sales-onboarding',
      name: 'Sales onboarding',
      workflow_id: 'onboarding',
      unit: 'user',
      variants: [{ key: 'a', weight: 50 }, { key: 'b', weight: 50 }],
      control: 'a',
      metrics: [{ name: 'converted', kind: 'proportion', event_type: 'workflow_step', where: { workflow_id: 'onboarding', action: 'goal_reached' }, aggregate: 'any' }],
      start_at: iso(Date.now() - 24 * HOUR),
      audience,
    };
    expect((await backend.client.post('/api/v1/experiments', def)).status).toBe(200);
    const inside = (p: Person) => p.departments.includes(dept('sales'));
    const half = Math.floor(people.length / 2);
    for (const p of people.slice(0, half)) {
      const a = await backend.client.get('/api/v1/experiments/sales-onboarding/assignment', { unit_id: p.id });
      expect(a.status).toBe(200);
      if (inside(p)) expect(a.body).toEqual({ variant: assignVariant('sales-onboarding', p.id, def.variants), experiment: 'sales-onboarding', recorded: true, in_audience: true });
      else expect(a.body).toEqual({ variant: null, experiment: 'sales-onboarding', recorded: false, in_audience: false });
    }
    // an offline client sends everyone it saw; only the audience's exposures are kept
    const rest = people.slice(half);
    const sent = await backend.client.post('/api/v1/experiments/sales-onboarding/exposures', {
      exposures: [...rest.map((p) => p.id), 'stranger'].map((u) => ({ unit_id: u, variant: assignVariant('sales-onboarding', u, def.variants), timestamp: iso(Date.now() - HOUR) })),
    });
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual({ accepted: rest.filter(inside).length, outside_audience: rest.length + 1 - rest.filter(inside).length });

    const rand = rng(8);
    const goals: Ev[] = people.filter(() => rand() < 0.5).map((p, i) => ({ event_id: `g${i}`, event_type: 'workflow_step', workflow_id: 'onboarding', action: 'goal_reached', timestamp: iso(Date.now() + 60_000), user_id: p.id }));
    await backend.org.insertEvents(goals);
    const res = await backend.client.get('/api/v1/experiments/sales-onboarding/results');
    expect(res.status).toBe(200);
    const converted = new Set(goals.map((g) => g.user_id));
    for (const v of ['a', 'b']) {
      const ys = people.filter((p) => inside(p) && assignVariant('sales-onboarding', p.id, def.variants) === v).map((p) => (converted.has(p.id) ? 1 : 0));
      const row = res.body.variants.find((r: any) => r.key === v);
      expect(row.assigned).toBe(ys.length);
      expect(row.units).toBe(ys.length);
      if (ys.length) expect(row.value).toBeCloseTo(mean(ys), 9);
    }

    // unit invocation with an audience: the caller names the user behind the invocation
    const inv = { ...def, key: 'sales-inv', unit: 'invocation', workflow_id: undefined, agent_name: 'auditor', metrics: [{ name: 'ok', kind: 'proportion', where: { status: 'success' } }] };
    expect((await backend.client.post('/api/v1/experiments', inv)).status).toBe(200);
    const noUser = await backend.client.get('/api/v1/experiments/sales-inv/assignment', { unit_id: 'inv-1' });
    expect(noUser.status).toBe(400);
    expect(noUser.body.error.details.field).toBe('user_id');
    const seller = people.find(inside)!;
    const withUser = await backend.client.get('/api/v1/experiments/sales-inv/assignment', { unit_id: 'inv-1', user_id: seller.id, record: false });
    expect(withUser.body).toMatchObject({ variant: assignVariant('sales-inv', 'inv-1', def.variants), in_audience: true });
  });

  it('answers 400 naming the field for an unknown department or role; the editor offers the directory', async () => {
    const def = {
      key: 'bad-audience',
      name: 'x',
      unit: 'user',
      variants: [{ key: 'a', weight: 50 }, { key: 'b', weight: 50 }],
      control: 'a',
      metrics: [{ name: 'ok', kind: 'proportion', where: { status: 'success' } }],
      start_at: iso(START),
    };
    const unknown = await backend.client.post('/api/v1/experiments', { ...def, audience: { departments: [dept('eng'), 'no-such-department'] } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.field).toBe('audience.departments[1]');
    const role = await backend.client.post('/api/v1/experiments', { ...def, audience: { roles: ['Intern'] } });
    expect(role.status).toBe(400);
    expect(JSON.stringify(role.body.error)).toContain('audience');
    // the same check on update
    expect((await backend.client.post('/api/v1/experiments', def)).status).toBe(200);
    const put = await backend.client.put('/api/v1/experiments/bad-audience', { ...(({ key: _k, ...r }) => r)(def), audience: { departments: ['nope'] } });
    expect(put.status).toBe(400);
    expect(put.body.error.details.field).toBe('audience.departments[0]');

    const options = await backend.client.get('/api/v1/experiments/audience-options');
    expect(options.status).toBe(200);
    expect(options.body.departments.map((d: any) => d.id).sort()).toEqual(DEPARTMENTS.map(dept).sort());
    expect(options.body.roles).toEqual(['Admin', 'Manager', 'Developer']);
  });
});
