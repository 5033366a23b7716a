import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import { rng } from '@orrery/backend-test-utils/random';
import userActivity from '../backend/index.ts';

/**
 * `GET /users/:id/analytics` against a brute-force reference: random events of members
 * (one in two departments), of a user known only from events and of users outside the
 * range, counted here row by row for each user, time zone and filter.
 */
let b: TestBackend;
const DEPTS = ['Eng', 'Sales', 'Ops'];
const ids: Record<string, string> = {};
const memberOf: Record<string, string[]> = {};
const deptId: Record<string, string> = {};
type Ev = { event_id: string; event_type: string; user_id: string; department_id: string; timestamp: string; session_id: string; status: string; action: string; duration_ms: number; feature_name: string; command_name: string; tool_name: string; agent_name: string };
const events: Ev[] = [];
const FROM = Date.parse('2026-03-02T00:00:00Z');
const TO = Date.parse('2026-03-16T00:00:00Z');
const DAY = 86_400_000;

beforeAll(async () => {
  b = await startTestBackend({ plugins: [userActivity] });
  const people: Array<[string, string[]]> = [['ana', ['Eng']], ['ben', ['Eng', 'Sales']], ['cy', ['Sales']], ['dee', ['Ops']], ['eve', []]];
  for (const [name, depts] of people) {
    const c = await b.org.addUser({ email: `${name}@ua.local`, role: 'Developer', departments: depts });
    ids[name] = c.userId;
    memberOf[c.userId] = depts;
  }
  for (const d of DEPTS) deptId[d] = b.org.departments.get(d)!;
  for (const id of Object.keys(memberOf)) memberOf[id] = memberOf[id]!.map((d) => deptId[d]!);
  ids.ext = 'ext-user-1';
  const r = rng(1807);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const users = Object.values(ids);
  for (let i = 0; i < 1500; i++) {
    const user = pick(users);
    // a few days either side of the range too: those must not count
    const ts = FROM - 2 * DAY + Math.floor(r() * (TO - FROM + 4 * DAY));
    const type = pick(['feature_use', 'command', 'tool_call', 'agent_invocation', 'session', 'feature_use']);
    const own = memberOf[user] ?? [];
    events.push({
      event_id: `ua-${i}`,
      event_type: type,
      user_id: user,
      department_id: r() < 0.8 && own.length ? pick(own) : pick(['', ...Object.values(deptId)]),
      timestamp: new Date(ts).toISOString(),
      session_id: r() < 0.7 ? `s-${user.slice(0, 4)}-${Math.floor(r() * 12)}` : '',
      status: pick(['success', 'success', 'failure', '']),
      action: type === 'session' ? pick(['started', 'ended']) : '',
      duration_ms: type === 'session' && r() < 0.7 ? Math.floor(r() * 3_600_000) : 0,
      feature_name: type === 'feature_use' ? pick(['chat', 'search', 'review', '']) : '',
      command_name: type === 'command' ? pick(['/plan', '/code', '/test', '/fix', '/doc', '/lint', '/run', '/ship', '/a', '/b', '/c', '/d']) : '',
      tool_name: type === 'tool_call' ? pick(['grep', 'edit', 'bash', 'read']) : '',
      agent_name: type === 'agent_invocation' ? pick(['reviewer', 'tester', 'writer']) : '',
    });
  }
  // half folded into the rollups, half after: the answer reads raw events either way
  await b.org.insertEvents(events.filter((_, i) => i % 2 === 0));
  await b.foldRollups();
  await b.org.insertEvents(events.filter((_, i) => i % 2 === 1));
  const other = await b.createOrg('other-ua-analytics');
  await other.insertEvents([{ event_id: 'x1', event_type: 'feature_use', feature_name: 'chat', user_id: ids.ana, department_id: '', timestamp: '2026-03-03T09:00:00Z' }]);
}, 120_000);
afterAll(async () => {
  await b?.close();
});

/** the local calendar day of a time in a zone, as yyyy-mm-dd */
const localDay = (ms: number, tz: string) => new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
const ITEM: Record<string, [kind: string, column: keyof Ev]> = {
  feature_use: ['feature', 'feature_name'],
  command: ['command', 'command_name'],
  tool_call: ['tool', 'tool_name'],
  agent_invocation: ['agent', 'agent_name'],
};
const distinct = <T>(xs: T[]) => new Set(xs).size;

function engagement(rows: Ev[], tz: string) {
  const named = (type: string) => rows.filter((e) => e.event_type === type && e[ITEM[type]![1]] !== '').map((e) => e[ITEM[type]![1]]);
  const succ = rows.filter((e) => e.status === 'success').length;
  const fail = rows.filter((e) => e.status === 'failure').length;
  return {
    events: rows.length,
    active_days: distinct(rows.map((e) => localDay(Date.parse(e.timestamp), tz))),
    sessions: distinct(rows.filter((e) => e.session_id).map((e) => e.session_id)),
    features: distinct(named('feature_use')),
    commands: distinct(named('command')),
    tools: distinct(named('tool_call')),
    agents: distinct(named('agent_invocation')),
    // a capability is a use of one of the four kinds, named by its kind and name
    diversity: distinct(rows.filter((e) => ITEM[e.event_type]).map((e) => `${e.event_type}\u0000${e[ITEM[e.event_type]![1]]}`)),
    successes: succ,
    failures: fail,
  };
}

function reference(userId: string, tz: string, filter: { department_id?: string; agent?: string }) {
  const inRange = events.filter((e) => {
    const t = Date.parse(e.timestamp);
    return t >= FROM && t < TO && (!filter.department_id || e.department_id === filter.department_id) && (!filter.agent || e.agent_name === filter.agent);
  });
  const mine = inRange.filter((e) => e.user_id === userId);
  const byUser = new Map<string, Ev[]>();
  for (const e of inRange) byUser.set(e.user_id, [...(byUser.get(e.user_id) ?? []), e]);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const users = [...byUser.values()].map((rs) => engagement(rs, tz));
  const e = engagement(mine, tz);
  const sessions = [...new Set(mine.filter((x) => x.session_id).map((x) => x.session_id))].map((s) => {
    const rs = mine.filter((x) => x.session_id === s);
    const ended = Math.max(0, ...rs.filter((x) => x.event_type === 'session' && x.action === 'ended').map((x) => x.duration_ms));
    const ts = rs.map((x) => Date.parse(x.timestamp));
    return ended > 0 ? ended : Math.max(...ts) - Math.min(...ts);
  }).sort((a, b) => a - b);
  const total = sessions.reduce((s, d) => s + d, 0);
  const days = [...new Set(mine.map((x) => localDay(Date.parse(x.timestamp), tz)))].sort();
  const top: Record<string, Array<{ name: string; uses: number }>> = { feature: [], command: [], tool: [], agent: [] };
  for (const [type, [kind, col]] of Object.entries(ITEM)) {
    const uses = new Map<string, number>();
    for (const x of mine) if (x.event_type === type && x[col] !== '') uses.set(String(x[col]), (uses.get(String(x[col])) ?? 0) + 1);
    top[kind] = [...uses].map(([name, n]) => ({ name, uses: n })).sort((a, b) => b.uses - a.uses || (a.name < b.name ? -1 : 1)).slice(0, 10);
  }
  const teams = [...(memberOf[userId] ?? [])].sort().map((d) => {
    const per = new Map<string, Ev[]>();
    for (const x of inRange) if (x.department_id === d) per.set(x.user_id, [...(per.get(x.user_id) ?? []), x]);
    const figs = [...per.values()].map((rs) => engagement(rs, tz));
    const s = figs.reduce((a, f) => a + f.successes, 0);
    const f = figs.reduce((a, f) => a + f.failures, 0);
    return figs.length
      ? { department_id: d, name: DEPTS.find((n) => deptId[n] === d)!, active_users: figs.length, events: mean(figs.map((x) => x.events)), active_days: mean(figs.map((x) => x.active_days)), sessions: mean(figs.map((x) => x.sessions)), diversity: mean(figs.map((x) => x.diversity)), success_rate: s + f ? s / (s + f) : null }
      : null;
  }).filter((t) => t !== null);
  return {
    totals: mine.length ? { ...e, last_seen: Math.max(...mine.map((x) => Date.parse(x.timestamp))), success_rate: e.successes + e.failures ? e.successes / (e.successes + e.failures) : null } : null,
    sessions: sessions.length
      ? {
          sessions: sessions.length,
          avg_minutes: total / sessions.length / 60_000,
          // the median as the answer takes it: the value at position ⌊n/2⌋ of the sorted durations
          median_minutes: sessions[Math.floor(sessions.length / 2)]! / 60_000,
          total_minutes: total / 60_000,
          sessions_per_user_per_week: sessions.length / Math.max(1, (TO - FROM) / (7 * DAY)),
        }
      : null,
    series: days.map((d) => {
      const rs = mine.filter((x) => localDay(Date.parse(x.timestamp), tz) === d);
      return { day: d, events: rs.length, successes: rs.filter((x) => x.status === 'success').length, failures: rs.filter((x) => x.status === 'failure').length };
    }),
    top,
    teams,
    org: { active_users: users.length, events: mean(users.map((u) => u.events)), active_days: mean(users.map((u) => u.active_days)), diversity: mean(users.map((u) => u.diversity)) },
  };
}

/** `actual` is `expected` rounded to `digits` (a rounding step apart at most: sums in another order) */
const near = (actual: number | null, expected: number | null, digits: number) => {
  if (expected === null) return expect(actual).toBeNull();
  expect(Math.abs(Number(actual) - expected)).toBeLessThanOrEqual(10 ** -digits + 1e-9);
};

describe('GET /users/:id/analytics against a brute-force count', () => {
  const cases: Array<[string, string, { department_id?: string; agent?: string }]> = [];
  for (const who of ['ana', 'ben', 'cy', 'dee', 'eve', 'ext']) for (const tz of ['UTC', 'Asia/Kolkata']) cases.push([who, tz, {}]);
  cases.push(['ben', 'UTC', { department_id: 'Sales' }], ['ana', 'Asia/Kolkata', { agent: 'reviewer' }]);

  it.each(cases)('%s in %s %o', async (who, tz, filter) => {
    const f = { ...filter, ...(filter.department_id ? { department_id: deptId[filter.department_id] } : {}) };
    const id = ids[who]!;
    const r = await b.client.get(`/api/v1/users/${id}/analytics`, { from: new Date(FROM).toISOString(), to: new Date(TO).toISOString(), tz, ...f });
    expect(r.status).toBe(200);
    const want = reference(id, tz, f);
    const a = r.body;
    expect(a.user.department_ids.sort()).toEqual([...(memberOf[id] ?? [])].sort());
    if (!want.totals) expect(a.totals).toBeNull();
    else {
      const { last_seen, success_rate, successes: _s, failures: _f, ...counts } = want.totals;
      expect(a.totals).toMatchObject(counts);
      expect(Date.parse(a.totals.last_seen)).toBe(last_seen);
      near(a.totals.success_rate, success_rate, 4);
    }
    if (!want.sessions) expect(a.sessions).toBeNull();
    else {
      expect(a.sessions.sessions).toBe(want.sessions.sessions);
      for (const k of ['avg_minutes', 'median_minutes', 'total_minutes', 'sessions_per_user_per_week'] as const) near(a.sessions[k], want.sessions[k], 2);
    }
    expect(a.series.map((s: { bucket: string }) => localDay(Date.parse(s.bucket), tz))).toEqual(want.series.map((s) => s.day));
    // each bucket starts at the local midnight
    for (const s of a.series) expect(new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(Date.parse(s.bucket))).toBe('00:00');
    expect(a.series.map(({ events: e, successes, failures }: Record<string, number>) => ({ e, successes, failures }))).toEqual(want.series.map(({ events: e, successes, failures }) => ({ e, successes, failures })));
    expect(a.top).toEqual(want.top);
    expect(a.compare.teams.map((t: { department_id: string }) => t.department_id)).toEqual(want.teams.map((t) => t.department_id));
    a.compare.teams.forEach((t: Record<string, number | string | null>, i: number) => {
      const w = want.teams[i]!;
      expect(t).toMatchObject({ name: w.name, active_users: w.active_users });
      for (const k of ['events', 'active_days', 'sessions', 'diversity'] as const) near(t[k] as number, w[k], 2);
      near(t.success_rate as number | null, w.success_rate, 4);
    });
    expect(a.compare.org.active_users).toBe(want.org.active_users);
    for (const k of ['events', 'active_days', 'diversity'] as const) near(a.compare.org[k], want.org[k], 2);
  });

  it('answers 404 for an id with no events and no membership', async () => {
    const r = await b.client.get('/api/v1/users/nobody-at-all/analytics', { from: new Date(FROM).toISOString(), to: new Date(TO).toISOString() });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not_found');
  });
});
