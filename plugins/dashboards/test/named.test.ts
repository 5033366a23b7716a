import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend, type TestClient, type TestOrg } from '@orrery/backend-test-utils';
import dashboards from '../backend/index.ts';
import { BUILTIN_TEMPLATES } from '../backend/templates.ts';

/**
 * Named dashboards: CRUD, the template library, filters, refresh, and who sees and edits
 * what. Visibility is checked against a reference written here from the sharing rules
 * (owner; org; members of the department), over random dashboards made by random members.
 */
type User = TestClient & { userId: string };
let b: TestBackend;
let other: TestOrg;
const users: Record<string, User> = {};
/** department name → member names */
const MEMBERS: Record<string, string[]> = { Eng: ['ana', 'ben', 'dan'], Sales: ['cat', 'dan'], Ops: ['eve'] };
let dept: Record<string, string> = {};
let otherUser: User;

const P = (path = '') => `/api/v1/dashboards${path}`;
const cell = (i: string, ref = 'metrics/metric', x = 0) => ({ i, ref, x, y: 0, w: 6, h: 4, options: { chart: 'line' } });
const fieldNamed = (r: { body: any }) => {
  const d = r.body?.error?.details;
  return Array.isArray(d) ? d.map((x: { field: string }) => x.field).join(',') : String(d?.field ?? '');
};

beforeAll(async () => {
  b = await startTestBackend({ plugins: [dashboards] });
  const names = ['ana', 'ben', 'cat', 'dan', 'eve'];
  for (const n of names) {
    const depts = Object.entries(MEMBERS).filter(([, m]) => m.includes(n)).map(([d]) => d);
    users[n] = await b.org.addUser({ email: `${n}@t.local`, role: n === 'ana' ? 'Manager' : 'Developer', departments: depts });
  }
  dept = Object.fromEntries(Object.keys(MEMBERS).map((d) => [d, b.org.departments.get(d)!]));
  other = await b.createOrg('other-named');
  otherUser = await other.addUser({ email: 'ana@t.local', role: 'Manager', departments: ['Eng'] });
}, 120_000);
afterAll(async () => {
  await b?.close();
});

describe('named dashboards', () => {
  it('create, read, list, update and delete by the owner', async () => {
    const ana = users.ana!;
    const c = await ana.post(P(), { name: '  My view ', description: 'mine', doc: { version: 1, items: [cell('a')] }, refresh_seconds: 30, filters: { agent_name: 'planner' } });
    expect(c.status, c.text).toBe(200);
    expect(c.body).toMatchObject({ name: 'My view', description: 'mine', owner_id: ana.userId, share: { scope: 'private', department_id: null, access: 'view' }, refresh_seconds: 30, filters: { agent_name: 'planner' }, widgets: 1, can_edit: true, is_owner: true, template: null });
    const id = c.body.id as string;
    const got = await ana.get(P(`/${id}`));
    expect(got.body).toEqual(c.body);
    expect((await ana.get(P())).body.dashboards.map((d: { id: string }) => d.id)).toContain(id);
    expect((await ana.get(P())).body.dashboards[0].doc).toBeUndefined();

    const u = await ana.put(P(`/${id}`), { name: 'Renamed', refresh_seconds: 300, doc: { version: 1, items: [cell('a'), cell('b', 'dashboards/welcome', 6)] } });
    expect(u.status, u.text).toBe(200);
    expect(u.body).toMatchObject({ name: 'Renamed', refresh_seconds: 300, widgets: 2, description: 'mine', filters: { agent_name: 'planner' } });
    expect((await ana.get(P(`/${id}`))).body.doc.items.map((i: { i: string }) => i.i)).toEqual(['a', 'b']);

    expect((await ana.delete(P(`/${id}`))).status).toBe(204);
    expect((await ana.get(P(`/${id}`))).status).toBe(404);
    expect((await ana.delete(P(`/${id}`))).status).toBe(404);
  });

  it('the template library: the built-ins and the role defaults; creating from one copies its widgets', async () => {
    const t = await users.ben!.get(P('/templates'));
    expect(t.status).toBe(200);
    const names = t.body.templates.map((x: { name: string }) => x.name);
    for (const n of ['AI adoption overview', 'Agent reliability', 'Cost control', 'Workflow health', 'Executive']) expect(names).toContain(n);
    expect(t.body.templates.some((x: { kind: string }) => x.kind === 'role')).toBe(false);

    const role = { version: 1, items: [cell('r', 'user-activity/user-ranking')] };
    expect((await b.client.put(P('/defaults/role/Developer'), { doc: role })).status).toBe(200);
    const t2 = await users.ben!.get(P('/templates'));
    expect(t2.body.templates.find((x: { id: string }) => x.id === 'role:Developer')).toMatchObject({ kind: 'role', doc: role });

    for (const tpl of [...BUILTIN_TEMPLATES.map((x) => x.id), 'role:Developer']) {
      const c = await users.ben!.post(P(), { name: tpl, template: tpl });
      expect(c.status, c.text).toBe(200);
      const expected = t2.body.templates.find((x: { id: string }) => x.id === tpl).doc;
      expect(c.body.doc).toEqual(expected);
      expect(c.body.template).toBe(tpl);
      // every cell of a template fits the grid and no two overlap
      const items = c.body.doc.items as Array<{ x: number; y: number; w: number; h: number }>;
      for (const [k, a] of items.entries()) {
        expect(a.x + a.w).toBeLessThanOrEqual(12);
        for (const o of items.slice(k + 1)) expect(a.x < o.x + o.w && o.x < a.x + a.w && a.y < o.y + o.h && o.y < a.y + a.h).toBe(false);
      }
      await users.ben!.delete(P(`/${c.body.id}`));
    }
    const bad = await users.ben!.post(P(), { name: 'x', template: 'nope' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('template');

    // a widget that declares its own range (a forecast over 30 days, retention over 90) keeps it
    // in every template, as when a user adds it: the dashboard's week is too short for it
    const declared = new Map<string, string>();
    for (const plugin of readdirSync(join(import.meta.dirname, '../..'))) {
      const file = join(import.meta.dirname, '../..', plugin, 'widgets.ts');
      if (!existsSync(file)) continue;
      const mod = (await import(file)) as { widgets?: Array<{ id: string; defaultTimeRange?: string }> };
      for (const w of mod.widgets ?? []) if (w.defaultTimeRange) declared.set(`${plugin}/${w.id}`, w.defaultTimeRange);
    }
    expect(declared.get('trends/forecast')).toBe('30d');
    const ranged = BUILTIN_TEMPLATES.flatMap((t) => (t.doc.items as Array<{ ref: string; timeRange?: string }>).filter((i) => declared.has(i.ref)).map((i) => [t.id, i.ref, i.timeRange] as const));
    expect(ranged.length, 'some template holds such a widget').toBeGreaterThan(0);
    for (const [t, ref, range] of ranged) expect(range, `${t}: ${ref}`).toBe(declared.get(ref));
    await b.client.delete(P('/defaults/role/Developer'));
  });

  it('bad input is a 400 naming the field', async () => {
    const ana = users.ana!;
    const cases: Array<[unknown, string]> = [
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: '   ' }, 'name'],
      [{ name: 'x', refresh_seconds: 7 }, 'refresh_seconds'],
      [{ name: 'x', share: { scope: 'team' } }, 'share.scope'],
      [{ name: 'x', share: { scope: 'org', access: 'admin' } }, 'share.access'],
      [{ name: 'x', share: { scope: 'department' } }, 'share.department_id'],
      [{ name: 'x', share: { scope: 'department', department_id: 'no-such' } }, 'share.department_id'],
      [{ name: 'x', share: { scope: 'org', department_id: dept.Eng } }, 'share.department_id'],
      [{ name: 'x', filters: { department_id: 'no-such' } }, 'filters.department_id'],
      [{ name: 'x', filters: { team: 'a' } }, 'filters'],
      [{ name: 'x', doc: { version: 1, items: [cell('a', 'm/m', 8)] } }, 'doc.items.0.w'],
      [{ name: 'x', doc: { version: 1, items: [cell('a'), cell('a', 'm/m', 6)] } }, 'doc.items.1.i'],
      [{ name: 'x', doc: { version: 1, items: [{ i: 'a' }] } }, 'doc.items.0'],
    ];
    for (const [body, field] of cases) {
      const r = await ana.post(P(), body);
      expect(r.status, `${JSON.stringify(body)} → ${r.text}`).toBe(400);
      expect(r.body.error.code).toMatch(/.+/);
      expect(fieldNamed(r), JSON.stringify(body)).toContain(field);
    }
    const c = await ana.post(P(), { name: 'ok' });
    const r = await ana.put(P(`/${c.body.id}`), { refresh_seconds: 10 });
    expect(r.status).toBe(400);
    expect(fieldNamed(r)).toContain('refresh_seconds');
    expect((await ana.put(P(`/${c.body.id}`), {})).status).toBe(400);
    await ana.delete(P(`/${c.body.id}`));
  });

  it('filters are stored and validated against the org', async () => {
    const c = await users.ana!.post(P(), { name: 'Eng only', filters: { department_id: dept.Eng, agent_name: 'reviewer' } });
    expect(c.body.filters).toEqual({ department_id: dept.Eng, agent_name: 'reviewer' });
    const u = await users.ana!.put(P(`/${c.body.id}`), { filters: { agent_name: 'planner' } });
    expect(u.body.filters).toEqual({ agent_name: 'planner' });
    // another org's department id is unknown here
    const otherDept = other.departments.get('Eng')!;
    const bad = await users.ana!.put(P(`/${c.body.id}`), { filters: { department_id: otherDept } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('filters.department_id');
    await users.ana!.delete(P(`/${c.body.id}`));
  });

  it('sharing: view vs edit, and only the owner shares or deletes', async () => {
    const { ana, ben, cat } = users as Record<string, User>;
    const view = await ana!.post(P(), { name: 'Eng view', share: { scope: 'department', department_id: dept.Eng, access: 'view' } });
    const edit = await ana!.post(P(), { name: 'Eng edit', share: { scope: 'department', department_id: dept.Eng, access: 'edit' } });
    expect(view.status, view.text).toBe(200);
    // ben (Eng) sees both; may edit only the second
    expect((await ben!.get(P(`/${view.body.id}`))).body).toMatchObject({ can_edit: false, is_owner: false });
    expect((await ben!.put(P(`/${view.body.id}`), { name: 'hijack' })).status).toBe(403);
    const e = await ben!.put(P(`/${edit.body.id}`), { name: 'Eng edit (ben)', doc: { version: 1, items: [cell('z')] } });
    expect(e.status, e.text).toBe(200);
    expect(e.body).toMatchObject({ name: 'Eng edit (ben)', updated_by: ben!.userId, owner_id: ana!.userId, can_edit: true });
    expect((await ben!.put(P(`/${edit.body.id}`), { share: { scope: 'org' } })).status).toBe(403);
    expect((await ben!.delete(P(`/${edit.body.id}`))).status).toBe(403);
    // cat (Sales) sees neither
    expect((await cat!.get(P(`/${view.body.id}`))).status).toBe(404);
    expect((await cat!.put(P(`/${edit.body.id}`), { name: 'x' })).status).toBe(404);
    // a member may share only with their own departments
    const r = await cat!.post(P(), { name: 'x', share: { scope: 'department', department_id: dept.Eng } });
    expect(r.status).toBe(403);
    // the owner moves it to the org: cat sees it now; then private: ben no longer does
    expect((await ana!.put(P(`/${view.body.id}`), { share: { scope: 'org' } })).body.share).toEqual({ scope: 'org', department_id: null, access: 'view' });
    expect((await cat!.get(P(`/${view.body.id}`))).status).toBe(200);
    await ana!.put(P(`/${view.body.id}`), { share: { scope: 'private' } });
    expect((await ben!.get(P(`/${view.body.id}`))).status).toBe(404);
    // private with access edit still lets nobody else in
    await ana!.put(P(`/${view.body.id}`), { share: { scope: 'private', access: 'edit' } });
    expect((await ben!.put(P(`/${view.body.id}`), { name: 'x' })).status).toBe(404);
    for (const d of [view, edit]) expect((await ana!.delete(P(`/${d.body.id}`))).status).toBe(204);
  });

  it('random dashboards: each member sees and edits exactly what the rules say; another org never', async () => {
    const names = Object.keys(users);
    const deptsOf = (n: string) => Object.entries(MEMBERS).filter(([, m]) => m.includes(n)).map(([d]) => d);
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const made: Array<{ id: string; owner: string; scope: string; dept: string | null; access: string }> = [];
    for (let k = 0; k < 30; k++) {
      const owner = names[rnd(names.length)]!;
      const scope = ['private', 'department', 'org'][rnd(3)]!;
      const access = ['view', 'edit'][rnd(2)]!;
      const mine = deptsOf(owner);
      const d = scope === 'department' ? mine[rnd(mine.length)]! : null;
      const share = scope === 'department' ? { scope, department_id: dept[d!], access } : { scope, access };
      const r = await users[owner]!.post(P(), { name: `d${k}`, share });
      expect(r.status, r.text).toBe(200);
      made.push({ id: r.body.id, owner, scope, dept: d, access });
    }
    // the other org's member makes org-wide dashboards too: never seen here, and sees none of ours
    const foreign = await otherUser.post(P(), { name: 'foreign', share: { scope: 'org', access: 'edit' } });
    for (const n of names) {
      const sees = made.filter((m) => m.owner === n || m.scope === 'org' || (m.scope === 'department' && deptsOf(n).includes(m.dept!)));
      const edits = sees.filter((m) => m.owner === n || (m.scope !== 'private' && m.access === 'edit'));
      const list = (await users[n]!.get(P())).body.dashboards as Array<{ id: string; can_edit: boolean }>;
      expect(list.map((x) => x.id).sort(), n).toEqual(sees.map((m) => m.id).sort());
      expect(list.filter((x) => x.can_edit).map((x) => x.id).sort(), n).toEqual(edits.map((m) => m.id).sort());
      for (const m of made) {
        const got = await users[n]!.get(P(`/${m.id}`));
        expect(got.status, `${n} → ${m.id}`).toBe(sees.includes(m) ? 200 : 404);
      }
      expect((await users[n]!.get(P(`/${foreign.body.id}`))).status).toBe(404);
    }
    const theirs = (await otherUser.get(P())).body.dashboards.map((d: { id: string }) => d.id);
    expect(theirs).toEqual([foreign.body.id]);
    for (const m of made) expect((await otherUser.get(P(`/${m.id}`))).status).toBe(404);
    expect((await otherUser.put(P(`/${made[0]!.id}`), { name: 'x' })).status).toBe(404);
  });
});
