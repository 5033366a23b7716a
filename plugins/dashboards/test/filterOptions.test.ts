import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend, type TestClient, type TestOrg } from '@orrery/backend-test-utils';
import { rng } from '@orrery/backend-test-utils/random';
import dashboards from '../backend/index.ts';
import metrics from '../../metrics/backend/index.ts';

/**
 * The dashboard filters' pickers (`GET /api/v1/dashboards/filter-options`): which departments
 * each role may pick (against the directory as the test built it), and the agents, against a
 * reference counted here from the random events the test inserted (only agent invocations, only
 * the last 90 days, only departments the caller may see, never another org's).
 */
type User = TestClient & { userId: string };
const P = '/api/v1/dashboards/filter-options';
const DEPTS = ['Eng', 'Sales', 'Ops', 'Legal'];
const AGENTS = ['coder', 'reviewer', 'planner', 'sql', 'search', 'triage', 'writer'];
let b: TestBackend;
let other: TestOrg;
let dept: Record<string, string> = {};
let manager: User;
let developer: User;
let otherAdmin: TestClient;
const events: Array<{ event_type: string; agent_name: string; department_id: string; ts: number }> = [];

beforeAll(async () => {
  b = await startTestBackend({ plugins: [dashboards, metrics] });
  // Manager: manages Sales and Ops, a plain member of Eng; Developer: in Eng only
  manager = await b.org.addUser({ email: 'mia@t.local', role: 'Manager', departments: ['Eng', { name: 'Sales', manager: true }, { name: 'Ops', manager: true }] });
  developer = await b.org.addUser({ email: 'dev@t.local', role: 'Developer', departments: ['Eng'] });
  // Legal is restricted: only Admins (and its managers) see its per-user rows
  await b.org.addUser({ email: 'lee@t.local', role: 'Developer', departments: ['Legal'], restricted: ['Legal'] });
  dept = Object.fromEntries(DEPTS.map((d) => [d, b.org.departments.get(d)!]));

  const r = rng(18);
  const now = Date.now();
  const rows: Array<Record<string, unknown>> = [];
  for (let i = 0; i < 600; i++) {
    const e = {
      // the last 120 days, so some fall outside the picker's 90
      ts: now - Math.floor(r() * 120 * 86_400_000) - 60_000,
      event_type: r() < 0.8 ? 'agent_invocation' : 'tool_call',
      agent_name: AGENTS[Math.floor(r() * r() * AGENTS.length)]!,
      department_id: dept[DEPTS[Math.floor(r() * DEPTS.length)]!]!,
    };
    events.push(e);
    rows.push({ event_id: `f${i}`, event_type: e.event_type, timestamp: new Date(e.ts).toISOString(), department_id: e.department_id, user_id: `u${i % 17}`, agent_name: e.agent_name, status: 'success' });
  }
  await b.org.insertEvents(rows);

  other = await b.createOrg('other-pickers');
  await other.insertEvents([{ event_id: 'o1', event_type: 'agent_invocation', timestamp: new Date(now - 3_600_000).toISOString(), department_id: 'x', user_id: 'o', agent_name: 'other-org-agent', status: 'success' }]);
  otherAdmin = other.client;
}, 120_000);
afterAll(async () => {
  await b?.close();
});

/** agent → invocations over the last 90 days in `departments` (null = every department), busiest first */
function reference(departments: string[] | null) {
  const since = Date.now() - 90 * 86_400_000;
  const counts = new Map<string, number>();
  for (const e of events) {
    if (e.event_type !== 'agent_invocation' || e.ts < since) continue;
    if (departments && !departments.includes(e.department_id)) continue;
    counts.set(e.agent_name, (counts.get(e.agent_name) ?? 0) + 1);
  }
  return [...counts].map(([name, n]) => ({ name, events: n })).sort((a, b) => b.events - a.events || a.name.localeCompare(b.name));
}

const names = (xs: Array<{ name: string }>) => xs.map((x) => x.name).sort();

describe('departments', () => {
  it('an Admin picks every department of the org', async () => {
    const r = await b.client.get(P);
    expect(r.status).toBe(200);
    expect(names(r.body.departments)).toEqual([...DEPTS].sort());
    expect(r.body.departments.map((d: { id: string }) => d.id).sort()).toEqual(Object.values(dept).sort());
  });

  it('a Manager picks the departments they manage, a Developer their own', async () => {
    expect(names((await manager.get(P)).body.departments)).toEqual(['Ops', 'Sales']);
    expect(names((await developer.get(P)).body.departments)).toEqual(['Eng']);
  });

  it('another org sees only its own departments', async () => {
    const r = await otherAdmin.get(P);
    expect(r.status).toBe(200);
    expect(r.body.departments.map((d: { id: string }) => d.id)).not.toEqual(expect.arrayContaining([dept.Eng]));
  });
});

describe('agents', () => {
  it('are the org\'s agent names of the last 90 days, busiest first, as counted from the events', async () => {
    const r = await b.client.get(P);
    expect(r.body.agents_source).toBe('metrics');
    expect(r.body.agents).toEqual(reference(null));
    expect(r.body.agents.length).toBeGreaterThan(2);
  });

  it('narrow to a department when one is named', async () => {
    for (const d of DEPTS) expect((await b.client.get(`${P}?department_id=${dept[d]}`)).body.agents).toEqual(reference([dept[d]!]));
  });

  it('never carry another org\'s agents, and the other org sees only its own', async () => {
    expect(names((await b.client.get(P)).body.agents)).not.toContain('other-org-agent');
    expect((await otherAdmin.get(P)).body.agents).toEqual([{ name: 'other-org-agent', events: 1 }]);
  });

  it('follow the caller\'s department scope (the metrics query\'s): a Developer outside the restricted Legal never sees its agents', async () => {
    const r = await developer.get(P);
    expect(r.status).toBe(200);
    expect(r.body.agents).toEqual(reference(['Eng', 'Sales', 'Ops'].map((d) => dept[d]!)));
    expect(reference(['Eng', 'Sales', 'Ops'].map((d) => dept[d]!))).not.toEqual(reference(null));
  });

  it('answer 400 naming the field for an unknown department or a bad window', async () => {
    const unknown = await b.client.get(`${P}?department_id=nope`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.field).toBe('department_id');
    const days = await b.client.get(`${P}?days=0`);
    expect(days.status).toBe(400);
    expect(JSON.stringify(days.body.error)).toContain('days');
  });
});
