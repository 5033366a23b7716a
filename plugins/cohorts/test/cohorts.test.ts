import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { periodId, referenceRetention, rng, type Ev } from './reference.ts';

const DAY = 86_400_000;
const TYPES = ['session', 'command', 'agent_invocation'] as const;
const AS_OF = Date.parse('2026-04-01T12:00:00Z');

/** Users with bursts of activity and quiet spells over the 120 days before AS_OF (and a little after). */
function randomEvents(seed: number): Ev[] {
  const r = rng(seed);
  const events: Ev[] = [];
  let n = 0;
  for (let u = 0; u < 60; u++) {
    const dept = u % 3 === 0 ? 'dept-x' : 'dept-y';
    let t = AS_OF - 120 * DAY + Math.floor(r() * 110 * DAY);
    const gap = 0.2 + r() * 6;
    while (t < AS_OF + 10 * DAY) {
      const type = TYPES[Math.floor(r() * TYPES.length)]!;
      events.push({
        event_id: `e${n++}`,
        event_type: type,
        timestamp: new Date(t).toISOString(),
        user_id: `u${u}`,
        department_id: dept,
        ...(type === 'agent_invocation' ? { cost_usd: Math.round(r() * 5000) / 1000, input_tokens: Math.floor(r() * 4000), output_tokens: Math.floor(r() * 900) } : {}),
      });
      t += r() < 0.1 ? Math.floor(r() * 40 * DAY) : Math.floor(r() * gap * DAY);
    }
  }
  return events;
}

type Crit = Record<string, any>;

/** Who meets one criterion at `asOf`, event by event (definitions in the README). */
function meets(events: Ev[], c: Crit, asOf: number, dept?: string): Set<string> {
  const mine = events.filter((e) => Date.parse(e.timestamp) < asOf && (c.event_type === 'any' || e.event_type === c.event_type) && (!dept || e.department_id === dept));
  const byUser = new Map<string, number[]>();
  for (const e of mine) byUser.set(e.user_id, [...(byUser.get(e.user_id) ?? []), Date.parse(e.timestamp)]);
  const out = new Set<string>();
  for (const [u, ts] of byUser) {
    const within = (a: number, b: number) => ts.filter((t) => t >= a && t < b).length;
    let ok = false;
    if (c.kind === 'performed') ok = within(asOf - c.days * DAY, asOf) >= c.min_count;
    if (c.kind === 'first_time') ok = Math.min(...ts) >= asOf - c.days * DAY;
    if (c.kind === 'regularly') {
      let hit = 0;
      for (let w = 0; w < c.of_periods; w++) if (within(asOf - (w + 1) * c.period_days * DAY, asOf - w * c.period_days * DAY) > 0) hit++;
      ok = hit >= c.min_periods;
    }
    if (c.kind === 'stopped') ok = within(asOf - c.days * DAY, asOf) === 0 && within(asOf - (c.days + c.prior_days) * DAY, asOf - c.days * DAY) > 0;
    if (c.kind === 'restarted')
      ok = within(asOf - c.days * DAY, asOf) > 0 && within(asOf - (c.days + c.gap_days) * DAY, asOf - c.days * DAY) === 0 && within(0, asOf - (c.days + c.gap_days) * DAY) > 0;
    if (ok) out.add(u);
  }
  return out;
}
const all = (events: Ev[], cs: Crit[], asOf: number, dept?: string) => {
  const sets = cs.map((c) => meets(events, c, asOf, dept));
  return [...sets[0]!].filter((u) => sets.every((s) => s.has(u))).sort();
};

describe('saved cohorts', () => {
  let backend: TestBackend;
  let other: TestOrg;
  const events = randomEvents(11);

  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin] });
    other = await backend.createOrg('cohorts-elsewhere');
    await backend.org.insertEvents(events.map((e) => ({ ...e, action: e.event_type === 'session' ? 'started' : '' })));
    // same user names in the other org, other behaviour
    await other.insertEvents(randomEvents(12).map((e) => ({ ...e, event_id: `o-${e.event_id}`, action: e.event_type === 'session' ? 'started' : '' })));
  }, 60_000);
  afterAll(() => backend?.close());

  const criteriaCases: Array<{ name: string; criteria: Crit[]; department_id?: string }> = [
    { name: 'power users', criteria: [{ kind: 'performed', event_type: 'agent_invocation', min_count: 3, days: 14 }] },
    { name: 'newcomers', criteria: [{ kind: 'first_time', event_type: 'any', days: 30 }] },
    { name: 'regulars', criteria: [{ kind: 'regularly', event_type: 'any', period_days: 7, min_periods: 3, of_periods: 4 }] },
    { name: 'stopped', criteria: [{ kind: 'stopped', event_type: 'any', days: 14, prior_days: 30 }] },
    { name: 'restarted', criteria: [{ kind: 'restarted', event_type: 'any', days: 10, gap_days: 10 }] },
    {
      name: 'active commanders in x',
      criteria: [
        { kind: 'performed', event_type: 'command', min_count: 1, days: 30 },
        { kind: 'regularly', event_type: 'any', period_days: 3, min_periods: 2, of_periods: 5 },
      ],
      department_id: 'dept-x',
    },
  ];

  it('dynamic cohorts: every behavioural criterion, combined and with a department, matches the reference', async () => {
    let nonEmpty = 0;
    for (const c of criteriaCases) {
      const created = await backend.client.post('/api/v1/cohorts', { name: c.name, kind: 'dynamic', criteria: c.criteria, ...(c.department_id ? { department_id: c.department_id } : {}) });
      expect(created.status, created.text).toBe(200);
      const re = await backend.client.post(`/api/v1/cohorts/${created.body.id}/recompute`, { as_of: new Date(AS_OF).toISOString() });
      expect(re.status, re.text).toBe(200);
      const want = all(events, c.criteria, AS_OF, c.department_id);
      const members = await backend.client.get(`/api/v1/cohorts/${created.body.id}/members`, { limit: 10000 });
      expect(members.body.members.map((m: any) => m.user_id).sort(), c.name).toEqual(want);
      expect(re.body.size).toBe(want.length);
      if (want.length) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThanOrEqual(4);
  });

  it('previews how many people criteria select, as the reference counts, in this org only, without saving', async () => {
    const before = (await backend.client.get('/api/v1/cohorts')).body.cohorts.length;
    const otherEvents = randomEvents(12);
    for (const c of criteriaCases) {
      const body = { criteria: c.criteria, as_of: new Date(AS_OF).toISOString(), ...(c.department_id ? { department_id: c.department_id } : {}) };
      const res = await backend.client.post('/api/v1/cohorts/preview', body);
      expect(res.status, res.text).toBe(200);
      const want = all(events, c.criteria, AS_OF, c.department_id);
      expect(res.body.size, c.name).toBe(want.length);
      // it names the first ten ids in order; none of these ids is a member of the org, so none has a name
      expect(res.body.sample, c.name).toEqual(want.slice(0, 10).map((user_id) => ({ user_id, name: null })));
      // the other org's preview counts its own events
      const mine = await other.client.post('/api/v1/cohorts/preview', body);
      expect(mine.body.size, `${c.name} (other org)`).toBe(all(otherEvents, c.criteria, AS_OF, c.department_id).length);
    }
    expect((await backend.client.get('/api/v1/cohorts')).body.cohorts.length).toBe(before);
    const bad = await backend.client.post('/api/v1/cohorts/preview', { criteria: [{ kind: 'performed', event_type: 'session' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('criteria[0].min_count');
    expect((await backend.client.post('/api/v1/cohorts/preview', { criteria: [] })).status).toBe(400);
  });

  it('names the people of a preview\'s sample from the directory', async () => {
    // an org of its own: the other tests count every user of theirs
    const org = await backend.createOrg('cohorts-named');
    const member = await org.addUser({ email: 'previewed@cohorts.local', role: 'Developer' });
    const me = await member.get('/api/v1/me');
    const named = { displayName: me.body.user.display_name as string };
    await org.insertEvents([{ event_id: 'preview-named', event_type: 'command', action: '', timestamp: new Date(AS_OF - DAY / 2).toISOString(), user_id: member.userId, department_id: 'dept-z' }]);
    const res = await org.client.post('/api/v1/cohorts/preview', { criteria: [{ kind: 'performed', event_type: 'command', min_count: 1, days: 1 }], department_id: 'dept-z', as_of: new Date(AS_OF).toISOString() });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ size: 1, sample: [{ user_id: member.userId, name: named!.displayName }] });
    expect(named!.displayName).toBeTruthy();
  });

  it('names each cohort\'s department in the list, from the directory, and says when it no longer exists', async () => {
    await backend.org.addUser({ email: 'named-dept@cohorts.local', role: 'Developer', departments: ['Research lab'] });
    const deptId = backend.org.departments.get('Research lab')!;
    const crit = [{ kind: 'performed', event_type: 'any', min_count: 1, days: 7 }];
    const a = await backend.client.post('/api/v1/cohorts', { name: 'in the lab', kind: 'dynamic', criteria: crit, department_id: deptId });
    const b = await backend.client.post('/api/v1/cohorts', { name: 'in a gone dept', kind: 'dynamic', criteria: crit, department_id: 'no-such-dept' });
    const c = await backend.client.post('/api/v1/cohorts', { name: 'org wide', kind: 'dynamic', criteria: crit });
    const { cohorts } = (await backend.client.get('/api/v1/cohorts')).body as { cohorts: Array<{ id: string; department_id: string | null; department_name: string | null }> };
    const byId = new Map(cohorts.map((x) => [x.id, x]));
    expect(byId.get(a.body.id)).toMatchObject({ department_id: deptId, department_name: 'Research lab' });
    expect(byId.get(b.body.id)).toMatchObject({ department_id: 'no-such-dept', department_name: null });
    expect(byId.get(c.body.id)).toMatchObject({ department_id: null, department_name: null });
    // the other org has no such department, nor these cohorts
    expect((await other.client.get('/api/v1/cohorts')).body.cohorts.map((x: { id: string }) => x.id)).not.toContain(a.body.id);
    for (const x of [a, b, c]) await backend.client.delete(`/api/v1/cohorts/${x.body.id}`);
  });

  it('recomputation records who joined and who left', async () => {
    const crit = [{ kind: 'performed', event_type: 'any', min_count: 2, days: 7 }];
    const created = await backend.client.post('/api/v1/cohorts', { name: 'weekly twice', kind: 'dynamic', criteria: crit });
    const id = created.body.id;
    const t1 = AS_OF - 20 * DAY;
    const t2 = AS_OF;
    await backend.client.post(`/api/v1/cohorts/${id}/recompute`, { as_of: new Date(t1).toISOString() });
    const r2 = await backend.client.post(`/api/v1/cohorts/${id}/recompute`, { as_of: new Date(t2).toISOString() });
    const a = new Set(all(events, crit, t1));
    const b = new Set(all(events, crit, t2));
    expect(r2.body.joined).toBe([...b].filter((u) => !a.has(u)).length);
    expect(r2.body.left).toBe([...a].filter((u) => !b.has(u)).length);
    const h = await backend.client.get(`/api/v1/cohorts/${id}/history`);
    expect(h.status, h.text).toBe(200);
    const sizes = h.body.sizes.map((s: any) => [s.at, s.size]);
    expect(sizes.slice(-2)).toEqual([
      [new Date(t1).toISOString(), a.size],
      [new Date(t2).toISOString(), b.size],
    ]);
    const leftAtT2 = h.body.changes.filter((c: any) => c.at === new Date(t2).toISOString() && c.change === 'left').map((c: any) => c.user_id).sort();
    expect(leftAtT2).toEqual([...a].filter((u) => !b.has(u)).sort());
  });

  it('the scheduled job recomputes dynamic cohorts now', async () => {
    const crit = [{ kind: 'performed', event_type: 'session', min_count: 5, days: 3650 }];
    const created = await backend.client.post('/api/v1/cohorts', { name: 'sessions ever', kind: 'dynamic', criteria: crit });
    await backend.client.post(`/api/v1/cohorts/${created.body.id}/recompute`, { as_of: '2025-01-01T00:00:00Z' });
    expect((await backend.client.get(`/api/v1/cohorts/${created.body.id}`)).body.size).toBe(0);
    await backend.runJob('cohorts', 'recompute-dynamic-cohorts');
    const want = all(events, crit, Date.now());
    expect(want.length).toBeGreaterThan(0);
    expect((await backend.client.get(`/api/v1/cohorts/${created.body.id}`)).body.size).toBe(want.length);
  });

  it('lists members page by page, each with the directory\'s name when the id is a person of the org', async () => {
    const named = await backend.org.addUser({ email: 'named-member@cohorts.local', role: 'Developer', displayName: 'Nia Member' });
    const ids = [named.userId, ...Array.from({ length: 11 }, (_, i) => `listed-${String(i).padStart(2, '0')}`)];
    const c = await backend.client.post('/api/v1/cohorts', { name: 'paged list', kind: 'static', user_ids: ids });
    expect(c.status, c.text).toBe(200);
    const pages: any[] = [];
    for (let offset = 0; offset < ids.length; offset += 5) {
      const page = await backend.client.get(`/api/v1/cohorts/${c.body.id}/members`, { limit: 5, offset });
      expect(page.status, page.text).toBe(200);
      expect(page.body.size).toBe(ids.length);
      expect(page.body.members.length).toBe(Math.min(5, ids.length - offset));
      pages.push(...page.body.members);
    }
    // every member once over the pages, named only when the directory knows the id
    expect(pages.map((m) => m.user_id).sort()).toEqual([...ids].sort());
    for (const m of pages) expect(m.display_name, m.user_id).toBe(m.user_id === named.userId ? 'Nia Member' : null);

    // a search matches ids, the directory's names and emails, in any case, against a reference over the list
    const email = 'named-member@cohorts.local';
    const reference = (q: string) => ids.filter((id) => [id, ...(id === named.userId ? ['Nia Member', email] : [])].some((t) => t.toLowerCase().includes(q.toLowerCase())));
    for (const q of ['nia', 'MEMBER@COHORTS', 'listed-0', 'LISTED-1', named.userId.slice(4, 12), 'd-0', 'nobody-matches', '%', '_']) {
      const found: any[] = [];
      for (let offset = 0; ; offset += 3) {
        const page = await backend.client.get(`/api/v1/cohorts/${c.body.id}/members`, { limit: 3, offset, q });
        expect(page.status, page.text).toBe(200);
        expect(page.body.size, q).toBe(ids.length);
        expect(page.body.matching, q).toBe(reference(q).length);
        found.push(...page.body.members);
        if (page.body.members.length < 3) break;
      }
      expect(found.map((m) => m.user_id).sort(), q).toEqual(reference(q).sort());
    }
    expect(reference('listed-0').length, 'the searches cover several matches').toBe(10);
    expect((await backend.client.get(`/api/v1/cohorts/${c.body.id}/members`, { q: '' })).status).toBe(400);
  });

  it('static cohorts from ids and CSV; listed at /cohorts and /users/cohorts; retention and spend filtered by a cohort', async () => {
    const created = await backend.client.post('/api/v1/cohorts', { name: 'pilot group', kind: 'static', user_ids: ['u1', 'u2', 'u3'] });
    expect(created.status, created.text).toBe(200);
    expect(created.body.size).toBe(3);
    const id = created.body.id;
    const up = await backend.client.post(`/api/v1/cohorts/${id}/members/csv`, { csv: 'user_id,name\nu4,Four\n"u5",Five\nu1,One\n' });
    expect(up.body).toEqual({ size: 5, joined: 2, left: 0 });
    const members = new Set(['u1', 'u2', 'u3', 'u4', 'u5']);

    for (const path of ['/api/v1/cohorts', '/api/v1/users/cohorts']) {
      const list = await backend.client.get(path);
      expect(list.status, `${path} ${list.text}`).toBe(200);
      expect(list.body.cohorts.find((c: any) => c.id === id)).toMatchObject({ name: 'pilot group', kind: 'static', size: 5 });
    }

    const q = { from: '2026-01-05T00:00:00Z', to: '2026-03-30T00:00:00Z', tz: 'Asia/Kolkata', period: 'week', periods: 5, mode: 'recurring', counting: 'exact', start_event: 'any', return_event: 'any' } as const;
    const ret = await backend.client.get('/api/v1/cohorts/retention', { ...q, cohort_id: id });
    expect(ret.status, ret.text).toBe(200);
    const ref = referenceRetention(events, { ...q, users: members });
    for (const c of ret.body.cohorts) {
      const want = ref.get(periodId(Date.parse(c.cohort), 'week', q.tz))!;
      expect([c.size, c.retained]).toEqual([want.size, want.retained]);
    }

    const sp = await backend.client.get(`/api/v1/cohorts/${id}/spend`, { from: '2026-02-01T00:00:00Z', to: '2026-04-01T00:00:00Z', period: 'month' });
    expect(sp.status, sp.text).toBe(200);
    for (const month of ['2026-02', '2026-03']) {
      const inv = events.filter((e) => e.event_type === 'agent_invocation' && members.has(e.user_id) && e.timestamp.startsWith(month));
      const row = sp.body.series.find((s: any) => s.period.startsWith(month)) ?? { invocations: 0, cost_usd: 0, input_tokens: 0, output_tokens: 0, active_members: 0 };
      expect(row.invocations).toBe(inv.length);
      expect(row.cost_usd).toBeCloseTo(inv.reduce((a, e) => a + e.cost_usd!, 0), 6);
      expect(row.input_tokens).toBe(inv.reduce((a, e) => a + e.input_tokens!, 0));
      expect(row.output_tokens).toBe(inv.reduce((a, e) => a + e.output_tokens!, 0));
      expect(row.active_members).toBe(new Set(inv.map((e) => e.user_id)).size);
    }
  });

  it('spend cohorts: cost and tokens of each first-time cohort in each later month match the events', async () => {
    const q = { from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z', tz: 'UTC', period: 'month', periods: 3, mode: 'first_time', start_event: 'any', return_event: 'any', spend: true } as const;
    const res = await backend.client.get('/api/v1/cohorts/retention', q);
    expect(res.status, res.text).toBe(200);
    const firstMonth = new Map<string, string>();
    for (const e of [...events].sort((a, b) => a.timestamp.localeCompare(b.timestamp))) if (!firstMonth.has(e.user_id)) firstMonth.set(e.user_id, e.timestamp.slice(0, 7));
    const monthAfter = (m: string, k: number) => {
      const d = new Date(`${m}-01T00:00:00Z`);
      d.setUTCMonth(d.getUTCMonth() + k);
      return d.toISOString().slice(0, 7);
    };
    let spent = 0;
    for (const c of res.body.cohorts) {
      const m = c.cohort.slice(0, 7);
      const members = new Set([...firstMonth].filter(([, fm]) => fm === m).map(([u]) => u));
      expect(c.size).toBe(members.size);
      c.cost_usd.forEach((cost: number, k: number) => {
        const inv = events.filter((e) => e.event_type === 'agent_invocation' && members.has(e.user_id) && e.timestamp.startsWith(monthAfter(m, k)));
        expect(cost).toBeCloseTo(inv.reduce((a, e) => a + e.cost_usd!, 0), 6);
        expect(c.input_tokens[k]).toBe(inv.reduce((a, e) => a + e.input_tokens!, 0));
        expect(c.output_tokens[k]).toBe(inv.reduce((a, e) => a + e.output_tokens!, 0));
        spent += cost;
      });
    }
    expect(spent).toBeGreaterThan(0);
  });

  it('retention curves of several cohorts: size-weighted over their period cohorts', async () => {
    const a = await backend.client.post('/api/v1/cohorts', { name: 'curve a', kind: 'static', user_ids: ['u0', 'u6', 'u9', 'u12', 'u15', 'u20'] });
    const b = await backend.client.post('/api/v1/cohorts', { name: 'curve b', kind: 'static', user_ids: ['u1', 'u2', 'u7', 'u8', 'u30', 'u31', 'u40'] });
    const q = { from: '2026-01-05T00:00:00Z', to: '2026-03-02T00:00:00Z', tz: 'UTC', period: 'week', periods: 4, mode: 'recurring', counting: 'on_or_after', start_event: 'any', return_event: 'any' } as const;
    const res = await backend.client.get('/api/v1/cohorts/retention/curves', { ...q, cohort_ids: `${a.body.id},${b.body.id}` });
    expect(res.status, res.text).toBe(200);
    const sets = [new Set(['u0', 'u6', 'u9', 'u12', 'u15', 'u20']), new Set(['u1', 'u2', 'u7', 'u8', 'u30', 'u31', 'u40'])];
    res.body.curves.forEach((curve: any, i: number) => {
      const ref = [...referenceRetention(events, { ...q, users: sets[i] }).values()];
      const size = ref.reduce((s, r) => s + r.size, 0);
      expect(curve.size).toBe(size);
      for (let k = 0; k < 4; k++) expect(curve.retained[k]).toBe(ref.reduce((s, r) => s + r.retained[k]!, 0));
      curve.rates.forEach((r: number, k: number) => expect(r).toBeCloseTo(curve.retained[k] / size, 9));
    });
  });

  it('tenants: a cohort of one org is not found from another; names may repeat across orgs', async () => {
    const mine = await backend.client.post('/api/v1/cohorts', { name: 'shared name', kind: 'static', user_ids: ['u1'] });
    const theirs = await other.client.post('/api/v1/cohorts', { name: 'shared name', kind: 'static', user_ids: ['u1', 'u2'] });
    expect(theirs.status, theirs.text).toBe(200);
    expect((await other.client.get(`/api/v1/cohorts/${mine.body.id}`)).status).toBe(404);
    expect((await other.client.get('/api/v1/cohorts/retention', { cohort_id: mine.body.id })).status).toBe(404);
    expect((await other.client.get('/api/v1/cohorts')).body.cohorts.map((c: any) => c.name)).toEqual(['shared name']);
    // the same cohort definition over the other org's events: its own members
    const crit = criteriaCases[0]!.criteria;
    const created = await other.client.post('/api/v1/cohorts', { name: 'power users', kind: 'dynamic', criteria: crit });
    const re = await other.client.post(`/api/v1/cohorts/${created.body.id}/recompute`, { as_of: new Date(AS_OF).toISOString() });
    expect(re.body.size).toBe(all(randomEvents(12), crit, AS_OF).length);
  });

  it('edits, deletes, permissions and bad input', async () => {
    const c = await backend.client.post('/api/v1/cohorts', { name: 'to edit', kind: 'dynamic', criteria: [{ kind: 'first_time', event_type: 'any', days: 7 }] });
    const patched = await backend.client.patch(`/api/v1/cohorts/${c.body.id}`, { name: 'edited', criteria: [{ kind: 'performed', event_type: 'command', min_count: 1, days: 3650 }] });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.name).toBe('edited');
    expect(patched.body.size).toBe(all(events, [{ kind: 'performed', event_type: 'command', min_count: 1, days: 3650 }], Date.now()).length);

    const dev = await backend.org.addUser({ email: 'dev@cohorts.local', role: 'Developer' });
    expect((await dev.post('/api/v1/cohorts', { name: 'x', kind: 'static', user_ids: ['u1'] })).status).toBe(403);
    expect((await dev.get('/api/v1/cohorts')).status).toBe(200);
    expect((await dev.get(`/api/v1/cohorts/${c.body.id}/members`)).status).toBe(403);

    const bad = async (body: unknown, field: string) => {
      const res = await backend.client.post('/api/v1/cohorts', body);
      expect(res.status, res.text).toBe(400);
      expect(JSON.stringify(res.body.error)).toContain(field);
    };
    await bad({ name: 'n1', kind: 'dynamic', criteria: [{ kind: 'performed', event_type: 'any', days: 3 }] }, 'criteria[0].min_count');
    await bad({ name: 'n2', kind: 'dynamic', criteria: [{ kind: 'performed', event_type: 'nope', days: 3, min_count: 1 }] }, 'criteria[0].event_type');
    await bad({ name: 'n3', kind: 'dynamic', criteria: [{ kind: 'regularly', event_type: 'any', period_days: 7, min_periods: 5, of_periods: 4 }] }, 'min_periods');
    await bad({ name: 'n4', kind: 'weird' }, 'kind');
    await bad({ name: 'n5', kind: 'static', criteria: [{ kind: 'first_time', event_type: 'any', days: 1 }] }, 'criteria');
    await bad({ name: 'edited', kind: 'static', user_ids: [] }, 'name');
    await bad({ kind: 'static' }, 'name');
    expect((await backend.client.get('/api/v1/cohorts/not-a-uuid')).status).toBe(400);
    expect((await backend.client.get('/api/v1/cohorts/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await backend.client.get('/api/v1/cohorts/retention/curves', { cohort_ids: '00000000-0000-4000-8000-000000000000' })).status).toBe(404);

    expect((await backend.client.delete(`/api/v1/cohorts/${c.body.id}`)).status).toBe(204);
    expect((await backend.client.get(`/api/v1/cohorts/${c.body.id}`)).status).toBe(404);
  });

  it('sizes over time: the size at `from` and after each recomputation, against the reference at each instant', async () => {
    const crit = [{ kind: 'performed', event_type: 'any', min_count: 1, days: 5 }];
    const created = await backend.client.post('/api/v1/cohorts', { name: 'five-day actives', kind: 'dynamic', criteria: crit });
    const id = created.body.id;
    const instants = [40, 33, 26, 19, 12, 5].map((d) => AS_OF - d * DAY);
    for (const t of instants) await backend.client.post(`/api/v1/cohorts/${id}/recompute`, { as_of: new Date(t).toISOString() });
    const want = instants.map((t) => all(events, crit, t).length);
    expect(new Set(want).size).toBeGreaterThan(2);
    // from between the 2nd and 3rd recomputation: the first point is the size then
    const from = instants[1]! + DAY;
    const res = await backend.client.get('/api/v1/cohorts/sizes', { from: new Date(from).toISOString(), to: new Date(AS_OF).toISOString(), cohort_ids: id });
    expect(res.status, res.text).toBe(200);
    const [c] = res.body.cohorts;
    expect(c).toMatchObject({ id, name: 'five-day actives', kind: 'dynamic' });
    expect(c.points[0]).toEqual({ at: new Date(from).toISOString(), size: want[1], joined: 0, left: 0 });
    // one point per recomputation that changed the members, each with the reference size then
    const changed = instants.slice(2).filter((_, i) => JSON.stringify(all(events, crit, instants[i + 2]!)) !== JSON.stringify(all(events, crit, instants[i + 1]!)));
    expect(c.points.slice(1).map((p: any) => p.at)).toEqual(changed.map((t) => new Date(t).toISOString()));
    for (const p of c.points.slice(1)) {
      const t = Date.parse(p.at);
      expect(p.size).toBe(all(events, crit, t).length);
      const before = new Set(all(events, crit, instants[instants.indexOf(t) - 1]!));
      const after = new Set(all(events, crit, t));
      expect(p.joined).toBe([...after].filter((u) => !before.has(u)).length);
      expect(p.left).toBe([...before].filter((u) => !after.has(u)).length);
    }
    // a Developer sees sizes (no ids); another org cannot name this cohort
    const dev = await backend.org.addUser({ email: 'sizes-dev@c.local', role: 'Developer' });
    expect((await dev.get('/api/v1/cohorts/sizes', { cohort_ids: id })).status).toBe(200);
    expect((await other.client.get('/api/v1/cohorts/sizes', { cohort_ids: id })).status).toBe(404);
    // without ids: every saved cohort (up to 10)
    const everyone = await backend.client.get('/api/v1/cohorts/sizes', {});
    expect(everyone.body.cohorts.length).toBeGreaterThan(1);
    for (const [q, field] of [[{ cohort_ids: ',' }, 'cohort_ids'], [{ from: 'soon' }, 'from'], [{ cohort_ids: id, nonsense: 1 }, 'nonsense']] as const) {
      const bad = await backend.client.get('/api/v1/cohorts/sizes', q as any);
      expect(bad.status, JSON.stringify(q)).toBe(400);
      expect(JSON.stringify(bad.body.error)).toContain(field);
    }
  });
});

describe('the demo example cohorts', () => {
  let backend: TestBackend;
  const NOW = Date.now();
  const events: Ev[] = [];

  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin] });
    // 40 people invoking agents over the last 5 weeks; some most days, some who stopped 1–3 weeks ago
    const r = rng(23);
    for (let u = 0; u < 40; u++) {
      const stop = r() < 0.3 ? NOW - Math.floor((8 + r() * 14) * DAY) : NOW;
      const daily = 0.2 + r() * 0.8;
      for (let d = 35; d >= 0; d--) {
        const t = NOW - d * DAY - Math.floor(r() * DAY);
        if (t < stop && r() < daily) events.push({ event_id: `d${u}-${d}`, event_type: 'agent_invocation', timestamp: new Date(t).toISOString(), user_id: `u${u}`, department_id: 'dept-x' });
      }
    }
    await backend.org.insertEvents(events.map((e) => ({ ...e })));
  }, 60_000);
  afterAll(() => backend?.close());

  it('are created by the seeder, computed, and hold whom the reference says', async () => {
    const seeded = await backend.seedDemoData({ from: new Date(NOW - 35 * DAY), to: new Date(NOW) });
    expect(seeded).toEqual([{ plugin: 'cohorts', description: expect.stringMatching(/cohorts/), ok: true }]);
    const list = (await backend.client.get('/api/v1/cohorts')).body.cohorts as Array<{ id: string; name: string; kind: string; criteria: Crit[]; size: number }>;
    expect(list.map((c) => c.name).sort()).toEqual(['Daily agent users', 'Stopped using agents']);
    for (const c of list) {
      expect(c.kind).toBe('dynamic');
      expect(c.size, c.name).toBeGreaterThan(0);
      const re = await backend.client.post(`/api/v1/cohorts/${c.id}/recompute`, { as_of: new Date(NOW).toISOString() });
      expect(re.status, re.text).toBe(200);
      const members = await backend.client.get(`/api/v1/cohorts/${c.id}/members`, { limit: 10000 });
      expect(members.body.members.map((m: { user_id: string }) => m.user_id).sort(), c.name).toEqual(all(events, c.criteria, NOW));
    }
  });
});
