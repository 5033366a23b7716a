import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend, type TestClient, type TestOrg } from '@orrery/backend-test-utils';
import type { PluginDeclaration, PluginEnv } from '@orrery/plugin-sdk';
import dashboards from '../backend/index.ts';

/**
 * fastify serializes an answer with the route's response schema and drops what the schema
 * does not list: every route is served twice here — as declared, and as a twin under
 * `/raw/…` running the same handler with no response schema — and the answers must match.
 * Reads are compared whole; writes (whose `updated_at` is the moment of the write) by their
 * keys and types. Two orgs with the same role and department names never see each other's.
 */
const withRawTwins = (p: PluginDeclaration<any>): PluginDeclaration<any> => ({
  ...p,
  register(env: PluginEnv) {
    p.register({
      ...env,
      route(r) {
        env.route(r);
        const { response: _declared, ...schema } = r.schema ?? {};
        env.route({ ...r, path: `/raw${r.path}`, schema });
      },
    });
  },
});

let b: TestBackend;
let other: TestOrg;
let manager: TestClient & { userId: string };
let dev: TestClient & { userId: string };
let otherDev: TestClient & { userId: string };
let eng = '';

/** a document with everything an item may carry, extra keys included (items keep unknown keys) */
const doc = (ref: string) => ({
  version: 1,
  items: [
    { i: 'a', ref, x: 0, y: 0, w: 6, h: 4, options: { metric: 'events', nested: { deep: [1, 2] } }, pluginVersion: '1.2.0', optionsVersion: 2, timeRange: '30d', title: 'A', extra: { kept: true } },
    { i: 'b', ref: 'dashboards/welcome', x: 6, y: 0, w: 6, h: 3 },
  ],
});

const G = (path: string) => `/api/v1/dashboards${path}`;
const R = (path: string) => `/api/v1/dashboards/raw${path}`;

async function read(c: TestClient, path: string, query?: Record<string, unknown>) {
  const [declared, raw] = [await c.get(G(path), query), await c.get(R(path), query)];
  expect(declared.status, `${path} ${declared.text.slice(0, 300)}`).toBe(raw.status);
  expect(declared.body, path).toEqual(raw.body);
  return declared;
}

const shape = (v: Record<string, unknown>) => Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x]));

async function write(c: TestClient, method: 'put' | 'delete', path: string, body?: unknown) {
  const declared = method === 'put' ? await c.put(G(path), body) : await c.delete(G(path));
  const raw = method === 'put' ? await c.put(R(path), body) : await c.delete(R(path));
  expect(declared.status, `${method} ${path} ${declared.text.slice(0, 300)}`).toBe(raw.status);
  if (declared.status === 204) expect(declared.text).toBe(raw.text);
  else expect(shape(declared.body), path).toEqual(shape(raw.body));
  return declared;
}

beforeAll(async () => {
  b = await startTestBackend({ plugins: [withRawTwins(dashboards)] });
  manager = await b.org.addUser({ email: 'ana@t.local', role: 'Manager', departments: [{ name: 'Eng', manager: true }] });
  dev = await b.org.addUser({ email: 'ben@t.local', role: 'Developer', departments: ['Eng'] });
  eng = b.org.departments.get('Eng')!;
  other = await b.createOrg('other-dash');
  otherDev = await other.addUser({ email: 'ben@t.local', role: 'Developer', departments: ['Eng'] });
}, 120_000);
afterAll(async () => {
  await b?.close();
});

describe('dashboards answers are unchanged by their response schemas', () => {
  it('GET /mine with nothing saved: source none, no updated_at', async () => {
    const r = await read(dev, '/mine');
    expect(r.body).toEqual({ doc: null, source: 'none' });
  });

  it('role and department defaults: set, list, read, resolve, remove', async () => {
    expect((await write(b.client, 'put', '/defaults/role/Developer', { doc: doc('user-activity/user-ranking') })).status).toBe(200);
    const role = await read(b.client, '/defaults/role/Developer');
    expect(role.body.doc).toEqual(doc('user-activity/user-ranking'));
    expect(role.body.updated_by).toMatch(/.+/);
    expect((await read(dev, '/mine')).body).toMatchObject({ source: 'role', doc: doc('user-activity/user-ranking'), updated_at: expect.any(String) });

    expect((await write(manager, 'put', `/defaults/department/${eng}`, { doc: doc('agent-analytics/leaderboard') })).status).toBe(200);
    expect((await read(dev, '/mine')).body).toMatchObject({ source: 'department', doc: doc('agent-analytics/leaderboard') });
    expect((await read(dev, '/mine', { department_id: eng })).body.source).toBe('department');

    const list = await read(b.client, '/defaults');
    expect(list.body.defaults.map((d: { scope: string; key: string }) => `${d.scope}/${d.key}`).sort()).toEqual([`department/${eng}`, 'role/Developer']);
    expect(Object.keys(list.body.defaults[0]).sort()).toEqual(['key', 'scope', 'updated_at', 'updated_by']);

    expect((await read(b.client, '/defaults/role/Manager')).status).toBe(404);
    expect((await write(manager, 'put', '/defaults/role/Developer', { doc: doc('x/y') })).status).toBe(403);
    expect((await write(manager, 'delete', `/defaults/department/${eng}`)).status).toBe(204);
    expect((await read(dev, '/mine')).body.source).toBe('role');
  });

  it("the user's own layout: save, read, reset to the default", async () => {
    const saved = await write(dev, 'put', '/mine', { doc: doc('user-activity/command-usage') });
    expect(saved.body).toEqual({ updated_at: expect.any(String) });
    const mine = await read(dev, '/mine');
    expect(mine.body).toEqual({ doc: doc('user-activity/command-usage'), source: 'user', updated_at: expect.any(String) });
    // the reset answers the default the user falls back to (both calls reset: the second finds nothing to delete)
    const reset = await write(dev, 'delete', '/mine');
    expect(reset.body).toMatchObject({ source: 'role', doc: doc('user-activity/user-ranking') });
  });

  it('another org with the same role and department names sees none of it', async () => {
    expect((await read(otherDev, '/mine')).body).toEqual({ doc: null, source: 'none' });
    expect((await read(other.client, '/defaults')).body).toEqual({ defaults: [] });
    expect((await read(other.client, '/defaults/role/Developer')).status).toBe(404);
    await write(other.client, 'put', '/defaults/role/Developer', { doc: doc('other/widget') });
    expect((await read(otherDev, '/mine')).body.doc).toEqual(doc('other/widget'));
    expect((await read(dev, '/mine')).body.doc).toEqual(doc('user-activity/user-ranking'));
    await write(b.client, 'delete', '/defaults/role/Developer');
    expect((await read(otherDev, '/mine')).body.source).toBe('role');
    expect((await read(dev, '/mine')).body.source).toBe('none');
  });
});
