import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import type { PluginDeclaration, PluginEnv } from '@orrery/plugin-sdk';
import userActivity from '../backend/index.ts';

/**
 * fastify serializes an answer with the route's response schema and drops what the schema
 * does not list (and coerces what it types differently): a schema that forgot a field would
 * silently change the answer. Every route is therefore served twice here — as declared, and
 * as a twin under `/raw/…` running the same handler with no response schema (plain
 * JSON.stringify) — and the two answers must be equal, over data that makes every field
 * appear, nullable ones both null and not.
 */
const withRawTwins = (p: PluginDeclaration<any>): PluginDeclaration<any> => ({
  ...p,
  register(env: PluginEnv) {
    p.register({
      ...env,
      route(r) {
        env.route(r);
        const { response: _declared, ...schema } = r.schema ?? {};
        env.route({ ...r, path: `/raw${r.path === '/' ? '' : r.path}`, schema });
      },
    });
  },
});

/** a small deterministic generator, so a failure can be replayed */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const pick = <T,>(r: () => number, xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;

let b: TestBackend;
const users: Record<string, { userId: string; get: TestBackend['client']['get'] }> = {};
const range = { from: '2026-03-02T00:00:00Z', to: '2026-03-30T00:00:00Z' };

function events(r: () => number, ids: string[], depts: string[], count: number, prefix: string) {
  const out: Array<Record<string, unknown>> = [];
  const base = Date.parse('2026-02-20T00:00:00Z');
  for (let i = 0; i < count; i++) {
    const user = pick(r, ids);
    const session = `${prefix}-${user}-${Math.floor(r() * 12)}`;
    const ts = new Date(base + Math.floor(r() * 38 * 86_400_000)).toISOString();
    const status = pick(r, ['success', 'failure', ''] as const);
    const kind = pick(r, ['feature_use', 'command', 'command', 'tool_call', 'agent_invocation', 'session'] as const);
    const row: Record<string, unknown> = { event_id: `${prefix}${i}`, event_type: kind, user_id: user, department_id: pick(r, depts), timestamp: ts, session_id: r() < 0.9 ? session : '' };
    if (status) row.status = status;
    if (kind === 'feature_use') row.feature_name = pick(r, ['chat', 'search', 'review']);
    if (kind === 'command') row.command_name = pick(r, ['/plan', '/code', '/test']);
    if (kind === 'tool_call') row.tool_name = pick(r, ['bash', 'edit', 'grep']);
    if (kind === 'agent_invocation') row.agent_name = pick(r, ['coder', 'reviewer']);
    if (kind === 'session') Object.assign(row, { action: 'ended', duration_ms: Math.floor(r() * 3_600_000) });
    out.push(row);
  }
  return out;
}

beforeAll(async () => {
  b = await startTestBackend({ plugins: [withRawTwins(userActivity)] });
  users.ana = await b.org.addUser({ email: 'ana@t.local', role: 'Manager', departments: [{ name: 'Eng', manager: true }] });
  users.ben = await b.org.addUser({ email: 'ben@t.local', role: 'Developer', departments: ['Eng'] });
  users.eve = await b.org.addUser({ email: 'eve@t.local', role: 'Developer', departments: ['Sales'], restricted: ['Sales'] });
  users.idle = await b.org.addUser({ email: 'idle@t.local', role: 'Developer', departments: ['Eng'] });
  const depts = [b.org.departments.get('Eng')!, b.org.departments.get('Sales')!, 'dept-unknown', ''];
  // `ghost` is known from events only (no email, no name, no department)
  const ids = [users.ana.userId, users.ben.userId, users.eve.userId, 'ghost'];
  const rows = events(rng(15), ids, depts, 600, 'a');
  // a run of the same commands in many sessions, so that patterns exist whatever the draw
  for (let s = 0; s < 4; s++) {
    for (const [k, c] of ['/plan', '/code', '/test'].entries()) {
      rows.push({ event_id: `p${s}${k}`, event_type: 'command', command_name: c, user_id: users.ana.userId, department_id: depts[0], session_id: `pat-${s}`, timestamp: `2026-03-1${s}T10:0${k}:00Z`, status: 'success' });
    }
  }
  await b.org.insertEvents(rows.slice(0, 300));
  await b.foldRollups();
  await b.org.insertEvents(rows.slice(300));
  // another org with same-named departments and users: its answers are its own
  const other = await b.createOrg('other-answers');
  await other.addUser({ email: 'ana@t.local', role: 'Manager', departments: [{ name: 'Eng', manager: true }] });
  await other.insertEvents(events(rng(16), ['ghost', 'stranger'], [other.departments.get('Eng')!], 200, 'o'));
}, 120_000);
afterAll(async () => {
  await b?.close();
});

/** the route's answer as served, and the same handler's answer without the schema */
async function both(path: string, query: Record<string, unknown>, as = b.client.get) {
  const [declared, raw] = [await as(`/api/v1/${path}`, query), await as(`/api/v1/${path.replace(/^(users|metrics\/dau)/, '$1/raw')}`, query)];
  expect(declared.status, `${path} ${JSON.stringify(declared.body).slice(0, 300)}`).toBe(200);
  expect(raw.status, path).toBe(200);
  expect(declared.body, path).toEqual(raw.body);
  return declared.body;
}

/** every key path of a value, with `[]` for array items: what a schema must have listed */
function keyPaths(v: unknown, at = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => keyPaths(x, `${at}[]`, out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) keyPaths(x, `${at}.${k}`, (out.add(`${at}.${k}`), out));
  return out;
}

describe('user-activity answers are unchanged by their response schemas', () => {
  const wide = { ...range, tz: 'Europe/Paris' };

  it('GET /metrics/dau', async () => {
    for (const granularity of ['day', 'week', 'month']) {
      const a = await both('metrics/dau', { ...range, granularity });
      expect(a.series.length).toBeGreaterThan(0);
    }
  });

  it('GET /users/activity', async () => {
    const a = await both('users/activity', wide);
    expect(a.by_department.some((d: { name: string | null }) => d.name === null)).toBe(true);
    expect(a.by_department.some((d: { name: string | null }) => d.name === 'Eng')).toBe(true);
    expect(a.by_agent.length).toBeGreaterThan(0);
    expect(a.lifecycle.length).toBeGreaterThan(0);
    expect(a.success_rate).toEqual(expect.any(Number));
    for (const k of ['active_users', 'events', 'dau', 'wau', 'mau', 'avg_dau', 'stickiness', 'sessions', 'granularity', 'series']) expect(a).toHaveProperty(k);
    await both('users/activity', { ...range, granularity: 'week', department_id: b.org.departments.get('Eng') });
    // an empty range: nullable figures are null
    const empty = await both('users/activity', { from: '2025-01-01T00:00:00Z', to: '2025-01-08T00:00:00Z' });
    expect(empty.success_rate).toBeNull();
  });

  it('GET /users/activity/heatmap, both kinds', async () => {
    const hw = await both('users/activity/heatmap', { ...wide, kind: 'hour_weekday' });
    expect(hw.kind).toBe('hour_weekday');
    expect(Object.keys(hw.cells[0]).sort()).toEqual(['events', 'hour', 'users', 'weekday']);
    const dw = await both('users/activity/heatmap', { ...range, kind: 'department_week' });
    expect(dw.kind).toBe('department_week');
    expect(Object.keys(dw.cells[0]).sort()).toEqual(['department_id', 'events', 'name', 'users', 'week']);
  });

  it('GET /users/activity/lifecycle', async () => {
    for (const granularity of ['day', 'week', 'month']) expect((await both('users/activity/lifecycle', { ...range, granularity })).series.length).toBeGreaterThan(0);
  });

  it('GET /users/usage of every kind, and /users/commands', async () => {
    for (const kind of ['feature', 'command', 'tool', 'agent']) {
      const a = await both('users/usage', { ...range, kind, limit: 2 });
      expect(a.items.length).toBe(2);
      expect(a.distinct_items).toBeGreaterThanOrEqual(2);
      expect(a.diversity.evenness).toEqual(expect.any(Number));
    }
    const none = await both('users/usage', { from: '2025-01-01T00:00:00Z', to: '2025-01-08T00:00:00Z', kind: 'tool' });
    expect(none.diversity.evenness).toBeNull();
    expect((await both('users/commands', range)).items.length).toBeGreaterThan(0);
  });

  it('GET /users/engagement, as an Admin and as a Developer who sees less', async () => {
    for (const sort of ['events', 'active_days', 'sessions', 'diversity', 'success_rate']) {
      const a = await both('users/engagement', { ...range, sort });
      expect(a.users.some((u: { email: string | null }) => u.email === null)).toBe(true);
      expect(a.users.some((u: { email: string | null }) => u.email === 'ana@t.local')).toBe(true);
      expect(a.teams.length).toBeGreaterThan(0);
    }
    const dev = await both('users/engagement', range, users.ben!.get);
    expect(dev.users.map((u: { email: string | null }) => u.email)).not.toContain('eve@t.local');
  });

  it('GET /users/commands/sequences, /patterns and /overview', async () => {
    for (const n of [2, 3]) expect((await both('users/commands/sequences', { ...range, n })).sequences.length).toBeGreaterThan(0);
    const p = await both('users/commands/patterns', { ...range, n: 3, min_sessions: 3 });
    expect(p.patterns.length).toBeGreaterThan(0);
    const repeated = await both('users/commands/patterns', { ...range, n: 2, min_sessions: 2 });
    expect(new Set(repeated.patterns.map((x: { kind: string }) => x.kind)).size).toBeGreaterThan(0);
    for (const [seq_n, pattern_n] of [[2, 3], [3, 3]]) {
      const o = await both('users/commands/overview', { ...range, seq_n, pattern_n, min_sessions: 3 });
      expect(o.items.length).toBeGreaterThan(0);
      expect(o.sequences.sequences.length).toBeGreaterThan(0);
      expect(o.patterns.patterns.length).toBeGreaterThan(0);
    }
  });

  it('GET /users/commands/adoption, including no commands at all', async () => {
    const a = await both('users/commands/adoption', range);
    expect(a.commands.length).toBeGreaterThan(0);
    expect(a.commands[0].departments[0].series.length).toBeGreaterThan(0);
    const named = await both('users/commands/adoption', { ...range, command: '/plan,/nope' });
    expect(named.commands.map((c: { command: string }) => c.command)).toEqual(['/plan', '/nope']);
    const none = await both('users/commands/adoption', { from: '2025-01-01T00:00:00Z', to: '2025-01-08T00:00:00Z' });
    expect(none).toEqual({ commands: [], departments: [] });
  });

  it('GET /users/{id}/analytics: an active user, an idle one and one known from events only', async () => {
    const ana = await both(`users/${users.ana!.userId}/analytics`, wide);
    expect(ana.totals).not.toBeNull();
    expect(ana.sessions).not.toBeNull();
    expect(ana.compare.teams.length).toBeGreaterThan(0);
    expect(Object.keys(ana.top).sort()).toEqual(['agent', 'command', 'feature', 'tool']);
    const idle = await both('users/me/analytics', range, users.idle!.get);
    expect(idle.totals).toBeNull();
    expect(idle.sessions).toBeNull();
    const ghost = await both('users/ghost/analytics', range);
    expect(ghost.user).toEqual({ id: 'ghost', email: null, display_name: null, department_ids: [] });
  });

  it('the other org sees its own figures through the same schemas', async () => {
    const other = await b.createOrg('other-answers-2');
    await other.insertEvents([{ event_id: 'z1', event_type: 'command', command_name: '/plan', user_id: 'ghost', department_id: '', session_id: 's', timestamp: '2026-03-03T10:00:00Z' }]);
    const mine = await both('users/ghost/analytics', range);
    const theirs = await both('users/ghost/analytics', range, other.client.get);
    expect(theirs.totals.events).toBe(1);
    expect(mine.totals.events).toBeGreaterThan(1);
  });

  it('the data reaches the nested fields the comparisons above are about', async () => {
    // a comparison over answers that never carry a field would prove nothing about it
    const raw = await b.client.get(`/api/v1/users/raw/${users.ana!.userId}/analytics`, range);
    expect([...keyPaths(raw.body)]).toEqual(expect.arrayContaining(['.user.department_ids', '.totals.last_seen', '.sessions.sessions_per_user_per_week', '.compare.org.diversity', '.top.command[].uses']));
  });
});
