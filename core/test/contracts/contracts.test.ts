import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createServiceRef, definePlugin, metricSourceRef, need, parseTimeRange, provide } from '@orrery/plugin-sdk';
import { startTestBackend, type TestBackend, type TestClient, type TestOrg } from '@orrery/backend-test-utils';
import agentAnalytics from '../../../plugins/agent-analytics/backend/index.ts';
import userActivity from '../../../plugins/user-activity/backend/index.ts';
import metricConsumer from '../fixtures/plugins/metric-consumer/backend/index.ts';
import reachesKernel from '../fixtures/plugins/reaches-kernel/backend/index.ts';
import { rng } from '@orrery/backend-test-utils/random';

/**
 * Plugins that build on each other: a fixture plugin (not first party, public SDK only)
 * reads agent-analytics' and user-activity's metric sources, an export table, a cohort
 * and the directory. Every figure is checked against a brute-force count over the
 * random events the test wrote; two orgs with the same department and agent names
 * must never see each other's numbers or people.
 */

const START = Date.parse('2026-05-04T00:00:00.000Z');
const DAYS = 4;
const AGENTS = ['reviewer', 'triage'];

interface Inv {
  event_id: string;
  timestamp: string;
  department_id: string;
  user_id: string;
  agent_name: string;
  status: 'success' | 'failure';
  execution_time_ms: number;
  cost_usd: number;
  input_tokens: number;
  output_tokens: number;
}

function generate(seed: number, departments: string[], users: string[]): Inv[] {
  const r = rng(seed);
  const out: Inv[] = [];
  const n = 150 + Math.floor(r() * 150);
  for (let i = 0; i < n; i++) {
    const user = users[Math.floor(r() * users.length)]!;
    const failed = r() < 0.05 + r() * 0.3;
    out.push({
      event_id: `ev-${seed}-${i.toString(36)}`,
      // sub-second instants anywhere in the four days (so every range edge cuts through data)
      timestamp: new Date(START + Math.floor(r() * DAYS * 86_400_000)).toISOString(),
      department_id: departments[users.indexOf(user) % departments.length]!,
      user_id: user,
      agent_name: AGENTS[Math.floor(r() * AGENTS.length)]!,
      status: failed ? 'failure' : 'success',
      execution_time_ms: Math.round(200 + r() * r() * 9000),
      cost_usd: Math.round(r() * 0.05 * 1e9) / 1e9,
      input_tokens: Math.floor(r() * 3000),
      output_tokens: Math.floor(r() * 2000),
    });
  }
  return out;
}

const toRows = (xs: Inv[]) =>
  xs.map((x) => ({ ...x, event_type: 'agent_invocation', session_id: `s-${x.user_id}`, invocation_id: `inv-${x.event_id}`, agent_version: '1.0.0', model_used: 'm', error_type: x.status === 'failure' ? 'timeout' : '' }));

/** the reference: every figure counted in plain TypeScript from the events sent */
const inRange = (xs: Inv[], from: number, to: number, dept?: string) => xs.filter((x) => Date.parse(x.timestamp) >= from && Date.parse(x.timestamp) < to && (!dept || x.department_id === dept));
const exactQuantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};

interface World {
  org: TestOrg;
  events: Inv[];
  departments: string[];
  users: string[];
  people: Array<{ email: string; role: string; departments: string[]; manager?: string }>;
}

async function fill(org: TestOrg, seed: number): Promise<World> {
  // the same department names, roles and agent names in both orgs; only the people and events differ
  const people = [
    { email: `lead-${org.slug}@x.local`, role: 'Manager' as const, departments: ['Platform'], manager: 'Platform' },
    { email: `dev1-${org.slug}@x.local`, role: 'Developer' as const, departments: ['Platform'] },
    { email: `dev2-${org.slug}@x.local`, role: 'Developer' as const, departments: ['Platform', 'Research'] },
    { email: `dev3-${org.slug}@x.local`, role: 'Developer' as const, departments: ['Research'] },
  ];
  const users: string[] = [];
  for (const p of people) {
    const u = await org.addUser({ email: p.email, role: p.role, departments: p.departments.map((name) => ({ name, manager: p.manager === name })) });
    users.push(u.userId);
  }
  const departments = ['Platform', 'Research'].map((n) => org.departments.get(n)!);
  const events = generate(seed, departments, users);
  await org.insertEvents(toRows(events));
  return { org, events, departments, users, people };
}

describe('plugins that build on each other', () => {
  let b: TestBackend;
  let A: World;
  let B: World;

  beforeAll(async () => {
    // the consumer comes first in the list: the loader must still start its providers before it
    b = await startTestBackend({ plugins: [metricConsumer, agentAnalytics, userActivity] });
    A = await fill(b.org, 17);
    B = await fill(await b.createOrg('second-org'), 1017);
  }, 300_000);
  afterAll(() => b?.close());

  const read = (c: TestClient, q: Record<string, unknown>) => c.get('/api/v1/metric-consumer/read', q);

  it('starts providers before the plugin that needs them', async () => {
    const ids = (await b.client.get('/api/v1/plugins', { all: true })).body.plugins.map((p: any) => p.id);
    expect(ids.indexOf('agent-analytics')).toBeLessThan(ids.indexOf('metric-consumer'));
    expect(ids.indexOf('user-activity')).toBeLessThan(ids.indexOf('metric-consumer'));
  });

  it('lists every metric source the org has on', async () => {
    const r = await A.org.client.get('/api/v1/metric-consumer/sources');
    expect(r.status).toBe(200);
    const byPlugin = Object.fromEntries(r.body.sources.map((s: any) => [s.plugin, s.metrics]));
    expect(byPlugin['agent-analytics']).toEqual(['success_rate', 'p95_latency_ms', 'cost_usd', 'invocations']);
    expect(byPlugin['user-activity']).toEqual(expect.arrayContaining(['dau', 'active_users']));
  });

  it("reads agent metrics through agent-analytics' own code, as a brute-force count says, per org", async () => {
    const r = rng(99);
    for (const w of [A, B]) {
      for (let i = 0; i < 6; i++) {
        // random ranges (whole data, sub-second edges inside it) and an optional department
        const from = i === 0 ? START : START + Math.floor(r() * 2 * 86_400_000);
        const to = i === 0 ? START + DAYS * 86_400_000 : from + 3_600_000 + Math.floor(r() * 2 * 86_400_000);
        const dept = i % 2 === 1 ? w.departments[Math.floor(r() * 2)] : undefined;
        const q = { from: new Date(from).toISOString(), to: new Date(to).toISOString(), ...(dept ? { department_id: dept } : {}) };
        const xs = inRange(w.events, from, to, dept);
        const get = async (metric: string) => {
          const res = await read(w.org.client, { ...q, metric });
          expect(res.status, res.text).toBe(200);
          return res.body.value as number | null;
        };
        expect(await get('invocations')).toBe(xs.length);
        const rate = await get('success_rate');
        if (xs.length) expect(rate).toBeCloseTo(xs.filter((x) => x.status === 'success').length / xs.length, 3);
        else expect(rate).toBeNull();
        expect(await get('cost_usd')).toBeCloseTo(xs.reduce((s, x) => s + x.cost_usd, 0), 6);
        const p95 = await get('p95_latency_ms');
        if (xs.length >= 20) {
          // a t-digest estimate: between the exact 85th and 99th percentiles
          const lat = xs.map((x) => x.execution_time_ms);
          expect(p95).toBeGreaterThanOrEqual(exactQuantile(lat, 0.85));
          expect(p95).toBeLessThanOrEqual(exactQuantile(lat, 0.99));
        }
      }
    }
  });

  it("reads user-activity's DAU and active users, as a brute-force count says", async () => {
    for (const w of [A, B]) {
      const from = START + 3_600_000;
      const to = START + 3 * 86_400_000 + 7_200_000;
      const q = { from: new Date(from).toISOString(), to: new Date(to).toISOString(), plugin: 'user-activity' };
      const xs = inRange(w.events, from, to);
      expect((await read(w.org.client, { ...q, metric: 'active_users' })).body.value).toBe(new Set(xs.map((x) => x.user_id)).size);
      const lastDay = xs.filter((x) => Date.parse(x.timestamp) >= to - 86_400_000);
      expect((await read(w.org.client, { ...q, metric: 'dau' })).body.value).toBe(new Set(lastDay.map((x) => x.user_id)).size);
      const cohort = await w.org.client.get('/api/v1/metric-consumer/cohort', { ...q, name: 'active' });
      expect(cohort.body.users).toEqual([...new Set(xs.map((x) => x.user_id))].sort());
    }
  });

  it("streams agent-analytics' invocations page by page: every row once, in order, typed", async () => {
    for (const w of [A, B]) {
      const from = START + 86_400_000 + 1234;
      const to = START + 3 * 86_400_000 - 999;
      const res = await w.org.client.get('/api/v1/metric-consumer/export', { from: new Date(from).toISOString(), to: new Date(to).toISOString(), limit: 7 });
      expect(res.status, b.logs.filter((l) => l.includes('"level":50')).join('\n').slice(-3000)).toBe(200);
      const expected = inRange(w.events, from, to).sort((x, y) => x.timestamp.localeCompare(y.timestamp) || x.event_id.localeCompare(y.event_id));
      expect(res.body.rows.map((r: any) => r.event_id)).toEqual(expected.map((x) => x.event_id));
      expect(res.body.rows.map((r: any) => r.timestamp)).toEqual(expected.map((x) => x.timestamp));
      expect(res.body.rows.map((r: any) => r.cost_usd)).toEqual(expected.map((x) => x.cost_usd));
      expect(res.body.columns.find((c: any) => c.name === 'execution_time_ms').type).toBe('number');
    }
  });

  it("answers a 400 naming the field for a metric the source does not offer", async () => {
    const res = await read(A.org.client, { metric: 'happiness' });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual({ field: 'metric', value: 'happiness' });
  });

  it('reads people, departments and managers through ctx.directory, each org its own', async () => {
    for (const w of [A, B]) {
      const res = await w.org.client.get('/api/v1/metric-consumer/people');
      expect(res.status).toBe(200);
      const got = new Map(res.body.people.map((p: any) => [p.email, p]));
      expect(got.size).toBe(w.people.length + 1); // and the org's admin
      for (const p of w.people) {
        const leads = w.people.filter((m) => m.manager && p.departments.includes(m.manager) && m.email !== p.email).map((m) => m.email);
        expect(got.get(p.email)).toEqual({ email: p.email, role: p.role, departments: [...p.departments].sort(), managers: leads.sort() });
      }
      const other = w === A ? B : A;
      for (const p of other.people) expect(got.has(p.email)).toBe(false);
      expect(res.body.visible_departments).toBeNull();
    }
  });

  it('takes any event user id and answers only members', async () => {
    const { directoryFor } = await import('../../src/plugins/directory.ts');
    const k = b.kernel.services;
    const dir = directoryFor(k.knex, (await k.callers.org(A.org.id))!, null);
    const asked = ['u-42', 'someone@else', A.users[1]!, B.users[1]!, randomUUID()];
    expect((await dir.members({ ids: asked })).map((m) => m.email)).toEqual([A.people[1]!.email]);
    expect(await dir.managersOf('u-42')).toEqual([]);
    // department names: this org's only, each id to its name
    for (const w of [A, B]) {
      const mine = directoryFor(k.knex, (await k.callers.org(w.org.id))!, null);
      const names = await mine.departmentNames();
      expect([...names.values()].sort()).toEqual([...new Set(w.people.flatMap((p) => p.departments))].sort());
      expect(names).toEqual(new Map((await mine.departments()).map((d) => [d.id, d.name])));
    }
  });

  it("keeps the kernel's tables out of the tenant database", async () => {
    const res = await A.org.client.get('/api/v1/metric-consumer/guard');
    expect(res.body.table).toMatch(/department_members.*kernel's/);
    expect(res.body.raw).toMatch(/public\.users/);
  });

  it('answers 424 naming the provider in an org that turned it off, and only there', async () => {
    const off = await B.org.client.put('/api/v1/admin/plugins/agent-analytics', { enabled: false });
    expect(off.status).toBe(200);
    try {
      const res = await read(B.org.client, { metric: 'invocations' });
      expect(res.status).toBe(424);
      expect(res.body.error.code).toBe('provider_disabled');
      expect(res.body.error.details).toEqual({ plugin: 'metric-consumer', service: 'metric-source', provider: 'agent-analytics' });
      expect(res.body.error.message).toMatch(/agent-analytics/);
      // the org without the provider keeps answering
      expect((await read(A.org.client, { metric: 'invocations', from: new Date(START).toISOString(), to: new Date(START + DAYS * 86_400_000).toISOString() })).body.value).toBe(A.events.length);
    } finally {
      await B.org.client.put('/api/v1/admin/plugins/agent-analytics', { enabled: true });
    }
    expect((await read(B.org.client, { metric: 'invocations', from: new Date(START).toISOString(), to: new Date(START + DAYS * 86_400_000).toISOString() })).body.value).toBe(B.events.length);
  });

  it('leaves a provider that is off out of the list of all providers', async () => {
    await B.org.client.put('/api/v1/admin/plugins/user-activity', { enabled: false });
    try {
      const res = await B.org.client.get('/api/v1/metric-consumer/sources');
      expect(res.status).toBe(200);
      expect(res.body.sources.map((s: any) => s.plugin)).toEqual(['agent-analytics']);
    } finally {
      await B.org.client.put('/api/v1/admin/plugins/user-activity', { enabled: true });
    }
  });
});

describe('what the loader refuses', () => {
  let b: TestBackend;
  const pingRef = createServiceRef<{ ping(): string }>({ id: 'ping', version: '1.0.0' });
  const pongRef = createServiceRef<{ pong(): string }>({ id: 'pong', version: '1.0.0' });
  const echoRef = createServiceRef<{ echo(x: string): string }>({ id: 'echo', version: '1.0.0' });
  const base = (id: string) => ({
    id,
    version: '1.0.0',
    sdk: '^1.0.0 || ^2.0.0',
    title: id,
    description: id,
    routePrefix: id,
    permissions: {},
    register() {},
  });
  const plugins = [
    definePlugin({ ...base('needs-missing'), needs: [need(metricSourceRef, '^1.0.0', { from: 'no-such-plugin' })] }),
    definePlugin({ ...base('needs-newer'), needs: [need(metricSourceRef, '^2.0.0', { from: 'agent-analytics' })] }),
    definePlugin({ ...base('cycle-a'), provides: [provide(pingRef, () => ({ ping: () => 'a' }))], needs: [need(pongRef, '^1.0.0')] }),
    definePlugin({ ...base('cycle-b'), provides: [provide(pongRef, () => ({ pong: () => 'b' }))], needs: [need(pingRef, '^1.0.0')] }),
    definePlugin({ ...base('needs-refused'), needs: [need(pingRef, '^1.0.0')] }),
    definePlugin({ ...base('optional-only'), needs: [need(createServiceRef({ id: 'nobody', version: '1.0.0' }), '^1.0.0', { optional: true })] }),
    reachesKernel,
    agentAnalytics,
    // a provider whose init fails, allowed to fail: the platform starts, its dependant degrades
    definePlugin({ ...base('broken-provider'), allowedToFail: true, provides: [provide(echoRef, () => ({ echo: (x: string) => x }))], async init() { throw new Error('no licence key'); } }),
    definePlugin({
      ...base('needs-broken'),
      permissions: { 'needs-broken.read': ['Admin'] },
      needs: [need(echoRef, '^1.0.0')],
      register(env) {
        env.route({
          method: 'GET',
          path: '/',
          permission: 'needs-broken.read',
          summary: 'echo',
          schema: { response: { 200: { type: 'object', properties: { echo: { type: 'string' } } } } },
          async handler(_req, ctx) {
            return { echo: (await ctx.services.get(echoRef)).echo('hi') };
          },
        });
      },
    }),
    definePlugin({
      ...base('agents-job'),
      needs: [need(metricSourceRef, '^1.0.0', { from: 'agent-analytics' })],
      register(env) {
        env.job({
          name: 'count',
          everySeconds: 3600,
          async run(ctx) {
            const source = await ctx.services.get(metricSourceRef, 'agent-analytics');
            return { invocations: await source.read('invocations', { range: parseTimeRange({ from: new Date(START).toISOString(), to: new Date(START + DAYS * 86_400_000).toISOString() }) }) };
          },
        });
      },
    }),
  ];

  beforeAll(async () => {
    b = await startTestBackend({ plugins });
  }, 300_000);
  afterAll(() => b?.close());

  it('refuses missing providers, versions outside the range, cycles and kernel reach, with one message each naming them', async () => {
    const body = (await b.client.get('/api/v1/plugins', { all: true })).body;
    const refused = Object.fromEntries(body.refused.map((r: any) => [r.id, r.error as string]));
    expect(refused['needs-missing']).toMatch(/needs "metric-source" \^1\.0\.0 from plugin "no-such-plugin", which is not installed/);
    expect(refused['needs-newer']).toMatch(/needs "metric-source" \^2\.0\.0 from plugin "agent-analytics" \(agent-analytics provides 1\.0\.0\)/);
    expect(refused['cycle-a']).toMatch(/cycle: (cycle-a → cycle-b → cycle-a|cycle-b → cycle-a → cycle-b)/);
    expect(refused['cycle-b']!.split('refused: ')[1]).toBe(refused['cycle-a']!.split('refused: ')[1]);
    expect(refused['needs-refused']).toMatch(/needs "ping" \^1\.0\.0, which no plugin provides/);
    expect(refused['reaches-kernel']).toMatch(/backend\/index\.ts:\d+ reads the kernel's public schema/);
    expect(refused['reaches-kernel']).toMatch(/names a kernel table of the public schema/);
    expect(body.plugins.map((p: any) => p.id).sort()).toEqual(['agent-analytics', 'agents-job', 'broken-provider', 'needs-broken', 'optional-only']);
  });

  it("runs a dependant's job only in the orgs where its provider is on", async () => {
    const rows = Array.from({ length: 5 }, (_, i) => ({ event_id: `job-${i}`, event_type: 'agent_invocation', timestamp: new Date(START + i * 60_000).toISOString(), user_id: 'u', agent_name: 'a', status: 'success' }));
    await b.org.insertEvents(rows);
    const other = await b.createOrg('job-org');
    expect(await b.runJob('agents-job', 'count')).toEqual({ [b.org.slug]: { invocations: 5 }, 'job-org': { invocations: 0 } });
    expect((await other.client.put('/api/v1/admin/plugins/agent-analytics', { enabled: false })).status).toBe(200);
    // skipped there, never failed: the provider is off, not broken
    expect(await b.runJob('agents-job', 'count')).toEqual({ [b.org.slug]: { invocations: 5 } });
  });

  it('starts the platform without them: the refused plugins have no routes', async () => {
    expect((await b.client.get('/api/v1/reaches-kernel')).status).toBe(404);
    expect((await b.client.get('/api/v1/agents', { from: new Date(START).toISOString(), to: new Date(START + 86_400_000).toISOString() })).status).toBe(200);
  });

  it('keeps a dependant of a provider that failed to start answering a 424 that says so, in every org', async () => {
    const plugins = (await b.client.get('/api/v1/plugins', { all: true })).body.plugins;
    expect(plugins.find((p: any) => p.id === 'broken-provider')).toMatchObject({ status: 'failed' });
    expect(plugins.find((p: any) => p.id === 'needs-broken')).toMatchObject({ status: 'active' });
    const other = await b.createOrg('broken-org');
    for (const client of [b.client, other.client]) {
      const res = await client.get('/api/v1/needs-broken');
      expect(res.status).toBe(424);
      expect(res.body.error).toEqual({
        code: 'provider_disabled',
        message: 'plugin "needs-broken" needs "echo" from plugin "broken-provider", which failed to start (no licence key)',
        details: { plugin: 'needs-broken', service: 'echo', provider: 'broken-provider' },
      });
    }
  });
});
