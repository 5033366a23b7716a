/**
 * The knowledge plugin against a real kernel (PGlite + chDB) through the SDK harness.
 * Every figure is compared with the brute-force reference in reference.ts, computed
 * from the random events the test sent; a second org holds the same artifact ids,
 * user ids and department ids and must never count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend, type TestClient, type TestOrg } from '@orrery/backend-test-utils';
import { definePlugin, metricSourceRef, need, parseTimeRange, timeRangeQuerySchema } from '@orrery/plugin-sdk';
import plugin from '../backend/index.ts';
import * as ref from './reference.ts';

const { START, DAY, HOUR } = ref;
const DAYS = 10;
// whole data, and ranges whose edges cut through days and hours
const RANGES: Array<[number, number]> = [
  [START - 40 * DAY, START + 60 * DAY],
  [START + 2 * DAY + 5 * HOUR + 17_321, START + 7 * DAY - 3 * HOUR - 9_999],
  [START + 4 * DAY + 11 * HOUR, START + 5 * DAY + 2 * HOUR],
];
const q = ([from, to]: [number, number], extra: Record<string, unknown> = {}) => ({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), ...extra });

const fieldOf = (body: any) => (Array.isArray(body.error?.details) ? body.error.details.map((d: any) => d.field) : [body.error?.details?.field]);
const close = (a: number | null, b: number | null) => {
  if (b === null) expect(a).toBeNull();
  else expect(a).toBeCloseTo(b, 12);
};

/** A plugin that reads knowledge's metric sources through the public SDK only, as alerts or reports would. */
const consumer = definePlugin({
  from: import.meta.url,
  id: 'knowledge-metric-consumer',
  version: '0.1.0',
  sdk: '^2.0.0',
  title: 'Knowledge metric consumer',
  description: "Reads knowledge's metrics",
  routePrefix: 'knowledge-metric-consumer',
  permissions: { 'knowledge-metric-consumer.read': ['Admin', 'Manager', 'Developer'] },
  needs: [need(metricSourceRef, '^1.0.0', { from: 'knowledge' })],
  register(env) {
    env.route<{ metric: string; from?: string; to?: string; department_id?: string }>({
      method: 'GET',
      path: '/read',
      permission: 'knowledge-metric-consumer.read',
      summary: "one of knowledge's metrics",
      schema: {
        querystring: { type: 'object', required: ['metric'], additionalProperties: false, properties: { ...timeRangeQuerySchema, metric: { type: 'string' }, department_id: { type: 'string' } } },
        response: { 200: { type: 'object', properties: { value: { type: ['number', 'null'] }, metrics: { type: 'array', items: { type: 'string' } } } } },
      },
      async handler(req, ctx) {
        const source = await ctx.services.get(metricSourceRef, 'knowledge');
        return { value: await source.read(req.query.metric, { range: parseTimeRange(req.query), departmentId: req.query.department_id }), metrics: source.metrics.map((m) => m.name) };
      },
    });
  },
});

describe('knowledge', () => {
  let b: TestBackend;
  let other: TestOrg;
  let mgrEng: TestClient & { userId: string };
  let devEng: TestClient & { userId: string };
  let mgrSales: TestClient & { userId: string };
  let opsUser: string;
  let dataUser: string;
  let mover: string;
  let dept: Record<string, string>;
  let users: Record<string, string>;
  let evA: ref.Ev[];
  let evB: ref.Ev[];

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [plugin, consumer] });
    mgrEng = await b.org.addUser({ email: 'mgr-eng@k.local', role: 'Manager', departments: [{ name: 'Eng', manager: true }] });
    devEng = await b.org.addUser({ email: 'dev-eng@k.local', role: 'Developer', departments: ['Eng'] });
    mgrSales = await b.org.addUser({ email: 'mgr-sales@k.local', role: 'Manager', departments: [{ name: 'Sales', manager: true }] });
    opsUser = (await b.org.addUser({ email: 'ops@k.local', role: 'Developer', departments: ['Ops'] })).userId;
    dataUser = (await b.org.addUser({ email: 'data@k.local', role: 'Developer', departments: ['Data'], restricted: ['Data'] })).userId;
    // a member of Sales whose events carry Eng: the directory, not the events, says whose manager sees them
    mover = (await b.org.addUser({ email: 'mover@k.local', role: 'Developer', departments: ['Sales'] })).userId;
    dept = Object.fromEntries(b.org.departments);
    users = {
      [mgrEng.userId]: dept.Eng!, [devEng.userId]: dept.Eng!, [mgrSales.userId]: dept.Sales!,
      [opsUser]: dept.Ops!, [dataUser]: dept.Data!, [mover]: dept.Eng!,
      'u-1': dept.Eng!, 'u-2': dept.Eng!, 'u-3': dept.Sales!, 'u-4': dept.Sales!, 'u-5': dept.Ops!, 'u-6': dept.Ops!, 'u-7': dept.Data!, 'u-8': dept.Data!, 'u-9': dept.Ops!,
    };
    evA = ref.generate(11, users, { artifacts: 120, days: DAYS, prefix: 'a' });
    evB = ref.generate(99, users, { artifacts: 80, days: DAYS, prefix: 'b' });
    other = await b.createOrg('knowledge-other');
    await b.org.insertEvents(evA as any);
    await other.insertEvents(evB as any);
  }, 300_000); // a fresh kernel with two orgs: minutes on a busy shared machine
  afterAll(() => b?.close());

  it('summary: action counts, reuse rate and cross-department reuse rate match the reference, per range and department', async () => {
    for (const r of RANGES) {
      for (const d of [undefined, dept.Eng, dept.Ops]) {
        const res = await b.client.get('/api/v1/knowledge/summary', q(r, d ? { department_id: d } : {}));
        expect(res.status).toBe(200);
        const want = ref.summary(evA, r[0], r[1], d);
        const { reuse_rate, cross_department_reuse_rate, ...counts } = want;
        expect(res.body).toMatchObject({ ...counts, suppressed: false });
        close(res.body.reuse_rate, reuse_rate);
        close(res.body.cross_department_reuse_rate, cross_department_reuse_rate);
      }
    }
    // the data exercises every branch: reuse by others, cross-department reuse, artifacts never reused
    const all = ref.summary(evA, ...RANGES[0]!);
    expect(all.reused_by_others).toBeGreaterThan(all.reused_cross_department);
    expect(all.reused_cross_department).toBeGreaterThan(0);
    expect(all.artifacts_created).toBeGreaterThan(all.reused_by_others);
  });

  it('another org with the same artifact, user and department ids sees only its own', async () => {
    const r = RANGES[0]!;
    const res = await other.client.get('/api/v1/knowledge/summary', q(r));
    const want = ref.summary(evB, r[0], r[1]);
    expect(res.body.created).toBe(want.created);
    expect(res.body.reused_by_others).toBe(want.reused_by_others);
    expect((await other.client.get('/api/v1/knowledge/flow', q(r))).body.links).toEqual(ref.flow(evB, r[0], r[1]));
    const ex = await other.client.get('/api/v1/knowledge/experts', q(r, { limit: 500 }));
    expect(ex.body.experts.map(({ top_artifacts: _evidence, ...e }: any) => e)).toEqual(ref.experts(evB, r[0], r[1]));
  });

  it('experts: per author distinct reusers, reuses, artifacts and departments reached, most reusers first, with filters', async () => {
    for (const r of RANGES) {
      for (const f of [{}, { agent_name: 'coder' }, { artifact_type: 'snippet' }, { agent_name: 'writer', artifact_type: 'prompt' }]) {
        const res = await b.client.get('/api/v1/knowledge/experts', q(r, { ...f, limit: 500 }));
        expect(res.status).toBe(200);
        const want = ref.experts(evA, r[0], r[1], { agent: (f as any).agent_name, type: (f as any).artifact_type });
        expect(res.body.experts.map(({ top_artifacts: _evidence, ...e }: any) => e)).toEqual(want);
      }
    }
    const r = RANGES[0]!;
    const sales = await b.client.get('/api/v1/knowledge/experts', q(r, { department_id: dept.Sales, limit: 500 }));
    expect(sales.body.experts.map(({ top_artifacts: _evidence, ...e }: any) => e)).toEqual(ref.experts(evA, r[0], r[1], { dept: dept.Sales }));
    expect(sales.body.experts.length).toBeGreaterThan(0);
    const top3 = await b.client.get('/api/v1/knowledge/experts', q(r, { limit: 3 }));
    expect(top3.body.experts).toHaveLength(3);
    expect(top3.body.experts.map((e: any) => e.user_id)).toEqual(ref.experts(evA, ...r).slice(0, 3).map((e) => e.user_id));
    // the evidence: each expert's listed artifacts are theirs, and the first is their most widely reused
    const arts = ref.topArtifacts(evA, ...r);
    for (const e of top3.body.experts) {
      const theirs = arts.filter((a) => a.author_id === e.user_id);
      expect(e.top_artifacts[0].reusers).toBe(Math.max(...theirs.map((a) => a.reusers)));
      for (const t of e.top_artifacts) expect(theirs.find((a) => a.artifact_id === t.artifact_id)).toMatchObject({ reusers: t.reusers, reuses: t.reuses, artifact_type: t.artifact_type, agent_name: t.agent_name });
    }
  });

  it("flow: reuses by others from the author's department to the reuse event's department", async () => {
    for (const r of RANGES) {
      const res = await b.client.get('/api/v1/knowledge/flow', q(r));
      expect(res.status).toBe(200);
      expect(res.body.links).toEqual(ref.flow(evA, r[0], r[1]));
      expect(res.body.suppressed_links).toBe(0);
      const ops = await b.client.get('/api/v1/knowledge/flow', q(r, { department_id: dept.Ops }));
      expect(ops.body.links).toEqual(ref.flow(evA, r[0], r[1]).filter((l) => l.from_department_id === dept.Ops || l.to_department_id === dept.Ops));
    }
  });

  it('timeline: created, annotated and reused per day and department', async () => {
    const r = RANGES[1]!;
    const res = await b.client.get('/api/v1/knowledge/timeline', q(r, { granularity: 'day', by: 'department' }));
    expect(res.status).toBe(200);
    expect(res.body.series).toEqual(ref.timelineByDepartmentDay(evA, r[0], r[1]));
  });

  it('most valuable artifacts by reusers, departments reached and reuses followed by a successful invocation within the hour', async () => {
    const r = RANGES[0]!;
    const all = ref.topArtifacts(evA, ...r);
    expect(all.some((a) => a.successful_reuses > 0 && a.successful_reuses < a.reuses)).toBe(true);
    const key = { reusers: 'reusers', departments: 'departments_reached', successful_reuses: 'successful_reuses', reuses: 'reuses' } as const;
    for (const sort of Object.keys(key) as Array<keyof typeof key>) {
      const res = await b.client.get('/api/v1/knowledge/artifacts/top', q(r, { sort, limit: 500 }));
      expect(res.status).toBe(200);
      const k = key[sort];
      const want = [...all].sort((x, y) => y[k] - x[k] || y.reuses - x.reuses || (x.artifact_id < y.artifact_id ? -1 : 1));
      expect(res.body.artifacts).toEqual(want);
    }
  });

  it('expertise network: author → reuser edges', async () => {
    for (const r of RANGES) {
      const res = await b.client.get('/api/v1/knowledge/network', q(r));
      expect(res.status).toBe(200);
      const got = res.body.edges.map((e: any) => ({ author_id: e.author_id, reuser_id: e.reuser_id, reuses: e.reuses, artifacts: e.artifacts }));
      const sortKey = (e: any) => `${e.author_id}|${e.reuser_id}`;
      expect(got.sort((x: any, y: any) => sortKey(x).localeCompare(sortKey(y)))).toEqual(ref.network(evA, r[0], r[1]).sort((x, y) => sortKey(x).localeCompare(sortKey(y))));
    }
  });

  it('transfer effectiveness: success rate before and after the first reuse of a department\'s work, with the sample size', async () => {
    for (const r of RANGES.slice(0, 2)) {
      for (const weeks of [1, 4]) {
        const res = await b.client.get('/api/v1/knowledge/transfer', q(r, { weeks }));
        expect(res.status).toBe(200);
        const want = ref.transfer(evA, r[0], r[1], weeks);
        expect(res.body.departments.map((d: any) => d.from_department_id).sort()).toEqual([...want.keys()].sort());
        for (const d of res.body.departments) {
          const w = want.get(d.from_department_id)!;
          expect(d).toMatchObject({ reusers: w.reusers, reusers_with_both: w.reusers_with_both, invocations_before: w.invocations_before, invocations_after: w.invocations_after });
          close(d.success_rate_before, w.success_rate_before);
          close(d.success_rate_after, w.success_rate_after);
        }
      }
    }
  });

  describe('privacy', () => {
    const r = RANGES[0]!;
    // the directory's members of a department (and the caller); events' departments play no part
    const membersOf = (d: string) => ({ Eng: [mgrEng.userId, devEng.userId], Sales: [mgrSales.userId, mover], Ops: [opsUser], Data: [dataUser] })[d]!;
    const only = (ids: string[]) => (user: string) => ids.includes(user);

    it('a Developer may not see individuals by default; department aggregates below the minimum group size are withheld', async () => {
      expect((await devEng.get('/api/v1/knowledge/experts', q(r))).status).toBe(403);
      expect((await devEng.get('/api/v1/knowledge/network', q(r))).status).toBe(403);
      const flow = await devEng.get('/api/v1/knowledge/flow', q(r));
      const all = ref.flow(evA, ...r);
      expect(flow.body.links).toEqual(all.filter((l) => l.reusers >= 5));
      expect(flow.body.suppressed_links).toBe(all.filter((l) => l.reusers < 5).length);
      expect(flow.body.suppressed_links).toBeGreaterThan(0);
      // a short range in one department: fewer than 5 people
      const small = RANGES[2]!;
      const want = ref.summary(evA, small[0], small[1], dept.Data);
      const s = await devEng.get('/api/v1/knowledge/summary', q(small, { department_id: dept.Data }));
      if (want.users < 5) expect(s.body).toMatchObject({ suppressed: true, created: null, reuse_rate: null });
      else expect(s.body).toMatchObject({ suppressed: false, created: want.created });
      const big = await devEng.get('/api/v1/knowledge/summary', q(r, { department_id: dept.Eng }));
      expect(big.body).toMatchObject({ suppressed: false, created: ref.summary(evA, r[0], r[1], dept.Eng).created });
      const top = await devEng.get('/api/v1/knowledge/artifacts/top', q(r));
      expect(top.body.artifacts.length).toBeGreaterThan(0);
      expect(top.body.artifacts.every((a: any) => a.author_id === null)).toBe(true);
    });

    it("a Manager sees the members of the departments they manage (per the directory) and themself only", async () => {
      const eng = only([...membersOf('Eng'), mgrEng.userId]);
      const res = await mgrEng.get('/api/v1/knowledge/experts', q(r, { limit: 500 }));
      expect(res.status).toBe(200);
      const want = ref.experts(evA, ...r, { visible: eng });
      expect(res.body.experts.map(({ top_artifacts: _evidence, ...e }: any) => e)).toEqual(want);
      expect(want.length).toBeGreaterThan(0);
      expect(want.length).toBeLessThan(ref.experts(evA, ...r).length);
      // the mover's events carry Eng, yet only the Sales manager (their department in the directory) sees them
      const all = ref.experts(evA, ...r).map((e) => e.user_id);
      expect(all).toContain(mover);
      expect(res.body.experts.map((e: any) => e.user_id)).not.toContain(mover);
      // people who are in no department of the directory (ids only in events) are nobody's to see
      expect(res.body.experts.map((e: any) => e.user_id)).not.toContain('u-1');
      const sales = await mgrSales.get('/api/v1/knowledge/experts', q(r, { limit: 500 }));
      const salesWant = ref.experts(evA, ...r, { visible: only([...membersOf('Sales'), mgrSales.userId]) });
      expect(sales.body.experts.map(({ top_artifacts: _evidence, ...e }: any) => e)).toEqual(salesWant);
      expect(salesWant.map((e) => e.user_id)).toContain(mover);
      const net = await mgrEng.get('/api/v1/knowledge/network', q(r));
      const edgeKey = (e: any) => `${e.author_id}|${e.reuser_id}`;
      expect(net.body.edges.map((e: any) => ({ author_id: e.author_id, reuser_id: e.reuser_id, reuses: e.reuses, artifacts: e.artifacts })).sort((x: any, y: any) => edgeKey(x).localeCompare(edgeKey(y))))
        .toEqual(ref.network(evA, ...r, eng).sort((x, y) => edgeKey(x).localeCompare(edgeKey(y))));
      // artifacts/top names the author only when the Manager may see them
      const top = await mgrEng.get('/api/v1/knowledge/artifacts/top', q(r, { limit: 500 }));
      for (const a of top.body.artifacts) {
        const author = ref.authors(evA).get(a.artifact_id)!.author;
        expect(a.author_id).toBe(eng(author) ? author : null);
      }
      expect(top.body.artifacts.some((a: any) => a.author_id === null)).toBe(true);
      expect(top.body.artifacts.some((a: any) => a.author_id !== null)).toBe(true);
      // Managers see individuals: no group-size suppression
      expect((await mgrEng.get('/api/v1/knowledge/flow', q(r))).body.links).toEqual(ref.flow(evA, ...r));
    });

    it('with individual access for Admins only a Manager gets 403 and the group-size rule', async () => {
      await b.client.put('/api/v1/knowledge/settings', { privacy: { individualAccess: 'admins' } });
      try {
        expect((await mgrEng.get('/api/v1/knowledge/experts', q(r))).status).toBe(403);
        expect((await mgrEng.get('/api/v1/knowledge/network', q(r))).status).toBe(403);
        const flow = await mgrEng.get('/api/v1/knowledge/flow', q(r));
        expect(flow.body.links).toEqual(ref.flow(evA, ...r).filter((l) => l.reusers >= 5));
        const top = await mgrEng.get('/api/v1/knowledge/artifacts/top', q(r));
        expect(top.body.artifacts.every((a: any) => a.author_id === null)).toBe(true);
        expect((await b.client.get('/api/v1/knowledge/experts', q(r))).status).toBe(200);
      } finally {
        await b.client.put('/api/v1/knowledge/settings', { privacy: { individualAccess: 'managers', minGroupSize: 5 } });
      }
    });

    it('with individual access for everyone a Developer sees all but the members of the restricted department; only an Admin changes the setting', async () => {
      expect((await devEng.put('/api/v1/knowledge/settings', { privacy: { individualAccess: 'everyone' } })).status).toBe(403);
      const bad = await b.client.put('/api/v1/knowledge/settings', { privacy: { individualAccess: 'all' } });
      expect(bad.status).toBe(400);
      expect(fieldOf(bad.body)).toContain('privacy.individualAccess');
      const put = await b.client.put('/api/v1/knowledge/settings', { privacy: { individualAccess: 'everyone', minGroupSize: 3 } });
      expect(put.body).toEqual({ privacy: { individualAccess: 'everyone', minGroupSize: 3 } });
      try {
        // everyone but the members of the restricted department (per the directory)
        const res = await devEng.get('/api/v1/knowledge/experts', q(r, { limit: 500 }));
        expect(res.status).toBe(200);
        expect(res.body.experts.map(({ top_artifacts: _evidence, ...e }: any) => e)).toEqual(ref.experts(evA, ...r, { visible: (u) => !membersOf('Data').includes(u) }));
        expect(res.body.experts.map((e: any) => e.user_id)).not.toContain(dataUser);
        // the Admin sees everyone
        const admin = await b.client.get('/api/v1/knowledge/experts', q(r, { limit: 500 }));
        expect(admin.body.experts.map((e: any) => e.user_id)).toContain(dataUser);
      } finally {
        await b.client.put('/api/v1/knowledge/settings', { privacy: { individualAccess: 'managers', minGroupSize: 5 } });
      }
    });
  });

  it('offers reuse rate, cross-department reuse rate and artifacts created as metric sources through the SDK', async () => {
    for (const r of RANGES) {
      for (const d of [undefined, dept.Eng, dept.Sales]) {
        const want = ref.summary(evA, r[0], r[1], d);
        const read = async (metric: string, client: TestClient = b.client) => (await client.get('/api/v1/knowledge-metric-consumer/read', q(r, { metric, ...(d ? { department_id: d } : {}) }))).body;
        const rate = await read('reuse_rate');
        expect(rate.metrics).toEqual(['reuse_rate', 'cross_department_reuse_rate', 'artifacts_created']);
        close(rate.value, want.reuse_rate);
        close((await read('cross_department_reuse_rate')).value, want.cross_department_reuse_rate);
        expect((await read('artifacts_created')).value).toBe(want.created);
        // a Developer (no individual access) gets no department figure over fewer than 5 people
        const dev = await read('artifacts_created', devEng);
        expect(dev.value).toBe(d && want.users < 5 ? null : want.created);
      }
    }
    const theirs = (await other.client.get('/api/v1/knowledge-metric-consumer/read', q(RANGES[0]!, { metric: 'artifacts_created' }))).body;
    expect(theirs.value).toBe(ref.summary(evB, ...RANGES[0]!).created);
    const bad = await b.client.get('/api/v1/knowledge-metric-consumer/read', q(RANGES[0]!, { metric: 'likes' }));
    expect(bad.status).toBe(400);
    expect(fieldOf(bad.body)).toContain('metric');
  });

  it("answers carry the directory's department names and people's display names for their ids", async () => {
    const r = RANGES[0]!;
    const byId = Object.fromEntries(Object.entries(dept).map(([name, id]) => [id, name]));
    const flow = (await b.client.get('/api/v1/knowledge/flow', q(r))).body;
    const ids = new Set<string>(flow.links.flatMap((l: any) => [l.from_department_id, l.to_department_id]));
    expect(ids.size).toBeGreaterThan(1);
    for (const id of ids) expect(flow.names.departments[id]).toBe(byId[id]);
    const top = (await b.client.get('/api/v1/knowledge/artifacts/top', q(r, { limit: 500 }))).body;
    for (const a of top.artifacts) expect(top.names.departments[a.department_id]).toBe(byId[a.department_id]);
    const ex = (await b.client.get('/api/v1/knowledge/experts', q(r, { limit: 500 }))).body;
    // members of the org have a display name; ids that are only in events have none
    const members = [mgrEng.userId, devEng.userId, mgrSales.userId];
    const shown = ex.experts.map((e: any) => e.user_id).filter((id: string) => members.includes(id));
    expect(shown.length).toBeGreaterThan(0);
    for (const id of shown) expect(typeof ex.names.people[id]).toBe('string');
    expect(ex.names.people['u-1']).toBeUndefined();
    const tl = (await b.client.get('/api/v1/knowledge/timeline', q(r, { by: 'department' }))).body;
    for (const row of tl.series) expect(tl.names.departments[row.group]).toBe(byId[row.group]);
    // the other org's events carry this org's department ids, which its own directory does not name
    const otherFlow = (await other.client.get('/api/v1/knowledge/flow', q(r))).body;
    expect(otherFlow.links.length).toBeGreaterThan(0);
    expect(otherFlow.names.departments).toEqual({});
  });

  it('lists its three widgets, per role, with the frontend remote', async () => {
    const mine = (body: any) => body.plugins.find((p: any) => p.id === 'knowledge');
    const admin = mine((await b.client.get('/api/v1/plugins')).body);
    expect(admin.widgets.map((w: any) => w.id).sort()).toEqual(['experts', 'knowledge-flow', 'knowledge-sharing']);
    expect(admin.remote?.entry).toBeTruthy();
    const dev = mine((await devEng.get('/api/v1/plugins')).body);
    expect(dev.widgets.map((w: any) => w.id)).toEqual(['knowledge-sharing']);
  });

  it('bad input is a 400 naming the field', async () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['/summary', { from: 'yesterday' }, 'from'],
      ['/summary', { from: '2026-05-02T00:00:00Z', to: '2026-05-01T00:00:00Z' }, 'from'],
      ['/summary', { department_id: '' }, 'department_id'],
      ['/experts', { limit: 0 }, 'limit'],
      ['/experts', { agent_name: 'x'.repeat(201) }, 'agent_name'],
      ['/flow', { to: 'soon' }, 'to'],
      ['/flow', { nonsense: 1 }, 'nonsense'],
      ['/artifacts/top', { sort: 'likes' }, 'sort'],
      ['/timeline', { granularity: 'hour', from: '2020-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 'granularity'],
      ['/transfer', { weeks: 99 }, 'weeks'],
    ];
    for (const [path, query, field] of cases) {
      const res = await b.client.get(`/api/v1/knowledge${path}`, query);
      expect(res.status, `${path} ${JSON.stringify(query)}`).toBe(400);
      expect(fieldOf(res.body), `${path} ${JSON.stringify(query)}`).toContain(field);
    }
  });
});
