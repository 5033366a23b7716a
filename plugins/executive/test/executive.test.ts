/**
 * The executive plugin against brute-force references (reference.ts) over random agent
 * invocations generated here: budgets (spent, burn rate, projection, share, status,
 * burn-down) at random instants, burn per group, the budget metric source, KPIs with
 * targets, insights and their evidence; permissions, visibility, tenant isolation, bad
 * input, alerts on and off, and forecasts through the trends plugin's service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend, type TestClient, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
// only to recompute what the trends service answers for the same history
import { trendsService } from '../../trends/backend/service.ts';
import { BETTER, DAY, month, refBudget, refBurnDown, refInsights, refKpiValues, rng, sumCost, within, type Filter, type Inv } from './reference.ts';
import { AT, END, START, generate, iso } from './data.ts';

const close = (actual: unknown, expected: number, label: string, digits = 6) => expect(actual as number, label).toBeCloseTo(expected, digits);

describe('executive', () => {
  let backend: TestBackend;
  let org: TestOrg;
  let admin: TestClient;
  let dev: TestClient & { userId: string };
  let manager: TestClient & { userId: string };
  let deps: { eng: string; ops: string; sales: string };
  let events: Inv[];
  const budgets: Array<{ id: string; name: string; amount: number; f: Filter; scope: string }> = [];

  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin], loadPluginFolders: true, onlyPlugins: ['metrics', 'alerts', 'trends'] });
    org = backend.org;
    admin = org.client;
    dev = await org.addUser({ email: 'dev@exec.test', role: 'Developer', departments: ['eng'] });
    manager = await org.addUser({ email: 'mgr@exec.test', role: 'Manager', departments: [{ name: 'ops', manager: true }] });
    await org.addUser({ email: 'sales@exec.test', role: 'Developer', departments: ['sales'] });
    deps = { eng: org.departments.get('eng')!, ops: org.departments.get('ops')!, sales: org.departments.get('sales')! };
    events = generate(7, deps, 4000);
    await org.insertEvents(events as unknown as Array<Record<string, unknown>>);

    // amounts chosen around the reference's own figures so that all three statuses occur
    const ref = (f: Filter) => refBudget(events, 1, f, AT);
    const specs: Array<{ name: string; scope: string; scope_id?: string; f: Filter; amount: number }> = [
      { name: 'Org', scope: 'org', f: {}, amount: Math.round(ref({}).projected * 0.9 * 100) / 100 },
      { name: 'Engineering', scope: 'department', scope_id: deps.eng, f: { department_id: deps.eng }, amount: Math.round(ref({ department_id: deps.eng }).spent * 0.8 * 100) / 100 },
      { name: 'Sales', scope: 'department', scope_id: deps.sales, f: { department_id: deps.sales }, amount: Math.round(ref({ department_id: deps.sales }).projected * 1.5 * 100) / 100 },
      { name: 'Planner', scope: 'agent', scope_id: 'planner', f: { agent_name: 'planner' }, amount: Math.round(ref({ agent_name: 'planner' }).projected * 1.2 * 100) / 100 },
    ];
    for (const s of specs) {
      const res = await admin.post('/api/v1/budgets', { name: s.name, scope: s.scope, ...(s.scope_id ? { scope_id: s.scope_id } : {}), amount_usd: s.amount });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      budgets.push({ id: res.body.id, name: s.name, amount: s.amount, f: s.f, scope: s.scope });
    }
  }, 120_000);
  afterAll(async () => {
    await backend?.close();
  });

  it('answers each budget’s spent, burn rate, projection, share and status as the reference does, at random instants', async () => {
    const r = rng(11);
    const instants = [AT, month(AT).start + 1, ...Array.from({ length: 5 }, () => START + Math.floor(r() * (END - START)))];
    const seen = new Set<string>();
    for (const at of instants) {
      const res = await admin.get('/api/v1/budgets', { at: iso(at) });
      expect(res.status).toBe(200);
      expect(res.body.budgets).toHaveLength(budgets.length);
      for (const b of budgets) {
        const got = res.body.budgets.find((x: any) => x.id === b.id);
        const want = refBudget(events, b.amount, b.f, at);
        const label = `${b.name} at ${iso(at)}`;
        close(got.state.spent_usd, want.spent, `${label} spent`);
        close(got.state.burn_rate_usd_per_day, want.rate, `${label} rate`);
        close(got.state.projected_usd, want.projected, `${label} projected`);
        close(got.state.share, want.share, `${label} share`);
        close(got.state.projected_overspend_usd, want.overspend, `${label} overspend`);
        expect(got.state.status, label).toBe(want.status);
        expect(got.state.period_start).toBe(iso(want.start));
        expect(got.state.period_end).toBe(iso(want.end));
        if (at === AT) seen.add(got.state.status);
      }
    }
    // the data exercises every status
    expect([...seen].sort()).toEqual(['at_risk', 'on_track', 'over']);
  });

  it('draws the burn-down of a budget (actual, ideal, projected) as the reference does', async () => {
    for (const b of budgets.slice(0, 2)) {
      const res = await admin.get(`/api/v1/budgets/${b.id}`, { at: iso(AT) });
      expect(res.status).toBe(200);
      const want = refBurnDown(events, b.amount, b.f, AT);
      expect(res.body.burn_down.map((p: any) => p.bucket)).toEqual(want.map((p) => p.bucket));
      res.body.burn_down.forEach((p: any, i: number) => {
        close(p.ideal_remaining, want[i]!.ideal, `${b.name} ideal ${p.bucket}`);
        for (const [k, w] of [['remaining', want[i]!.remaining], ['projected_remaining', want[i]!.projected]] as const) {
          if (w === null) expect(p[k], `${b.name} ${k} ${p.bucket}`).toBeNull();
          else close(p[k], w, `${b.name} ${k} ${p.bucket}`);
        }
      });
    }
  });

  it('gives the burn-down widget the budget closest to running out, or the one it names', async () => {
    const shares = budgets.map((b) => ({ b, s: refBudget(events, b.amount, b.f, AT).projected / b.amount }));
    const top = shares.sort((x, y) => y.s - x.s)[0]!.b;
    const res = await admin.get('/api/v1/executive/burn-down', { at: iso(AT) });
    expect(res.status).toBe(200);
    expect(res.body.budget.id).toBe(top.id);
    expect(res.body.budgets).toHaveLength(budgets.length);
    const named = await admin.get('/api/v1/executive/burn-down', { at: iso(AT), budget: budgets[3]!.id });
    expect(named.body.budget.name).toBe(budgets[3]!.name);
    close(named.body.state.spent_usd, refBudget(events, budgets[3]!.amount, budgets[3]!.f, AT).spent, 'named budget spent');
    const other = await backend.createOrg('exec-empty');
    const none = await other.client.get('/api/v1/executive/burn-down');
    expect(none.body).toMatchObject({ budget: null, state: null, burn_down: [], budgets: [] });
  });

  it('answers month-to-date burn and projection for the org and per department, agent and model', async () => {
    const { start, end } = month(AT);
    const mtd = within(events, start, AT);
    const elapsed = (AT - start) / DAY;
    for (const [by, field] of [['org', null], ['department', 'department_id'], ['agent', 'agent_name'], ['model', 'model_used']] as const) {
      const res = await admin.get('/api/v1/executive/burn', { at: iso(AT), by });
      expect(res.status).toBe(200);
      const keys = field ? [...new Set(mtd.map((e) => e[field]))].sort() : ['org'];
      expect(res.body.groups.map((g: any) => g.key).sort(), by).toEqual(keys);
      for (const g of res.body.groups) {
        const spent = sumCost(field ? mtd.filter((e) => e[field] === g.key) : mtd);
        close(g.spent_usd, spent, `${by} ${g.key} spent`);
        close(g.burn_rate_usd_per_day, spent / elapsed, `${by} ${g.key} rate`);
        close(g.projected_usd, spent + (spent / elapsed) * ((end - AT) / DAY), `${by} ${g.key} projected`);
      }
    }
  });

  it('offers budgets as a metric source that alert rules and the explorer read', async () => {
    const read = (metric: string, department_id?: string) =>
      admin.post('/api/v1/metrics/query', { source: 'executive', metric, from: iso(AT - 3_600_000), to: iso(AT), ...(department_id ? { department_id } : {}) });
    const states = budgets.map((b) => refBudget(events, b.amount, b.f, AT));
    const used = await read('budget_used_ratio');
    expect(used.status, JSON.stringify(used.body)).toBe(200);
    close(used.body.series[0].total, Math.max(...states.map((s) => s.share)), 'budget_used_ratio');
    close((await read('projected_overspend_usd')).body.series[0].total, states.reduce((s, x) => s + x.overspend, 0), 'projected_overspend_usd');
    const eng = budgets.findIndex((b) => b.name === 'Engineering');
    close((await read('budget_used_ratio', deps.eng)).body.series[0].total, states[eng]!.share, 'budget_used_ratio of eng');
    close((await read('projected_month_spend_usd', deps.ops)).body.series[0].total, refBudget(events, 1, { department_id: deps.ops }, AT).projected, 'projected month spend of ops');
    // a department without budgets has nothing to measure
    expect((await read('budget_used_ratio', deps.ops)).body.series[0].total).toBeNull();
  });

  it('answers KPIs with change against the previous period and the status against the targets an Admin sets', async () => {
    const from = AT - 7 * DAY;
    expect((await admin.put('/api/v1/executive/kpis/success_rate', { target: 0.99 })).status).toBe(200);
    expect((await admin.put('/api/v1/executive/kpis/cost_usd', { target: 1e6 })).status).toBe(200);
    const res = await admin.get('/api/v1/executive/kpis', { from: iso(from), to: iso(AT) });
    expect(res.status).toBe(200);
    const cur = refKpiValues(within(events, from, AT));
    const prev = refKpiValues(within(events, from - 7 * DAY, from));
    const targets: Record<string, number> = { success_rate: 0.99, cost_usd: 1e6 };
    for (const k of res.body.kpis) {
      close(k.value, cur[k.key]!, `${k.key} value`);
      close(k.previous, prev[k.key]!, `${k.key} previous`);
      close(k.change, (cur[k.key]! - prev[k.key]!) / prev[k.key]!, `${k.key} change`);
      const t = targets[k.key];
      const want = t === undefined ? 'no_target' : (BETTER[k.key] === 'higher' ? cur[k.key]! >= t : cur[k.key]! <= t) ? 'met' : 'missed';
      expect(k.status, k.key).toBe(want);
    }
    expect(res.body.kpis.find((k: any) => k.key === 'success_rate').status).toBe('missed');
    expect(res.body.kpis.find((k: any) => k.key === 'cost_usd').status).toBe('met');
    // cleared again
    expect((await admin.put('/api/v1/executive/kpis/cost_usd', { target: null })).status).toBe(200);
    expect((await admin.get('/api/v1/executive/kpis', { from: iso(from), to: iso(AT) })).body.kpis.find((k: any) => k.key === 'cost_usd').status).toBe('no_target');
    // a range with no invocations has no data
    const empty = await admin.get('/api/v1/executive/kpis', { from: '2020-01-01T00:00:00Z', to: '2020-01-08T00:00:00Z' });
    expect(empty.body.kpis.find((k: any) => k.key === 'success_rate').status).toBe('no_data');
  });

  it('gives each KPI its trend per bucket of the range in the reader\'s time zone, equal to the KPI over each bucket', async () => {
    // brute force: the buckets start at local midnight (a whole hour for a range of up to two days),
    // the first one cut at `from`, each bucket's KPI computed from its events alone
    const check = async (from: number, to: number, tz: string, offsetMs: number, step: number, granularity: string) => {
      const res = await admin.get('/api/v1/executive/kpis', { from: iso(from), to: iso(to), tz });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.trend_granularity).toBe(granularity);
      const starts: number[] = [];
      for (let b = Math.floor((from + offsetMs) / step) * step - offsetMs; b < to; b += step) starts.push(b);
      for (const k of res.body.kpis) {
        expect(k.trend.map((p: any) => Date.parse(p.bucket)), `${tz} ${k.key} buckets`).toEqual(starts);
        k.trend.forEach((p: any, i: number) => {
          const want = refKpiValues(within(events, Math.max(starts[i]!, from), Math.min(starts[i]! + step, to)))[k.key]!;
          if (want === null) expect(p.value, `${tz} ${k.key} ${p.bucket}`).toBeNull();
          else close(p.value, want, `${tz} ${k.key} ${p.bucket}`);
        });
      }
      return res.body.kpis as Array<{ key: string; trend: Array<{ value: number | null }> }>;
    };
    const week = await check(AT - 7 * DAY, AT, 'UTC', 0, DAY, 'day');
    // some bucket has invocations, so the comparison is not only of empty buckets
    expect(week.find((k) => k.key === 'invocations')!.trend.some((p) => (p.value ?? 0) > 0)).toBe(true);
    // India is 5 h 30 ahead of UTC all year: days start at 18:30 UTC
    await check(AT - 7 * DAY, AT, 'Asia/Kolkata', 5.5 * 3_600_000, DAY, 'day');
    await check(AT - DAY, AT, 'UTC', 0, 3_600_000, 'hour');
    // a zone that does not exist is refused by name
    const bad = await admin.get('/api/v1/executive/kpis', { from: iso(AT - DAY), to: iso(AT), tz: 'Mars/Olympus' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error)).toMatch(/tz|time zone/i);
  });

  it('states insights whose every number matches the reference, each with a link to its chart', async () => {
    const res = await admin.get('/api/v1/executive/insights', { at: iso(AT) });
    expect(res.status).toBe(200);
    const want = refInsights(events, AT, budgets);
    expect(res.body.insights.map((i: any) => i.id).sort()).toEqual([...want.keys()].sort());
    // the generated data was made to trip each rule
    expect([...want.keys()]).toEqual(expect.arrayContaining(['cost_change', `adoption_change:${deps.ops}`, 'error_rate_jump:reviewer']));
    for (const i of res.body.insights) {
      const w = want.get(i.id)!;
      expect(i.text.length).toBeGreaterThan(20);
      expect(i.link.widget).toBeTruthy();
      for (const [k, v] of Object.entries(w)) {
        if (typeof v === 'number') close(i.evidence[k], v, `${i.id} ${k}`);
        else if (typeof v === 'object' && v)
          for (const [k2, v2] of Object.entries(v)) {
            if (typeof v2 === 'number') close(i.evidence[k][k2], v2, `${i.id} ${k}.${k2}`);
            else expect(i.evidence[k][k2], `${i.id} ${k}.${k2}`).toBe(v2);
          }
        else expect(i.evidence[k], `${i.id} ${k}`).toBe(v);
      }
    }
    const cost = res.body.insights.find((i: any) => i.id === 'cost_change');
    expect(cost.text).toMatch(/^Cost rose \d+% week over week/);
    expect(cost.text).toContain('planner on m-large');
    expect(cost.link.options.query).toMatchObject({ event_type: 'agent_invocation', measure: 'sum', field: 'cost_usd' });
    expect(res.body.insights.find((i: any) => i.id === `adoption_change:${deps.ops}`).text).toContain('ops');
  });

  it('draws an insight’s chart from its link, and refuses a bad query naming the field', async () => {
    const res = await admin.get('/api/v1/executive/insights', { at: iso(AT) });
    const link = res.body.insights.find((i: any) => i.id === 'error_rate_jump:reviewer').link;
    const chart = await admin.get('/api/v1/executive/chart', { query: JSON.stringify(link.options.query), from: link.from, to: link.to });
    expect(chart.status, JSON.stringify(chart.body)).toBe(200);
    const points = chart.body.series[0].points;
    // the two weeks compared, by UTC day: 15 buckets, the first and last cut at the range's ends
    expect(points).toHaveLength(15);
    for (const p of points) {
      const from = Math.max(Date.parse(p.bucket), Date.parse(link.from));
      const day = within(events, from, Math.min(Date.parse(p.bucket) + DAY, Date.parse(link.to))).filter((e) => e.agent_name === 'reviewer');
      if (!day.length) expect(p.value).toBeNull();
      else close(p.value, day.filter((e) => e.status === 'failure').length / day.length, `reviewer failure rate ${p.bucket}`);
    }
    const notJson = await admin.get('/api/v1/executive/chart', { query: '{oops', from: link.from, to: link.to });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.details.field).toBe('query');
    const badField = await admin.get('/api/v1/executive/chart', { query: JSON.stringify({ event_type: 'agent_invocation', measure: 'sum', field: 'nope' }), from: link.from, to: link.to });
    expect(badField.status).toBe(400);
    expect(badField.body.error.details.field).toBe('query.field');
  });

  it('sums it up in the overview', async () => {
    const res = await admin.get('/api/v1/executive/overview', { from: iso(AT - 7 * DAY), to: iso(AT) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const { start } = month(AT);
    close(res.body.spend.spent_usd, sumCost(within(events, start, AT)), 'spend');
    const states = budgets.map((b) => refBudget(events, b.amount, b.f, AT).status);
    expect(res.body.budgets).toEqual({ total: 4, on_track: states.filter((s) => s === 'on_track').length, at_risk: states.filter((s) => s === 'at_risk').length, over: states.filter((s) => s === 'over').length });
    expect(res.body.kpis).toHaveLength(6);
    expect(res.body.alerts.available).toBe(true);
    expect(res.body.insights[0].severity).toBe('critical');
  });

  it('forecasts daily cost through the trends service and adds it up to month end', async () => {
    const res = await admin.get('/api/v1/executive/forecast', { at: iso(AT), days: 28, horizon: 20, metric: 'cost_usd' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const day0 = Math.floor(AT / DAY) * DAY;
    expect(res.body.history).toHaveLength(28);
    res.body.history.forEach((p: any, i: number) => {
      const t = day0 - (28 - i) * DAY;
      expect(p.bucket).toBe(iso(t));
      close(p.value, sumCost(within(events, t, t + DAY)), `history ${p.bucket}`);
    });
    // the trends plugin's own model over the same history: executive adds nothing of its own
    const direct = trendsService.forecast(res.body.history, { horizon: 20 });
    expect(res.body.model).toBe(direct.model);
    res.body.forecast.forEach((p: any, i: number) => close(p.value, direct.forecast[i]!.value, `forecast ${p.bucket}`));
    expect(res.body.forecast[0].bucket).toBe(iso(day0));
    const { start, end } = month(AT);
    const spent = sumCost(within(events, start, day0));
    const rest = res.body.forecast.filter((p: any) => Date.parse(p.bucket) < end).reduce((s: number, p: any) => s + p.value, 0);
    close(res.body.month_end.spent_usd, spent, 'month_end spent');
    close(res.body.month_end.projected_usd, spent + rest, 'month_end projected');
    const bad = await admin.get('/api/v1/executive/forecast', { metric: 'nope' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error)).toContain('metric');
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: 'x', scope: 'org' }, 'amount_usd'],
      [{ name: 'x', scope: 'org', amount_usd: -5 }, 'amount_usd'],
      [{ name: 'x', scope: 'team', amount_usd: 5 }, 'scope'],
      [{ name: 'x', scope: 'department', amount_usd: 5 }, 'scope_id'],
      [{ name: 'x', scope: 'department', scope_id: 'no-such-department', amount_usd: 5 }, 'scope_id'],
      [{ name: 'x', scope: 'org', scope_id: 'planner', amount_usd: 5 }, 'scope_id'],
      [{ scope: 'org', amount_usd: 5 }, 'name'],
    ];
    for (const [body, field] of cases) {
      const r = await admin.post('/api/v1/budgets', body);
      expect(r.status, `${field}: ${JSON.stringify(r.body)}`).toBe(400);
      expect(JSON.stringify(r.body.error), field).toContain(field);
    }
    const badAt = await admin.get('/api/v1/budgets', { at: 'yesterday' });
    expect(badAt.status).toBe(400);
    expect(JSON.stringify(badAt.body.error)).toContain('at');
    const badTarget = await admin.put('/api/v1/executive/kpis/success_rate', { target: 2 });
    expect(badTarget.status).toBe(400);
    expect(badTarget.body.error.details.field).toBe('target');
    const unknownKpi = await admin.put('/api/v1/executive/kpis/happiness', { target: 2 });
    expect(unknownKpi.status).toBe(404);
    expect(unknownKpi.body.error.details.field).toBe('key');
    const badBy = await admin.get('/api/v1/executive/burn', { by: 'planet' });
    expect(badBy.status).toBe(400);
    expect(JSON.stringify(badBy.body.error)).toContain('by');
  });

  it('lets members read the budgets they may see and never write them', async () => {
    for (const c of [dev, manager]) {
      expect((await c.post('/api/v1/budgets', { name: 'mine', scope: 'org', amount_usd: 10 })).status).toBe(403);
      expect((await c.put(`/api/v1/budgets/${budgets[0]!.id}`, { name: 'mine', scope: 'org', amount_usd: 10 })).status).toBe(403);
      expect((await c.delete(`/api/v1/budgets/${budgets[0]!.id}`)).status).toBe(403);
      expect((await c.put('/api/v1/executive/kpis/cost_usd', { target: 5 })).status).toBe(403);
    }
    const names = (await dev.get('/api/v1/budgets', { at: iso(AT) })).body.budgets.map((b: any) => b.name).sort();
    expect(names).toEqual(['Engineering', 'Org', 'Planner']);
    const sales = budgets.find((b) => b.name === 'Sales')!;
    expect((await dev.get(`/api/v1/budgets/${sales.id}`)).status).toBe(404);
    expect((await admin.get(`/api/v1/budgets/${sales.id}`)).status).toBe(200);
  });

  it('updates and deletes a budget, and keeps tenants apart', async () => {
    const other = await backend.createOrg('exec-other');
    // the other org has departments and agents of the same names, and its own events
    await other.addUser({ email: 'dev@exec-other.test', role: 'Developer', departments: ['eng', 'ops', 'sales'] });
    const otherDeps = { eng: other.departments.get('eng')!, ops: other.departments.get('ops')!, sales: other.departments.get('sales')! };
    const otherEvents = generate(99, otherDeps, 600).map((e) => ({ ...e, event_id: `o-${e.event_id}` }));
    await other.insertEvents(otherEvents as unknown as Array<Record<string, unknown>>);
    expect((await other.client.get('/api/v1/budgets')).body.budgets).toEqual([]);
    expect((await other.client.get(`/api/v1/budgets/${budgets[0]!.id}`)).status).toBe(404);
    expect((await other.client.delete(`/api/v1/budgets/${budgets[0]!.id}`)).status).toBe(404);
    const burn = await other.client.get('/api/v1/executive/burn', { at: iso(AT) });
    close(burn.body.groups[0].spent_usd, sumCost(within(otherEvents, month(AT).start, AT)), 'other org spent');
    // the targets and budgets of the first org mean nothing here
    const kpis = await other.client.get('/api/v1/executive/kpis', { from: iso(AT - 7 * DAY), to: iso(AT) });
    expect(kpis.body.kpis.map((k: any) => k.target)).toEqual([null, null, null, null, null, null]);
    close(kpis.body.kpis.find((k: any) => k.key === 'cost_usd').value, sumCost(within(otherEvents, AT - 7 * DAY, AT)), 'other org cost KPI');
    const theirInsights = await other.client.get('/api/v1/executive/insights', { at: iso(AT) });
    expect(theirInsights.body.insights.filter((i: any) => i.kind === 'budget')).toEqual([]);
    // another seed and volume: whatever fires there is what the reference finds, with the same numbers
    const theirRef = refInsights(otherEvents, AT, []);
    expect(theirInsights.body.insights.map((i: any) => i.id).sort()).toEqual([...theirRef.keys()].sort());
    for (const i of theirInsights.body.insights)
      for (const [k, v] of Object.entries(theirRef.get(i.id)!)) if (typeof v === 'number') close(i.evidence[k], v, `other org ${i.id} ${k}`);
    const created = await other.client.post('/api/v1/budgets', { name: 'Theirs', scope: 'org', amount_usd: 50 });
    expect(created.status).toBe(200);
    expect((await admin.get('/api/v1/budgets')).body.budgets.map((b: any) => b.name)).not.toContain('Theirs');

    const put = await other.client.put(`/api/v1/budgets/${created.body.id}`, { name: 'Theirs, bigger', scope: 'agent', scope_id: 'coder', amount_usd: 80 });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ name: 'Theirs, bigger', scope: 'agent', scope_id: 'coder', amount_usd: 80 });
    const got = await other.client.get(`/api/v1/budgets/${created.body.id}`, { at: iso(AT) });
    close(got.body.state.spent_usd, refBudget(otherEvents, 80, { agent_name: 'coder' }, AT).spent, 'other org coder spent');
    expect((await other.client.delete(`/api/v1/budgets/${created.body.id}`)).status).toBe(200);
    expect((await other.client.get(`/api/v1/budgets/${created.body.id}`)).status).toBe(404);
  });

  it('says what is firing, and says clearly when alerts are off', async () => {
    const quiet = await admin.get('/api/v1/executive/alerts');
    expect(quiet.status).toBe(200);
    expect(quiet.body).toMatchObject({ available: true, alerts: [] });
    expect(quiet.body.message).toMatch(/Nothing is firing/);

    const rule = await admin.post('/api/v1/alerts/rules', {
      name: 'any invocation',
      query: { event_type: 'agent_invocation', measure: 'count' },
      window_seconds: 600,
      condition: { op: 'gt', threshold: 0 },
      interval_seconds: 10,
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(200);
    const now = Date.now();
    await org.insertEvents([{ ...events[0]!, event_id: 'now-1', invocation_id: 'now-1', timestamp: iso(now - 30_000) }]);
    await backend.runJob('alerts', 'tick');
    const firing = await admin.get('/api/v1/executive/alerts');
    expect(firing.body.available).toBe(true);
    expect(firing.body.alerts.map((a: any) => a.rule_name)).toEqual(['any invocation']);
    expect(firing.body.rules).toEqual({ total: 1, paused: 0 });

    expect((await admin.put('/api/v1/admin/plugins/alerts', { enabled: false })).status).toBe(200);
    try {
      const off = await admin.get('/api/v1/executive/alerts');
      expect(off.status).toBe(200);
      expect(off.body).toMatchObject({ available: false, alerts: [], rules: null });
      expect(off.body.message).toMatch(/not enabled/);
      expect((await admin.get('/api/v1/executive/overview')).body.alerts.available).toBe(false);
    } finally {
      await admin.put('/api/v1/admin/plugins/alerts', { enabled: true });
    }
  });

  it('answers a forecast with a clear 424 when trends is off', async () => {
    expect((await admin.put('/api/v1/admin/plugins/trends', { enabled: false })).status).toBe(200);
    try {
      const res = await admin.get('/api/v1/executive/forecast', { at: iso(AT) });
      expect(res.status).toBe(424);
      expect(res.body.error.code).toBe('trends_unavailable');
    } finally {
      await admin.put('/api/v1/admin/plugins/trends', { enabled: true });
    }
  });

  it('offers the Executive dashboard layout of its widgets', async () => {
    const res = await admin.get('/api/v1/executive/dashboard');
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('Executive');
    expect(res.body.doc.items.map((i: any) => i.ref)).toEqual(['executive/kpi-cards', 'executive/insights', 'executive/budget-burn-down', 'alerts/firing']);
    const manifest = await admin.get('/api/v1/plugins');
    const mine = manifest.body.plugins.find((p: any) => p.id === 'executive');
    expect(mine.widgets.map((w: any) => w.id).sort()).toEqual(['budget-burn-down', 'insights', 'kpi-cards']);
    expect(mine.widgets.every((w: any) => w.suggestedFor.includes('Admin'))).toBe(true);
  });
  it('lets an alert rule watch a budget through the metric source', async () => {
    const now = Date.now();
    await org.insertEvents([{ ...events[0]!, event_id: 'budget-now', invocation_id: 'budget-now', agent_name: 'alert-agent', cost_usd: 0.5, timestamp: iso(now - 60_000) }]);
    const b = await admin.post('/api/v1/budgets', { name: 'Alert agent', scope: 'agent', scope_id: 'alert-agent', amount_usd: 0.25 });
    expect(b.status).toBe(200);
    const bad = await admin.post('/api/v1/alerts/rules', { name: 'bad', query: { source: 'executive', metric: 'nope' }, window_seconds: 600, condition: { op: 'gt', threshold: 1 }, interval_seconds: 10 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('query.metric');
    const rule = await admin.post('/api/v1/alerts/rules', {
      name: 'budget over',
      query: { source: 'executive', metric: 'budget_used_ratio' },
      window_seconds: 600,
      condition: { op: 'gt', threshold: 1 },
      interval_seconds: 10,
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(200);
    await backend.runJob('alerts', 'tick');
    const got = await admin.get(`/api/v1/alerts/rules/${rule.body.id}`);
    expect(got.body.state).toBe('firing');
    // this month's highest share: the new budget's 0.5 of 0.25, unless another budget is further over
    const at = Date.now();
    const ref = Math.max(2, ...budgets.map((x) => refBudget(events, x.amount, x.f, at).share));
    close(got.body.instances[0].value, ref, 'budget_used_ratio the rule saw', 3);
    const firing = await admin.get('/api/v1/executive/alerts');
    expect(firing.body.alerts.map((a: any) => a.rule_name)).toContain('budget over');
  });

  it('offers the budget alerts as templates the alerts plugin lists and makes rules from', async () => {
    const t = await admin.get('/api/v1/alerts/templates');
    expect(t.status, t.text).toBe(200);
    const near = t.body.templates.find((x: any) => x.key === 'executive.budget-nearly-spent');
    expect(near.rule).toMatchObject({ query: { source: 'executive', metric: 'budget_used_ratio' }, condition: { op: 'gte', threshold: 0.8 } });
    expect(t.body.templates.map((x: any) => x.key)).toContain('executive.budget-projected-over');
    const made = await admin.post('/api/v1/alerts/templates/executive.budget-nearly-spent', { params: { share: 0.9 } });
    expect(made.status, made.text).toBe(200);
    await backend.runJob('alerts', 'tick');
    const got = await admin.get(`/api/v1/alerts/rules/${made.body.id}`);
    expect(got.body.condition.threshold).toBe(0.9);
    // the budget of the previous test is 200% spent: over 90%, so the rule fires
    expect(got.body.state).toBe('firing');
  });
});
