/**
 * Role and score-band criteria of dynamic cohorts. Roles come from the kernel's directory;
 * scores from whichever plugin provides the SDK's `userScoreRef` — here one declared in the
 * test, with scores drawn at random per org and day, so that the reference below knows them.
 * (`criteria-adoption.test.ts` runs the same criterion on the adoption plugin's own scores.)
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { definePlugin, provide, userScoreRef, type UserScore } from '@orrery/plugin-sdk';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { rng, type Ev } from './reference.ts';

const DAY = 86_400_000;
const AS_OF = Date.parse('2026-04-10T12:00:00Z');
const SCORED_DAYS = ['2026-04-01', '2026-04-08', '2026-04-12'];

/** org slug → day → user → score: filled by the test, read by the provider plugin */
const SCORES = new Map<string, Map<string, Map<string, number>>>();

const scorer = definePlugin({
  from: import.meta.url,
  id: 'test-scores',
  version: '0.1.0',
  sdk: '^2.0.0',
  title: 'Test scores',
  description: 'a user score provider for the test',
  routePrefix: 'test-scores',
  permissions: {},
  provides: [
    provide(userScoreRef, (ctx) => ({
      title: 'Test score',
      min: 0,
      max: 100,
      async scores({ day, userIds }) {
        const byDay = SCORES.get(ctx.org.slug) ?? new Map<string, Map<string, number>>();
        const latest = [...byDay.keys()].filter((d) => d <= day).sort().pop();
        if (!latest) return [];
        const out: UserScore[] = [];
        for (const [userId, score] of byDay.get(latest)!) if (!userIds || userIds.includes(userId)) out.push({ userId, score, day: latest });
        return out;
      },
    })),
  ],
  register() {},
});

describe('role and score-band criteria', () => {
  let b: TestBackend;
  let other: TestOrg;
  const roleOf = new Map<string, string>();
  let events: Ev[] = [];

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [plugin, scorer] });
    other = await b.createOrg('criteria-other');
    const r = rng(5);
    const ids: string[] = [];
    for (let i = 0; i < 18; i++) {
      const role = (['Admin', 'Manager', 'Developer', 'Developer'] as const)[i % 4]!;
      const u = await b.org.addUser({ email: `p${i}@crit.local`, role, departments: [i % 2 ? 'Odd' : 'Even'] });
      roleOf.set(u.userId, role);
      ids.push(u.userId);
    }
    // people in events only (not members): no role, but they may have a score
    ids.push('ghost-1', 'ghost-2');
    let n = 0;
    for (const u of ids)
      for (let k = 0; k < 6; k++)
        events.push({ event_id: `c${n++}`, event_type: r() < 0.5 ? 'command' : 'agent_invocation', timestamp: new Date(AS_OF - Math.floor(r() * 40 * DAY)).toISOString(), user_id: u, department_id: r() < 0.5 ? 'd1' : 'd2' });
    // one member without events in the last 40 days: never in a cohort (members are people of events)
    events = events.filter((e) => e.user_id !== ids[3]);
    await b.org.insertEvents(events.map((e) => ({ ...e })));
    // the other org: the same user ids with their own events and scores
    await other.insertEvents(events.map((e) => ({ ...e, event_id: `o-${e.event_id}` })));
    for (const [slug, seed] of [[b.org.slug, 1], [other.slug, 2]] as const) {
      const rs = rng(seed);
      SCORES.set(slug, new Map(SCORED_DAYS.map((d) => [d, new Map(ids.map((u) => [u, Math.round(rs() * 1000) / 10]))])));
    }
  }, 180_000);
  afterAll(() => b?.close());

  const members = async (org: TestOrg | TestBackend['org'], id: string) => (await org.client.get(`/api/v1/cohorts/${id}/members`, { limit: 10000 })).body.members.map((m: any) => m.user_id).sort();
  const withEvents = (evs: Ev[], asOf: number, dept?: string) => new Set(evs.filter((e) => Date.parse(e.timestamp) < asOf && (!dept || e.department_id === dept)).map((e) => e.user_id));
  const performed = (evs: Ev[], type: string, min: number, days: number, asOf: number) => {
    const c = new Map<string, number>();
    for (const e of evs) if (e.event_type === type && Date.parse(e.timestamp) >= asOf - days * DAY && Date.parse(e.timestamp) < asOf) c.set(e.user_id, (c.get(e.user_id) ?? 0) + 1);
    return new Set([...c].filter(([, k]) => k >= min).map(([u]) => u));
  };
  const band = (slug: string, asOf: number, min: number, max: number) => {
    const day = new Date(asOf).toISOString().slice(0, 10);
    const latest = SCORED_DAYS.filter((d) => d <= day).sort().pop();
    return new Set([...(latest ? SCORES.get(slug)!.get(latest)! : new Map<string, number>())].filter(([, s]) => s >= min && s <= max).map(([u]) => u));
  };
  const and = (...sets: Set<string>[]) => [...sets[0]!].filter((u) => sets.every((s) => s.has(u))).sort();

  it('role: members of the org with one of the roles, among the people of the events', async () => {
    for (const roles of [['Developer'], ['Admin', 'Manager']]) {
      const c = await b.client.post('/api/v1/cohorts', { name: `role ${roles}`, kind: 'dynamic', criteria: [{ kind: 'role', roles }] });
      expect(c.status, c.text).toBe(200);
      await b.client.post(`/api/v1/cohorts/${c.body.id}/recompute`, { as_of: new Date(AS_OF).toISOString() });
      const want = and(withEvents(events, AS_OF), new Set([...roleOf].filter(([, r]) => roles.includes(r)).map(([u]) => u)));
      expect(want.length).toBeGreaterThan(2);
      expect(await members(b.org, c.body.id)).toEqual(want);
    }
  });

  it('score band: the provider\'s scores of the latest scored day at or before the evaluation, combined with behaviour, a role and a department', async () => {
    const cases = [
      { criteria: [{ kind: 'score_band', min: 0, max: 40 }], asOf: AS_OF },
      { criteria: [{ kind: 'score_band', min: 40, max: 75.5 }], asOf: Date.parse('2026-04-05T00:00:00Z') },
      { criteria: [{ kind: 'score_band', min: 30, max: 100 }, { kind: 'performed', event_type: 'command', min_count: 2, days: 30 }, { kind: 'role', roles: ['Developer', 'Manager'] }], asOf: AS_OF },
      { criteria: [{ kind: 'score_band', min: 20, max: 90 }], asOf: AS_OF, department_id: 'd1' },
    ];
    for (const [i, k] of cases.entries()) {
      const c = await b.client.post('/api/v1/cohorts', { name: `band ${i}`, kind: 'dynamic', criteria: k.criteria, ...(k.department_id ? { department_id: k.department_id } : {}) });
      expect(c.status, c.text).toBe(200);
      const re = await b.client.post(`/api/v1/cohorts/${c.body.id}/recompute`, { as_of: new Date(k.asOf).toISOString() });
      expect(re.status, re.text).toBe(200);
      const sets = [withEvents(events, k.asOf, k.department_id)];
      for (const cr of k.criteria as any[]) {
        if (cr.kind === 'score_band') sets.push(band(b.org.slug, k.asOf, cr.min, cr.max));
        if (cr.kind === 'role') sets.push(new Set([...roleOf].filter(([, r]) => cr.roles.includes(r)).map(([u]) => u)));
        if (cr.kind === 'performed') sets.push(performed(events, cr.event_type, cr.min_count, cr.days, k.asOf));
      }
      const want = and(...sets);
      expect(want.length, `case ${i}`).toBeGreaterThan(0);
      expect(await members(b.org, c.body.id), `case ${i}`).toEqual(want);
    }
    // before any scored day nobody is in a band
    const early = await b.client.post('/api/v1/cohorts', { name: 'band early', kind: 'dynamic', criteria: [{ kind: 'score_band', min: 0, max: 100 }] });
    await b.client.post(`/api/v1/cohorts/${early.body.id}/recompute`, { as_of: '2026-03-20T00:00:00Z' });
    expect(await members(b.org, early.body.id)).toEqual([]);
  });

  it('another org: its own scores and its own directory', async () => {
    const c = await other.client.post('/api/v1/cohorts', { name: 'band', kind: 'dynamic', criteria: [{ kind: 'score_band', min: 0, max: 50 }] });
    await other.client.post(`/api/v1/cohorts/${c.body.id}/recompute`, { as_of: new Date(AS_OF).toISOString() });
    expect(await members(other, c.body.id)).toEqual(and(withEvents(events, AS_OF), band(other.slug, AS_OF, 0, 50)));
    expect(and(band(other.slug, AS_OF, 0, 50))).not.toEqual(and(band(b.org.slug, AS_OF, 0, 50)));
    // the first org's members have no role in this org
    const r = await other.client.post('/api/v1/cohorts', { name: 'devs', kind: 'dynamic', criteria: [{ kind: 'role', roles: ['Developer'] }] });
    expect(r.status, r.text).toBe(200);
    expect(r.body.size).toBe(0);
  });

  it('bad criteria are a 400 naming the field', async () => {
    const bad = async (criteria: unknown[], field: string) => {
      const res = await b.client.post('/api/v1/cohorts', { name: `bad ${field}`, kind: 'dynamic', criteria });
      expect(res.status, res.text).toBe(400);
      expect(JSON.stringify(res.body.error)).toContain(field);
    };
    await bad([{ kind: 'role' }], 'roles');
    await bad([{ kind: 'role', roles: ['Owner'] }], 'roles');
    await bad([{ kind: 'role', roles: [] }], 'roles');
    await bad([{ kind: 'score_band', min: 10 }], 'max');
    await bad([{ kind: 'score_band', min: 80, max: 20 }], 'criteria[0].min');
    await bad([{ kind: 'score_band', min: -1, max: 20 }], 'min');
    await bad([{ kind: 'score_band', min: 1, max: 20, event_type: 'command' }], 'criteria[0].event_type');
    await bad([{ kind: 'performed', min_count: 1, days: 3 }], 'criteria[0].event_type');
  });
});
