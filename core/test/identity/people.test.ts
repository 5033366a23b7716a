import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { TOTP, Secret } from 'otpauth';
import { startTestBackend, TEST_PASSWORD, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import { purgeAuditLogs } from '../../src/identity/index.ts';
import { startMailbox, inviteToken } from './helpers.ts';

/** Every secret the tests see, checked against the captured logs at the end. */
const secrets = new Set<string>([TEST_PASSWORD]);
const keep = <T extends string>(s: T) => (secrets.add(s), s);

describe('people, roles and access', () => {
  let b: TestBackend;
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;
  let org: TestOrg;
  let anon: (method: string, url: string, body?: unknown, token?: string) => Promise<{ status: number; body: any; headers: any }>;

  beforeAll(async () => {
    mailbox = await startMailbox();
    b = await startTestBackend({ config: { smtp: { url: mailbox.url, from: 'Orrery <orrery@test.local>' }, server: { logLevel: 'trace' } } });
    org = b.org;
    keep(org.client.token);
    anon = async (method, url, body, token) => {
      const r = await b.kernel.app.inject({
        method,
        url,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
        payload: body === undefined ? undefined : JSON.stringify(body),
      });
      let parsed: any = r.body;
      try {
        parsed = JSON.parse(r.body);
      } catch {
        // text (CSV)
      }
      return { status: r.statusCode, body: parsed, headers: r.headers };
    };
  });
  afterAll(async () => {
    await b?.close();
    await mailbox?.close();
  });

  const login = async (email: string, password = TEST_PASSWORD, extra: Record<string, unknown> = {}) => {
    const r = await anon('POST', '/api/v1/auth/login', { email, password, ...extra });
    if (r.status === 200) {
      keep(r.body.access_token);
      keep(r.body.refresh_token);
    }
    return r;
  };

  it('creates departments, lists them and hides the people of a restricted one from Developers', async () => {
    const a = org.client;
    const plat = await a.post('/api/v1/departments', { name: 'Platform' });
    expect(plat.status).toBe(201);
    const data = await a.post('/api/v1/departments', { name: 'Data', restricted: true });
    expect(data.body.restricted).toBe(true);
    expect((await a.post('/api/v1/departments', { name: 'Platform' })).status).toBe(409);
    org.departments.set('Platform', plat.body.id);
    org.departments.set('Data', data.body.id);

    const dev = await org.addUser({ email: 'dev1@test-org.local', role: 'Developer', departments: ['Platform'] });
    const list = await dev.get('/api/v1/departments');
    expect(list.body.departments.map((d: any) => d.name)).toEqual(['Data', 'Platform']);
    expect((await dev.get(`/api/v1/departments/${data.body.id}`)).body.members).toBeNull();
    expect((await dev.get(`/api/v1/departments/${plat.body.id}`)).body.members.map((m: any) => m.email)).toEqual(['dev1@test-org.local']);
    expect((await dev.post('/api/v1/departments', { name: 'Nope' })).status).toBe(403);

    const patched = await a.patch(`/api/v1/departments/${plat.body.id}`, { restricted: true });
    expect(patched.body.restricted).toBe(true);
    expect((await a.get('/api/v1/org/settings')).body.restricted_departments.map((d: any) => d.name)).toEqual(['Data', 'Platform']);
    await a.patch(`/api/v1/departments/${plat.body.id}`, { restricted: false });
  });

  it('lets a Manager add and remove Developers only in departments they manage', async () => {
    const plat = org.departments.get('Platform')!;
    const dataDept = org.departments.get('Data')!;
    const mgr = await org.addUser({ email: 'mgr@test-org.local', role: 'Manager', departments: [{ name: 'Platform', manager: true }] });
    const dev = await org.addUser({ email: 'dev2@test-org.local', role: 'Developer' });
    const otherMgr = await org.addUser({ email: 'mgr2@test-org.local', role: 'Manager' });

    expect((await mgr.put(`/api/v1/departments/${plat}/members/${dev.userId}`, {})).status).toBe(200);
    const notMine = await mgr.put(`/api/v1/departments/${dataDept}/members/${dev.userId}`, {});
    expect(notMine.status).toBe(403);
    expect(notMine.body.error.details.rule).toBe('manager_own_departments');
    const aManager = await mgr.put(`/api/v1/departments/${plat}/members/${otherMgr.userId}`, {});
    expect(aManager.status).toBe(403);
    expect(aManager.body.error.details.rule).toBe('manager_developers_only');
    const admin = (await org.client.get('/api/v1/me')).body.user.id;
    expect((await mgr.delete(`/api/v1/departments/${plat}/members/${admin}`)).status).toBe(404);
    expect((await mgr.put(`/api/v1/departments/${plat}/members/${admin}`, {})).status).toBe(403);
    expect((await mgr.put(`/api/v1/departments/${plat}/members/${dev.userId}`, { manager: true })).status).toBe(403);
    expect((await mgr.put(`/api/v1/members/${dev.userId}/role`, { role: 'Manager' })).status).toBe(403);

    // create through the API (programmatic import)
    const made = await mgr.post('/api/v1/users', { email: 'imported@test-org.local', role: 'Developer', password: 'Imported-passw0rd!', departments: [{ id: plat }] });
    expect(made.status).toBe(201);
    expect(made.body.departments.map((d: any) => d.name)).toEqual(['Platform']);
    expect((await mgr.post('/api/v1/users', { email: 'boss@test-org.local', role: 'Manager', departments: [{ id: plat }] })).status).toBe(403);
    expect((await mgr.post('/api/v1/users', { email: 'x@test-org.local', role: 'Developer', departments: [{ id: dataDept }] })).status).toBe(403);
    expect((await login('imported@test-org.local', 'Imported-passw0rd!')).status).toBe(200);
    keep('Imported-passw0rd!');

    expect((await mgr.delete(`/api/v1/departments/${plat}/members/${dev.userId}`)).status).toBe(204);
    expect((await mgr.delete(`/api/v1/members/${made.body.user_id}`)).status).toBe(204);
    expect((await dev.get('/api/v1/members')).status).toBe(403);
    const members = (await org.client.get('/api/v1/members')).body.members.map((m: any) => m.email);
    expect(members).toContain('dev2@test-org.local');
    expect(members).not.toContain('imported@test-org.local');
  });

  it('invites by real email; the link expires, can be resent and is accepted once', async () => {
    const plat = org.departments.get('Platform')!;
    const inv = await org.client.post('/api/v1/invitations', { email: 'New.Person@Example.com', role: 'Developer', departments: [{ id: plat }] });
    expect(inv.status).toBe(201);
    expect(inv.body.email_sent).toBe(true);
    expect(inv.body.accept_url).toBeUndefined();
    const mail = await mailbox.waitFor('new.person@example.com');
    expect(mail.subject).toContain('Test Org');
    const first = keep(inviteToken(mail));

    const look = await anon('POST', '/api/v1/invitations/lookup', { token: first });
    expect(look.body).toMatchObject({ email: 'new.person@example.com', role: 'Developer', has_account: false, org: { slug: 'test-org' } });

    const again = await org.client.post(`/api/v1/invitations/${inv.body.id}/resend`, {});
    expect(again.body.sent_count).toBe(2);
    const second = keep(inviteToken(await mailbox.waitFor('new.person@example.com', 2)));
    expect((await anon('POST', '/api/v1/invitations/lookup', { token: first })).status).toBe(404);

    expect((await anon('POST', '/api/v1/invitations/accept', { token: second, password: 'short' })).body.error.code).toBe('weak_password');
    const accepted = await anon('POST', '/api/v1/invitations/accept', { token: second, password: 'Invited-passw0rd!', display_name: 'New Person' });
    keep('Invited-passw0rd!');
    expect(accepted.status).toBe(200);
    keep(accepted.body.access_token);
    keep(accepted.body.refresh_token);
    const me = await anon('GET', '/api/v1/me', undefined, accepted.body.access_token);
    expect(me.body).toMatchObject({ role: 'Developer', user: { email: 'new.person@example.com' } });
    expect(me.body.departments.map((d: any) => d.name)).toEqual(['Platform']);
    expect((await anon('POST', '/api/v1/invitations/accept', { token: second, password: 'Invited-passw0rd!' })).status).toBe(409);

    // expiry
    const late = await org.client.post('/api/v1/invitations', { email: 'late@example.com', role: 'Developer' });
    const lateToken = keep(inviteToken(await mailbox.waitFor('late@example.com')));
    await b.kernel.services.knex.withSchema('public').table('invitations').where({ id: late.body.id }).update({ expires_at: new Date(Date.now() - 1000) });
    const expired = await anon('POST', '/api/v1/invitations/accept', { token: lateToken, password: 'Invited-passw0rd!' });
    expect(expired.status).toBe(410);
    expect((await org.client.get('/api/v1/invitations', { status: 'expired' })).body.invitations.map((i: any) => i.email)).toEqual(['late@example.com']);
    // resending an expired invitation gives it a new life
    await org.client.post(`/api/v1/invitations/${late.body.id}/resend`, {});
    expect((await anon('POST', '/api/v1/invitations/lookup', { token: keep(inviteToken(await mailbox.waitFor('late@example.com', 2))) })).status).toBe(200);
  });

  it('deactivation ends every session and token at once; reactivation lets the user log in again', async () => {
    const dev = await org.addUser({ email: 'leaver@test-org.local', role: 'Developer' });
    keep(dev.token);
    const pair = await login('leaver@test-org.local');
    const api = await dev.post('/api/v1/tokens', { name: 'ci', kind: 'api' });
    const hook = await dev.post('/api/v1/tokens', { name: 'hook', kind: 'hook' });
    keep(api.body.token);
    keep(hook.body.token);
    expect((await anon('GET', '/api/v1/me', undefined, api.body.token)).status).toBe(200);

    const off = await org.client.post(`/api/v1/members/${dev.userId}/deactivate`, {});
    expect(off.status).toBe(200);
    expect(off.body.revoked.tokens).toBe(2);
    expect((await anon('GET', '/api/v1/me', undefined, pair.body.access_token)).status).toBe(401);
    expect((await anon('GET', '/api/v1/me', undefined, api.body.token)).status).toBe(401);
    expect((await anon('POST', '/api/v1/auth/refresh', { refresh_token: pair.body.refresh_token })).status).toBe(401);
    expect((await login('leaver@test-org.local')).status).toBe(401);

    expect((await org.client.post(`/api/v1/members/${dev.userId}/reactivate`, {})).body.active).toBe(true);
    expect((await login('leaver@test-org.local')).status).toBe(200);
    expect((await anon('GET', '/api/v1/me', undefined, api.body.token)).status).toBe(401);

    // the org keeps an Admin
    const adminId = (await org.client.get('/api/v1/me')).body.user.id;
    expect((await org.client.put(`/api/v1/members/${adminId}/role`, { role: 'Developer' })).body.error.code).toBe('last_admin');
    expect((await org.client.put(`/api/v1/members/${dev.userId}/role`, { role: 'Manager' })).body.role).toBe('Manager');
  });

  it('lists sessions and ends one at once', async () => {
    await org.addUser({ email: 'roamer@test-org.local', role: 'Developer' });
    const laptop = await login('roamer@test-org.local');
    const phone = await login('roamer@test-org.local');
    const sessions = await anon('GET', '/api/v1/sessions', undefined, laptop.body.access_token);
    const live = sessions.body.sessions;
    expect(live.length).toBeGreaterThanOrEqual(2);
    expect(live.filter((x: any) => x.current)).toHaveLength(1);
    const phoneSession = (await anon('GET', '/api/v1/sessions', undefined, phone.body.access_token)).body.sessions.find((x: any) => x.current).id;
    expect((await anon('DELETE', `/api/v1/sessions/${phoneSession}`, undefined, laptop.body.access_token)).status).toBe(204);
    expect((await anon('GET', '/api/v1/me', undefined, phone.body.access_token)).status).toBe(401);
    expect((await anon('POST', '/api/v1/auth/refresh', { refresh_token: phone.body.refresh_token })).status).toBe(401);
    expect((await anon('GET', '/api/v1/me', undefined, laptop.body.access_token)).status).toBe(200);

    expect((await anon('POST', '/api/v1/auth/logout', { refresh_token: laptop.body.refresh_token })).status).toBe(204);
    expect((await anon('GET', '/api/v1/me', undefined, laptop.body.access_token)).status).toBe(401);
  });

  it('adds a TOTP second factor to a local account', async () => {
    await org.addUser({ email: 'careful@test-org.local', role: 'Developer' });
    const s1 = await login('careful@test-org.local');
    const enrol = await anon('POST', '/api/v1/me/totp', {}, s1.body.access_token);
    expect(enrol.body.otpauth_url).toMatch(/^otpauth:\/\/totp\//);
    const secret = keep(enrol.body.secret);
    const totp = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
    expect((await anon('POST', '/api/v1/me/totp/verify', { code: '000000' === totp.generate() ? '111111' : '000000' }, s1.body.access_token)).status).toBe(400);
    // a fresh step's code: the one used to verify cannot be used again. Every code below is
    // one step from `now`; near a step's end the server could check it a step later, which
    // makes `now − 30 s` two steps old (outside the one-step window): start a step afresh
    const intoStep = Date.now() % 30_000;
    if (intoStep > 20_000) await new Promise((r) => setTimeout(r, 30_000 - intoStep + 50));
    const now = Date.now();
    expect((await anon('POST', '/api/v1/me/totp/verify', { code: totp.generate({ timestamp: now - 30_000 }) }, s1.body.access_token)).status).toBe(204);
    const needs = await login('careful@test-org.local');
    expect(needs.status).toBe(401);
    expect(needs.body.error.code).toBe('totp_required');
    const code = totp.generate({ timestamp: now });
    expect((await login('careful@test-org.local', TEST_PASSWORD, { totp: code })).status).toBe(200);
    expect((await login('careful@test-org.local', TEST_PASSWORD, { totp: code })).body.error.code).toBe('invalid_totp');
    expect((await login('careful@test-org.local', 'Wrong-password-123', { totp: totp.generate({ timestamp: now + 30_000 }) })).status).toBe(401);
  });

  it('pages through members with a total, filtering by department in the database', async () => {
    const all = (await org.client.get('/api/v1/members')).body;
    expect(all.members.length).toBeGreaterThanOrEqual(4);
    expect(all.total).toBe(all.members.length);
    const emails = all.members.map((m: any) => m.email);
    const first = (await org.client.get('/api/v1/members', { limit: 2 })).body;
    const second = (await org.client.get('/api/v1/members', { limit: 2, offset: 2 })).body;
    expect(first.total).toBe(all.total);
    expect([...first.members, ...second.members].map((m: any) => m.email)).toEqual(emails.slice(0, 4));
    // a page carries its members' departments, as the whole list does
    expect(first.members).toEqual(all.members.slice(0, 2));
    const plat = org.departments.get('Platform')!;
    const inPlat = all.members.filter((m: any) => m.departments.some((d: any) => d.id === plat));
    expect(inPlat.length).toBeGreaterThan(0);
    const one = (await org.client.get('/api/v1/members', { department_id: plat, limit: 1 })).body;
    expect(one.total).toBe(inPlat.length);
    expect(one.members.map((m: any) => m.email)).toEqual([inPlat[0].email]);
    for (const bad of [{ limit: 0 }, { limit: 1001 }, { offset: -1 }, { limit: 'lots' }]) {
      const res = await org.client.get('/api/v1/members', bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error.details[0].field).toBe(Object.keys(bad)[0]);
    }
  });

  it('keeps an audit log that only Admins read, exports it as CSV and purges records older than 12 months', async () => {
    const dev = await org.addUser({ email: 'auditee@test-org.local', role: 'Developer' });
    expect((await dev.get('/api/v1/audit')).status).toBe(403);
    const mgr = await org.addUser({ email: 'mgr3@test-org.local', role: 'Manager' });
    expect((await mgr.get('/api/v1/audit')).status).toBe(403);
    const log = await org.client.get('/api/v1/audit', { action: 'member.*' });
    expect(log.status).toBe(200);
    const actions = new Set(log.body.entries.map((e: any) => e.action));
    expect([...actions]).toEqual(expect.arrayContaining(['member.deactivate', 'member.reactivate', 'member.create', 'member.remove']));
    const all = (await org.client.get('/api/v1/audit', { limit: 1000 })).body.entries.map((e: any) => e.action);
    expect(all).toEqual(expect.arrayContaining(['role.change', 'token.create', 'invitation.create', 'invitation.accept', 'department.restriction', 'session.revoke', 'totp.enable']));
    const deact = log.body.entries.find((e: any) => e.action === 'member.deactivate');
    expect(deact).toMatchObject({ actor_email: 'admin@test-org.local', before: { active: true } });
    expect(deact.ip).toBeTruthy();

    const csv = await org.client.get('/api/v1/audit/export', { action: 'role.change' });
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe('id,at,actor_id,actor_email,action,target,ip,before,after');
    expect(lines.length).toBe(2);
    expect(lines[1]).toContain('"{""role"":""Developer""}"');

    const knex = b.kernel.services.knex;
    const old = new Date();
    old.setUTCMonth(old.getUTCMonth() - 13);
    await knex.withSchema(org.schema).table('audit_log').insert({ action: 'ancient.thing', actor_email: 'system', at: old });
    const result = await purgeAuditLogs(b.kernel.services);
    expect(result['test-org']).toBe(1);
    expect((await org.client.get('/api/v1/audit', { action: 'ancient.thing' })).body.entries).toEqual([]);
    expect((await org.client.get('/api/v1/audit', { action: 'role.change' })).body.entries.length).toBe(1);
    const run = await knex.withSchema('public').table('job_runs').where({ job: 'kernel.audit.purge' }).first();
    expect(run.last_status).toBe('ok');
  });

  it('changes org settings (known keys only, audited)', async () => {
    const put = await org.client.put('/api/v1/org/settings', { 'display.timezone': 'Europe/Paris' });
    expect(put.body.settings['display.timezone']).toBe('Europe/Paris');
    expect((await org.client.put('/api/v1/org/settings', { 'made.up': 1 })).status).toBe(400);
    expect((await org.client.get('/api/v1/org/settings')).body).toMatchObject({ rate_limit_tier: 'standard', settings: { 'display.timezone': 'Europe/Paris' } });
    expect((await org.client.get('/api/v1/audit', { action: 'settings.change' })).body.entries[0].after).toEqual({ 'display.timezone': 'Europe/Paris' });
  });

  it("answers 429 with Retry-After on an org put on the PRD's strict preset, and leaves other orgs alone", async () => {
    const small = await b.createOrg('small-org');
    keep(small.client.token);
    const dev = await small.addUser({ email: 'dev@small-org.local', role: 'Developer' });
    expect((await org.client.put('/api/v1/orgs/small-org/tier', { tier: 'platinum' })).status).toBe(400);
    expect((await small.client.put('/api/v1/orgs/small-org/tier', { tier: 'standard' })).status).toBe(403);
    expect((await org.client.put('/api/v1/orgs/small-org/tier', { tier: 'strict' })).body.tier).toBe('strict');
    const codes: number[] = [];
    let last: any;
    for (let i = 0; i < 11; i++) {
      last = await dev.get('/api/v1/me');
      codes.push(last.status);
    }
    expect(codes.slice(0, 10).every((c) => c === 200)).toBe(true);
    expect(codes[10]).toBe(429);
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(last.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(last.body.error).toMatchObject({ code: 'rate_limited', details: { class: 'api', limit: 10 } });
    // one bulk export per hour per org
    expect((await small.client.get('/api/v1/audit/export')).status).toBe(200);
    const second = await small.client.get('/api/v1/audit/export');
    expect(second.status).toBe(429);
    expect(Number(second.headers["retry-after"])).toBeGreaterThan(3500);
    // the standard tier is untouched
    for (let i = 0; i < 15; i++) expect((await org.client.get('/api/v1/me')).status).toBe(200);
  });

  it('deletes an org at once: platform audit first, then its events and its schema', async () => {
    const doomed = await b.createOrg('doomed-org');
    keep(doomed.client.token);
    const base = { event_type: 'agent_invocation', schema_version: 1, agent_name: 'doomed-agent', status: 'success' };
    await doomed.insertEvents([1, 2, 3].map((i) => ({ ...base, event_id: `d-${i}`, timestamp: new Date(), user_id: 'u1' })));
    await org.insertEvents([{ ...base, event_id: 'keep-1', timestamp: new Date(), user_id: 'u1' }]);
    const a = b.kernel.services.analytics;
    const count = async (orgId: string) => {
      const r = await a.client.query({ query: `SELECT count() AS n FROM ${a.database}.events WHERE org_id = {o:String}`, query_params: { o: orgId }, format: 'JSONEachRow' });
      return Number(((await r.json()) as any[])[0].n);
    };
    expect(await count(doomed.id)).toBe(3);

    expect((await doomed.client.delete('/api/v1/org')).status).toBe(400);
    const wrong = await b.kernel.app.inject({ method: 'DELETE', url: '/api/v1/org', headers: { authorization: `Bearer ${doomed.client.token}`, 'content-type': 'application/json' }, payload: JSON.stringify({ confirm_slug: 'test-org' }) });
    expect(wrong.statusCode).toBe(400);
    const res = await b.kernel.app.inject({ method: 'DELETE', url: '/api/v1/org', headers: { authorization: `Bearer ${doomed.client.token}`, 'content-type': 'application/json' }, payload: JSON.stringify({ confirm_slug: 'doomed-org' }) });
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body).analytics_tables).toContain('events');

    expect(await count(doomed.id)).toBe(0);
    expect(await count(org.id)).toBe(1);
    const knex = b.kernel.services.knex;
    const schema = await knex.raw('SELECT 1 FROM information_schema.schemata WHERE schema_name = ?', [doomed.schema]);
    expect(schema.rows).toHaveLength(0);
    const audit = await knex.withSchema('public').table('platform_audit').where({ action: 'org.delete', target: 'doomed-org' }).first();
    expect(audit.actor).toBe('admin@doomed-org.local');
    expect(await knex.withSchema('public').table('users').where({ email: 'admin@doomed-org.local' }).first()).toBeUndefined();
    expect((await doomed.client.get('/api/v1/me')).status).toBe(401);
    expect((await org.client.get('/api/v1/me')).status).toBe(200);
  });

  it('writes no password, token or secret into any log line', async () => {
    // a failed login and a bad token are the lines most likely to echo a secret
    await login('admin@test-org.local', 'Wrong-but-secret-pw1!');
    keep('Wrong-but-secret-pw1!');
    await anon('GET', '/api/v1/me', undefined, 'orr_api_not-a-real-token-but-secret');
    keep('orr_api_not-a-real-token-but-secret');
    const text = b.logs.join('');
    expect(text.length).toBeGreaterThan(1000);
    for (const s of secrets) {
      expect(text.includes(s), `a secret (${s.slice(0, 6)}…) appears in the logs`).toBe(false);
    }
  });
});
