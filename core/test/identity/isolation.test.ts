import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestBackend, type TestBackend, type TestClient, type TestOrg } from '@orrery/backend-test-utils';

/**
 * Proof of tenant isolation. The routes come from the router itself (the
 * catalogue filled by the authentication hook), with every plugin folder
 * loaded, so a route added tomorrow is swept without editing this file.
 *
 * Org A ("test-org") is filled with data whose every string carries the
 * marker "alpha-secret": through its own API (every write route without
 * path parameters is called once with a body generated from its schema), and
 * with events in ClickHouse. Then each role of org B calls every route with
 * org A's ids and names in the path, the query and the body. No answer may
 * contain an org A marker that the request did not itself carry, and org A's
 * rows (its schema, its catalogue rows, its events) must be unchanged after.
 */
const MARK = 'alpha-secret';
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

interface Route {
  method: string;
  url: string;
  permission: string | undefined;
  schema: Record<string, any> | undefined;
}

describe('tenant isolation, swept over every registered route', () => {
  let b: TestBackend;
  let A: TestOrg;
  let B: TestOrg;
  let routes: Route[];
  const aIds = new Set<string>();
  const aNames = new Set<string>();
  let aUser = '';
  let aDept = '';
  const clientsB: Record<string, TestClient> = {};
  const clientsA: Record<string, TestClient & { userId: string }> = {};

  beforeAll(async () => {
    // ORRERY_SWEEP_SKIP_PLUGINS=a,b leaves plugin folders out (a plugin mid-development); default: every folder
    const skip = (process.env.ORRERY_SWEEP_SKIP_PLUGINS ?? '').split(',').filter(Boolean);
    const only = skip.length ? readdirSync(join(REPO, 'plugins')).filter((d) => !skip.includes(d)) : undefined;
    b = await startTestBackend({ loadPluginFolders: true, onlyPlugins: only, config: { rateLimits: { enabled: false } } });
    A = b.org;
    routes = (b.kernel.app.routeCatalogue as Route[]).filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS' && !r.url.includes('*'));
    const apiRoutes = routes.filter((r) => r.url.startsWith('/api/'));
    expect(apiRoutes.length).toBeGreaterThan(40);

    // ---- org A, full of marked data ----
    clientsA.Manager = await A.addUser({ email: `${MARK}-mgr@a.test`, role: 'Manager', departments: [{ name: `${MARK}-dept`, manager: true }], restricted: [`${MARK}-dept`] });
    clientsA.Developer = await A.addUser({ email: `${MARK}-dev@a.test`, role: 'Developer', departments: [`${MARK}-dept`] });
    aUser = clientsA.Developer.userId;
    aDept = A.departments.get(`${MARK}-dept`)!;
    await A.client.post('/api/v1/invitations', { email: `${MARK}-invitee@a.test`, role: 'Developer' });
    await A.client.post('/api/v1/tokens', { name: `${MARK}-token`, kind: 'api' });
    await clientsA.Developer.post('/api/v1/tokens', { name: `${MARK}-hook`, kind: 'hook' });
    const now = Date.now();
    const events = [];
    for (let i = 0; i < 60; i++) {
      const base = {
        event_id: `${MARK}-ev-${i}`,
        timestamp: new Date(now - i * 3600_000).toISOString(),
        department_id: aDept,
        user_id: i % 2 ? aUser : clientsA.Manager.userId,
        session_id: `${MARK}-session-${i % 5}`,
        schema_version: 1,
      };
      events.push({ ...base, event_type: 'agent_invocation', agent_name: `${MARK}-agent`, invocation_id: `${MARK}-inv-${i}`, model_used: `${MARK}-model`, status: i % 7 ? 'success' : 'failure', error_type: `${MARK}-error`, execution_time_ms: 100 + i, input_tokens: 10, output_tokens: 20, tools_used: [`${MARK}-tool`] });
      events.push({ ...base, event_id: `${MARK}-tc-${i}`, event_type: 'tool_call', agent_name: `${MARK}-agent`, tool_name: `${MARK}-tool`, status: 'success', duration_ms: 5 });
      events.push({ ...base, event_id: `${MARK}-cmd-${i}`, event_type: 'command', command_name: `${MARK}-command` });
    }
    await A.insertEvents(events);

    // every write route without path parameters, once, as A's Admin: plugins' own data gets marked too
    for (const r of routes) {
      if (!['POST', 'PUT', 'PATCH'].includes(r.method) || r.url.includes(':') || !r.url.startsWith('/api/v1/')) continue;
      if (/^\/api\/v1\/(auth|events|orgs|invitations\/(accept|lookup))|^\/api\/v1\/me\/(password|totp)/.test(r.url)) continue;
      await call(A.client, r.method, r.url, bodyFor(r.schema?.body, MARK, aFill()));
    }
    // jobs (rollups, scores) so that plugins' derived tables hold org A rows too
    for (const p of (b.kernel.services.plugins as any).active ?? []) for (const j of p.jobs ?? []) await b.runJob(p.decl.id, j.name).catch(() => undefined);

    // collect org A's ids and names from its own answers
    aIds.add(A.id);
    for (const r of routes) {
      if (r.method !== 'GET' || r.url.includes(':') || !r.url.startsWith('/api/v1/')) continue;
      const res = await call(A.client, 'GET', r.url);
      if (res.status !== 200) continue;
      for (const id of res.text.match(UUID_RE) ?? []) aIds.add(id.toLowerCase());
    }
    for (const id of [aUser, aDept, clientsA.Manager.userId]) aIds.add(id);
    for (const n of [`${MARK}-agent`, `${MARK}-dept`, `${MARK}-tool`, `${MARK}-model`, `${MARK}-command`, A.slug, A.adminEmail]) aNames.add(n);

    // ---- org B, one client per role ----
    B = await b.createOrg('beta-org');
    clientsB.Admin = B.client;
    clientsB.Manager = await B.addUser({ email: 'mgr@beta.test', role: 'Manager', departments: [{ name: 'Beta Team', manager: true }] });
    clientsB.Developer = await B.addUser({ email: 'dev@beta.test', role: 'Developer', departments: ['Beta Team'] });
    // org B's own ids are not org A's: drop any that collided (none should)
    for (const id of [B.id]) aIds.delete(id);
  }, 300_000);
  afterAll(() => b?.close());

  async function call(client: TestClient | null, method: string, url: string, body?: unknown) {
    const res = await b.kernel.app.inject({
      method: method as any,
      url,
      headers: { ...(client ? { authorization: `Bearer ${client.token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.statusCode, text: res.body };
  }

  /** What org A holds right now, everywhere a tenant's data lives. */
  async function snapshotA() {
    const knex = b.kernel.services.knex;
    const out: Record<string, unknown> = {};
    const tables = await knex('information_schema.tables').where({ table_schema: A.schema }).select('table_name').orderBy('table_name');
    for (const t of tables) out[`${A.schema}.${t.table_name}`] = await knex.withSchema(A.schema).table(t.table_name).select('*').orderByRaw('1');
    for (const t of ['memberships', 'api_tokens', 'invitations', 'plugin_settings', 'orgs', 'user_identities']) {
      const q = knex.withSchema('public').table(t);
      out[`public.${t}`] = await (t === 'orgs' ? q.where({ id: A.id }) : t === 'user_identities' ? q : q.where({ org_id: A.id })).select('*').orderByRaw('1, 2');
    }
    out['public.users'] = await knex.withSchema('public').table('users').whereIn('id', knex.withSchema('public').table('memberships').where({ org_id: A.id }).select('user_id')).select('*').orderBy('id');
    const a = b.kernel.services.analytics;
    const rs = await a.client.query({ query: `SELECT count() AS n, sum(cityHash64(event_id)) AS h FROM ${a.database}.events WHERE org_id = {o:String}`, query_params: { o: A.id }, format: 'JSONEachRow' });
    out['clickhouse.events'] = await rs.json();
    return JSON.parse(JSON.stringify(out));
  }

  const aFill = () => ({ uuid: aUser, dept: aDept, name: `${MARK}-agent`, slug: A.slug, email: A.adminEmail, org: A.id });

  /** Requests for one route, with org A's ids and names in every place the route takes one. */
  function requestsFor(r: Route): Array<{ url: string; body?: unknown }> {
    const params = [...r.url.matchAll(/:(\w+)/g)].map((m) => m[1]!);
    const candidates = [...aIds, ...aNames];
    const guess = (p: string) => (/user/i.test(p) ? aUser : /^(id|departmentId)$/i.test(p) ? aDept : /slug|org/i.test(p) ? A.slug : /name|agent/i.test(p) ? `${MARK}-agent` : aDept);
    const urls: string[] = [];
    if (!params.length) urls.push(r.url);
    else
      for (let i = 0; i < params.length; i++)
        for (const c of candidates) urls.push(params.reduce((u, p, j) => u.replace(`:${p}`, encodeURIComponent(j === i ? c : guess(p))), r.url));
    const query = queryFor(r.schema?.querystring);
    const out: Array<{ url: string; body?: unknown }> = [];
    const withBody = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method);
    // a Server-Sent Events route streams until its `max_seconds`: only the query form (which
    // sets every integer to its minimum, so one second) is asked, or the sweep would wait 15 minutes
    const isStream = /event-stream/.test(JSON.stringify(r.schema?.response?.[200] ?? ''));
    for (const u of [...new Set(urls)]) {
      // free text B writes is B's own ("beta-written"); ids, slugs and emails in it are org A's
      if (!isStream || !query) out.push({ url: u, ...(withBody ? { body: bodyFor(r.schema?.body, 'beta-written', aFill()) } : {}) });
      if (query) out.push({ url: `${u}?${query}` });
    }
    return out;
  }

  function queryFor(schema: any): string | null {
    if (!schema?.properties) return null;
    const q = new URLSearchParams();
    for (const [k, s] of Object.entries<any>(schema.properties)) {
      if (/department/i.test(k)) q.set(k, aDept);
      else if (/user/i.test(k)) q.set(k, aUser);
      else if (/^org/i.test(k)) q.set(k, A.slug);
      else if (/^from$/.test(k)) q.set(k, '2000-01-01T00:00:00.000Z');
      else if (/^to$/.test(k)) q.set(k, '2100-01-01T00:00:00.000Z');
      else if (s.enum) q.set(k, String(s.enum[0]));
      else if (s.type === 'boolean') q.set(k, 'true');
      else if (s.type === 'integer' || s.type === 'number') q.set(k, String(s.minimum ?? 1));
      else if (s.format === 'uuid') q.set(k, aUser);
      else if (s.type === 'string' && !s.pattern) q.set(k, /name|agent/.test(k) ? `${MARK}-agent` : MARK);
    }
    return q.toString() || null;
  }

  it('walks every kernel and plugin route', () => {
    const prefixes = new Set(routes.filter((r) => r.url.startsWith('/api/v1/')).map((r) => r.url.split('/')[3]));
    for (const p of ['departments', 'members', 'invitations', 'users', 'roles', 'sessions', 'audit', 'org', 'orgs', 'tokens', 'plugins', 'dashboards']) expect(prefixes).toContain(p);
    const undeclared = routes.filter((r) => !r.permission);
    expect(undeclared.map((r) => `${r.method} ${r.url}`)).toEqual([]);
  });

  it('refuses every non-public route without a token', async () => {
    for (const r of routes.filter((x) => x.permission !== 'public')) {
      const res = await call(null, r.method, r.url.replace(/:(\w+)/g, aDept), ['POST', 'PUT', 'PATCH'].includes(r.method) ? {} : undefined);
      expect(res.status, `${r.method} ${r.url}`).toBe(401);
    }
  });

  for (const role of ['Admin', 'Manager', 'Developer'] as const) {
    it(`gives org B's ${role} none of org A's data on any route, and changes nothing in org A`, async () => {
      const before = await snapshotA();
      const markers = [MARK, ...aIds, ...aNames];
      const leaks: string[] = [];
      const serverErrors: string[] = [];
      let calls = 0;
      for (const r of routes) {
        if (r.method === 'DELETE' && (r.url === '/api/v1/org' || r.url === '/api/v1/orgs/:slug') && role === 'Admin') {
          // B's Admin deleting B would end the sweep; with A's slug it must be refused
          const res = await call(clientsB.Admin!, r.method, r.url === '/api/v1/org' ? r.url : `/api/v1/orgs/${A.slug}`, r.url === '/api/v1/org' ? { confirm_slug: A.slug } : undefined);
          expect(res.status, `${r.method} ${r.url}`).toBeGreaterThanOrEqual(400);
          continue;
        }
        const check = async (req: { url: string; body?: unknown }) => {
          const res = await call(clientsB[role]!, r.method, req.url, req.body);
          calls++;
          const sent = `${safeDecode(req.url)} ${JSON.stringify(req.body ?? '')}`.toLowerCase();
          const text = res.text.toLowerCase();
          for (const m of markers) {
            const lm = m.toLowerCase();
            if (!sent.includes(lm) && text.includes(lm)) leaks.push(`${r.method} ${req.url} → ${res.status} contains "${m}"`);
          }
          if (res.status >= 500) serverErrors.push(`${r.method} ${req.url} → ${res.status}`);
        };
        const reqs = requestsFor(r);
        // reads of one route side by side (a stream route holds each answer open for a second);
        // writes one after another, as a client that waits for each answer would send them
        if (r.method === 'GET') for (let i = 0; i < reqs.length; i += 16) await Promise.all(reqs.slice(i, i + 16).map(check));
        else for (const req of reqs) await check(req);
      }
      expect(calls).toBeGreaterThan(200);
      expect(leaks).toEqual([]);
      // another org's ids are bad input here: a clear 4xx, never a crash
      expect([...new Set(serverErrors)]).toEqual([]);
      expect(await snapshotA()).toEqual(before);
      // org B still works after the sweep: the sweep did not lock it out
      expect((await clientsB[role]!.get('/api/v1/me')).status).toBe(200);
    }, 600_000);
  }

  it("answers 403 to org A's Managers and Developers on every Admin route, and to Developers on member management", async () => {
    const perms = b.kernel.services.permissions.list() as Array<{ name: string; roles: string[] }>;
    const rolesOf = (p: string | undefined) => (p === 'operator' ? [] : p === 'authenticated' || p === 'public' ? ['Admin', 'Manager', 'Developer'] : (perms.find((x) => x.name === p)?.roles ?? []));
    let checked = 0;
    for (const role of ['Manager', 'Developer'] as const) {
      for (const r of routes) {
        if (r.permission === 'public' || rolesOf(r.permission).includes(role)) continue;
        const url = r.url.replace(/:(\w+)/g, (_m, p: string) => (/user/i.test(p) ? aUser : /slug/.test(p) ? A.slug : aDept));
        const res = await call(clientsA[role]!, r.method, url, ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method) ? bodyFor(r.schema?.body, MARK, aFill()) : undefined);
        expect(res.status, `${role} ${r.method} ${r.url}`).toBe(403);
        checked++;
      }
    }
    const adminOnly = routes.filter((r) => r.permission === 'admin').length;
    expect(adminOnly).toBeGreaterThan(10);
    expect(checked).toBeGreaterThanOrEqual(adminOnly * 2);
  });

  it("gives an Admin adding another org's member by email the answer an unknown email gets, and adds the person only once they accept", async () => {
    const someoneElse = `${MARK}-dev@a.test`; // org A's Developer: an identity with a password and a display name
    const nobody = 'brand-new-person@b.test';
    const known = await call(clientsB.Admin!, 'POST', '/api/v1/users', { email: someoneElse, role: 'Developer' });
    const unknown = await call(clientsB.Admin!, 'POST', '/api/v1/users', { email: nobody, role: 'Developer' });
    expect(known.status).toBe(201);
    expect(unknown.status).toBe(201);
    const k = JSON.parse(known.text);
    const u = JSON.parse(unknown.text);
    // the same fields, derived the same way; nothing of the existing identity (its id, the name org A gave it)
    expect(Object.keys(k).sort()).toEqual(Object.keys(u).sort());
    const shape = (m: any) => ({ ...m, user_id: typeof m.user_id, email: undefined, display_name: undefined, created_at: typeof m.created_at });
    expect(shape(k)).toEqual(shape(u));
    expect(k.display_name).toBe(someoneElse.split('@')[0]);
    expect(u.display_name).toBe(nobody.split('@')[0]);
    expect(known.text).not.toContain(aUser);

    // not a member of B yet: cannot sign in to B, not listed
    const signIn = (password?: string) =>
      b.kernel.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: someoneElse, password: password ?? 'Test-password-0rrery!', org: B.slug } });
    expect((await signIn()).statusCode).toBe(401);
    const members = JSON.parse((await call(clientsB.Admin!, 'GET', '/api/v1/members?q=alpha')).text);
    expect(members.members.map((m: any) => m.email)).not.toContain(someoneElse);

    // the invitation's link alone is not consent: the person proves the identity is theirs
    const list = JSON.parse((await call(clientsB.Admin!, 'GET', '/api/v1/invitations')).text);
    const inv = list.invitations.find((i: any) => i.email === someoneElse);
    const link = JSON.parse((await call(clientsB.Admin!, 'POST', `/api/v1/invitations/${inv.id}/resend`, {})).text).accept_url as string;
    const token = new URLSearchParams(link.split('#')[1]).get('token')!;
    const accept = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
      b.kernel.app.inject({ method: 'POST', url: '/api/v1/invitations/accept', payload: { token, ...body }, headers });
    const noProof = await accept({});
    expect(noProof.statusCode).toBe(401);
    expect(noProof.json().error.code).toBe('identity_confirmation_required');
    expect((await accept({ password: 'Not-the-passw0rd!' })).statusCode).toBe(401);
    // someone else's session is not consent either
    expect((await accept({}, { authorization: `Bearer ${clientsB.Developer!.token}` })).statusCode).toBe(401);
    expect((await signIn()).statusCode).toBe(401);

    // accepting while signed in as that identity is
    const own = await accept({}, { authorization: `Bearer ${clientsA.Developer!.token}` });
    expect(own.statusCode, own.body).toBe(200);
    expect((await signIn()).statusCode).toBe(200);
    const after = JSON.parse((await call(clientsB.Admin!, 'GET', '/api/v1/members?q=alpha')).text);
    expect(after.members.map((m: any) => m.email)).toContain(someoneElse);
  });

  it("keeps a Manager out of other departments and away from Managers and Admins", async () => {
    const other = await A.client.post('/api/v1/departments', { name: 'Other dept' });
    const dev = clientsA.Developer!;
    const mgr = clientsA.Manager!;
    const adminId = (await A.client.get('/api/v1/me')).body.user.id;
    expect((await mgr.put(`/api/v1/departments/${other.body.id}/members/${dev.userId}`, {})).status).toBe(403);
    expect((await mgr.put(`/api/v1/departments/${aDept}/members/${adminId}`, {})).status).toBe(403);
    expect((await mgr.delete(`/api/v1/members/${adminId}`)).status).toBe(403);
    expect((await mgr.delete(`/api/v1/members/${mgr.userId}`)).status).toBe(409);
    expect((await mgr.post('/api/v1/invitations', { email: 'x@a.test', role: 'Manager', departments: [{ id: aDept }] })).status).toBe(403);
    expect((await mgr.post('/api/v1/invitations', { email: 'x@a.test', role: 'Developer', departments: [{ id: other.body.id }] })).status).toBe(403);
    expect((await mgr.post('/api/v1/invitations', { email: 'x@a.test', role: 'Developer', departments: [{ id: aDept }] })).status).toBe(201);
  });
});

const safeDecode = (u: string) => {
  try {
    return decodeURIComponent(u.replace(/\+/g, ' '));
  } catch {
    return u;
  }
};

/** A body that satisfies the schema where it can, with org A's values in every id, name and email. */
function bodyFor(schema: any, mark: string, fill: { uuid: string; dept: string; name: string; slug: string; email: string; org: string }, key = ''): any {
  if (!schema) return {};
  if (schema.enum) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const o: Record<string, unknown> = {};
      for (const [k, s] of Object.entries<any>(schema.properties ?? {})) o[k] = bodyFor(s, mark, fill, k);
      return o;
    }
    case 'array':
      return [bodyFor(schema.items ?? {}, mark, fill, key)];
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return false;
    case 'string': {
      if (schema.format === 'uuid' || schema.pattern?.includes('[0-9a-fA-F]{8}')) return /dep/i.test(key) || key === 'id' ? fill.dept : fill.uuid;
      if (schema.format === 'email' || /email/i.test(key)) return fill.email;
      if (schema.format === 'date-time') return new Date(Date.now() + 86400_000).toISOString();
      if (/slug/i.test(key)) return fill.slug;
      if (/org/i.test(key)) return fill.org;
      if (/department/i.test(key)) return fill.dept;
      if (/user/i.test(key)) return fill.uuid;
      if (schema.pattern) return `${mark}-${key}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
      return `${mark}-${key || 'value'}`.slice(0, schema.maxLength ?? 200);
    }
    default:
      return `${mark}-${key}`;
  }
}
