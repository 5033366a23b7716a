import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend, type TestClient, type TestOrg } from '@orrery/backend-test-utils';
import { rng } from '@orrery/backend-test-utils/random';
import dashboards from '../backend/index.ts';
import { AGENTS_PER_MINUTE, foldMinutes } from '../backend/recentActivity.ts';

/**
 * The live event stream's last minutes (`GET /api/v1/dashboards/live/recent`), against a
 * reference counted here from the random events the test inserted: per minute of event time
 * inside the answer's window, the count per type and the busiest agents; the newest event of the
 * scope; the department scope and its checks; another org's events never counted.
 */
type User = TestClient & { userId: string };
type Ev = { id: string; ts: number; event_type: string; agent_name: string; department_id: string };
const P = '/api/v1/dashboards/live/recent';
const DEPTS = ['Eng', 'Sales', 'Legal'];
const TYPES = ['agent_invocation', 'tool_call', 'session_start'];
const AGENTS = ['coder', 'reviewer', 'planner', 'sql', 'search'];
const MINUTE = 60_000;
let b: TestBackend;
let other: TestOrg;
let dept: Record<string, string> = {};
let developer: User;
let legalManager: User;
const events: Ev[] = [];

beforeAll(async () => {
  b = await startTestBackend({ plugins: [dashboards] });
  developer = await b.org.addUser({ email: 'dev@t.local', role: 'Developer', departments: ['Eng'] });
  await b.org.addUser({ email: 'sam@t.local', role: 'Developer', departments: ['Sales'] });
  // Legal is restricted: a Developer outside it never counts its events
  legalManager = await b.org.addUser({ email: 'lee@t.local', role: 'Manager', departments: [{ name: 'Legal', manager: true }], restricted: ['Legal'] });
  dept = Object.fromEntries(DEPTS.map((d) => [d, b.org.departments.get(d)!]));

  const r = rng(77);
  const now = Date.now();
  const rows: Array<Record<string, unknown>> = [];
  for (let i = 0; i < 700; i++) {
    const age = r() < 0.85
      ? 1_000 + Math.floor(r() * 70 * MINUTE) // the last 70 minutes: inside and outside every window
      : (r() < 0.5 ? 2 : 45) * 86_400_000 + Math.floor(r() * 86_400_000); // days ago, and past the 30-day lookback
    const type = TYPES[Math.floor(r() * TYPES.length)]!;
    const e: Ev = {
      id: `r${i}`,
      ts: now - age,
      event_type: type,
      // skewed, so that minutes have a busiest agent; some events name none
      agent_name: type === 'session_start' ? '' : AGENTS[Math.floor(r() * r() * AGENTS.length)]!,
      department_id: dept[DEPTS[Math.floor(r() * DEPTS.length)]!]!,
    };
    events.push(e);
    rows.push({ event_id: e.id, event_type: e.event_type, timestamp: new Date(e.ts).toISOString(), department_id: e.department_id, user_id: `u${i % 13}`, agent_name: e.agent_name, status: 'success' });
  }
  await b.org.insertEvents(rows);

  other = await b.createOrg('other-recent');
  await other.insertEvents([{ event_id: 'o1', event_type: 'agent_invocation', timestamp: new Date(now - 30_000).toISOString(), department_id: 'x', user_id: 'o', agent_name: 'other-org-agent', status: 'success' }]);
}, 120_000);
afterAll(async () => {
  await b?.close();
});

/** What the answer should hold for its own window, from the inserted events of `departments` (null = all). */
function reference(answer: { from: string; to: string }, departments: string[] | null) {
  const from = Date.parse(answer.from);
  const to = Date.parse(answer.to);
  const scoped = events.filter((e) => !departments || departments.includes(e.department_id));
  const minutes = new Map<number, Ev[]>();
  for (const e of scoped) {
    if (e.ts < from || e.ts >= to) continue;
    const m = Math.floor(e.ts / MINUTE) * MINUTE;
    minutes.set(m, [...(minutes.get(m) ?? []), e]);
  }
  const expected = [...minutes.keys()].sort((a, c) => a - c).map((m) => {
    const evs = minutes.get(m)!;
    const types: Record<string, number> = {};
    const agents = new Map<string, number>();
    for (const e of evs) {
      types[e.event_type] = (types[e.event_type] ?? 0) + 1;
      if (e.agent_name) agents.set(e.agent_name, (agents.get(e.agent_name) ?? 0) + 1);
    }
    const top = [...agents].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0])).slice(0, AGENTS_PER_MINUTE).map(([n]) => n);
    return { at: new Date(m).toISOString(), count: evs.length, types, agents: top };
  });
  const lookback = to - 30 * 86_400_000 - MINUTE; // no event sits near the lookback's edge
  const recent = scoped.filter((e) => e.ts >= lookback && e.ts < to);
  const last = recent.length ? new Date(Math.max(...recent.map((e) => e.ts))).toISOString() : null;
  return { minutes: expected, last_event_at: last };
}

describe('the last minutes of events', () => {
  it('are the org\'s events per minute of the window, with types and the busiest agents', async () => {
    for (const minutes of [undefined, 1, 15, 60]) {
      const r = await b.client.get(minutes ? `${P}?minutes=${minutes}` : P);
      expect(r.status).toBe(200);
      expect(Date.parse(r.body.to) - Date.parse(r.body.from)).toBe((minutes ?? 15) * MINUTE);
      expect(Date.parse(r.body.to)).toBeGreaterThan(Date.now() - MINUTE);
      const ref = reference(r.body, null);
      expect(r.body.minutes).toEqual(ref.minutes);
      expect(r.body.last_event_at).toBe(ref.last_event_at);
    }
    // the window of 60 minutes holds most of the events: the comparison is not over empty lists
    const wide = await b.client.get(`${P}?minutes=60`);
    expect(wide.body.minutes.length).toBeGreaterThan(40);
    expect(wide.body.minutes.reduce((a: number, m: { count: number }) => a + m.count, 0)).toBeGreaterThan(400);
  });

  it('narrow to a department, for an Admin any and for its members their own', async () => {
    for (const d of DEPTS) {
      const r = await b.client.get(`${P}?minutes=60&department_id=${dept[d]}`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject(reference(r.body, [dept[d]!]));
    }
    const own = await developer.get(`${P}?minutes=30&department_id=${dept.Eng}`);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject(reference(own.body, [dept.Eng!]));
    const legal = await legalManager.get(`${P}?minutes=30&department_id=${dept.Legal}`);
    expect(legal.status).toBe(200);
    expect(legal.body).toMatchObject(reference(legal.body, [dept.Legal!]));
  });

  it('leave out a restricted department for those outside it, as the metrics query does', async () => {
    const r = await developer.get(`${P}?minutes=60`);
    expect(r.status).toBe(200);
    const ref = reference(r.body, [dept.Eng!, dept.Sales!]);
    expect(r.body).toMatchObject(ref);
    expect(ref).not.toEqual(reference(r.body, null));
  });

  it('never count another org\'s events, and the other org sees only its own', async () => {
    const mine = await b.client.get(`${P}?minutes=60`);
    expect(JSON.stringify(mine.body)).not.toContain('other-org-agent');
    const theirs = await other.client.get(P);
    expect(theirs.status).toBe(200);
    expect(theirs.body.minutes).toHaveLength(1);
    expect(theirs.body.minutes[0]).toMatchObject({ count: 1, types: { agent_invocation: 1 }, agents: ['other-org-agent'] });
  });

  it('answer 400 or 403 naming the field for a bad window or a department out of reach', async () => {
    for (const q of ['minutes=0', 'minutes=61', 'minutes=abc', 'since=1', 'department_id=nope']) {
      const r = await b.client.get(`${P}?${q}`);
      expect(r.status, q).toBe(400);
      expect(JSON.stringify(r.body.error), q).toMatch(q.startsWith('since') ? /since/ : new RegExp(q.split('=')[0]!));
    }
    const foreign = await developer.get(`${P}?department_id=${dept.Sales}`);
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.details.field).toBe('department_id');
  });

  it('is empty with no last event for an org without events', async () => {
    const empty = await b.createOrg('no-events-recent');
    const r = await empty.client.get(P);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ minutes: [], last_event_at: null });
  });
});

describe('folding rows into minutes', () => {
  it('matches a per-event reference on random rows', () => {
    const r = rng(5);
    for (let trial = 0; trial < 200; trial++) {
      const evs: Array<{ m: number; t: string; a: string }> = [];
      const n = Math.floor(r() * 60);
      for (let i = 0; i < n; i++) evs.push({ m: Math.floor(r() * 6) * MINUTE, t: TYPES[Math.floor(r() * 3)]!, a: r() < 0.2 ? '' : AGENTS[Math.floor(r() * AGENTS.length)]! });
      // the rows the store would answer: one per (minute, type, agent) with its events, in any order
      const rows = new Map<string, { m: number; event_type: string; agent_name: string; n: number }>();
      for (const e of evs) {
        const k = `${e.m}|${e.t}|${e.a}`;
        const row = rows.get(k) ?? { m: e.m, event_type: e.t, agent_name: e.a, n: 0 };
        row.n++;
        rows.set(k, row);
      }
      const shuffled = [...rows.values()].sort(() => r() - 0.5);
      const got = foldMinutes(shuffled);
      const ms = [...new Set(evs.map((e) => e.m))].sort((a, c) => a - c);
      expect(got.map((g) => g.at)).toEqual(ms.map((m) => new Date(m).toISOString()));
      for (const g of got) {
        const inM = evs.filter((e) => new Date(e.m).toISOString() === g.at);
        expect(g.count).toBe(inM.length);
        for (const t of TYPES) expect(g.types[t] ?? 0).toBe(inM.filter((e) => e.t === t).length);
        const counts = new Map<string, number>();
        for (const e of inM) if (e.a) counts.set(e.a, (counts.get(e.a) ?? 0) + 1);
        expect(g.agents).toEqual([...counts].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0])).slice(0, 3).map(([a]) => a));
      }
    }
  });
});
