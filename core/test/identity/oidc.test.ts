import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
// @ts-expect-error oidc-provider ships no type declarations
import Provider from 'oidc-provider';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';

/**
 * Single sign-on end to end against a real OpenID provider (oidc-provider)
 * on loopback. The test plays the browser: it follows the redirects, signs in
 * on the provider's pages, and posts the provider's form_post page back to
 * Orrery exactly as a browser would.
 */
const ACCOUNTS: Record<string, { email: string; email_verified: boolean; name: string }> = {
  alice: { email: 'alice@example.org', email_verified: true, name: 'Alice Example' },
  admin: { email: 'admin@test-org.local', email_verified: true, name: 'The Admin' },
  mallory: { email: 'mallory@elsewhere.net', email_verified: true, name: 'Mallory' },
  unverified: { email: 'unverified@example.org', email_verified: false, name: 'Not Verified' },
  bob: { email: 'bob@example.org', email_verified: true, name: 'Bob' },
};
const CLIENT_SECRET = 'a-client-secret-that-must-never-be-logged-0123456789';
const PUBLIC_URL = 'http://orrery.test';

describe('single sign-on with OpenID Connect', () => {
  let idp: Server;
  let issuer: string;
  let b: TestBackend;

  beforeAll(async () => {
    idp = createServer();
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
    issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: 'orrery',
          client_secret: CLIENT_SECRET,
          redirect_uris: [`${PUBLIC_URL}/api/v1/auth/oidc/test-idp/callback`],
          response_types: ['code'],
          grant_types: ['authorization_code'],
        },
      ],
      async findAccount(_ctx: unknown, id: string) {
        const a = ACCOUNTS[id];
        return a ? { accountId: id, claims: async () => ({ sub: id, ...a }) } : undefined;
      },
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      features: { devInteractions: { enabled: true } },
      pkce: { required: () => true },
    } as any);
    provider.proxy = false;
    idp.on('request', provider.callback());

    b = await startTestBackend({
      config: {
        server: { publicUrl: PUBLIC_URL, logLevel: 'trace' },
        auth: {
          providers: [
            { id: 'test-idp', type: 'oidc', name: 'Test IdP', issuer, clientId: 'orrery', clientSecret: CLIENT_SECRET, autoJoinOrg: 'test-org', allowedDomains: ['example.org'] },
            { id: 'gh', type: 'github', clientId: 'gh-client', clientSecret: 'gh-secret' },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await b?.close();
    await new Promise<void>((r) => idp?.close(() => r()));
  });

  /** A minimal browser: a cookie jar for the provider, manual redirects. */
  async function signIn(account: string, start = '/api/v1/auth/oidc/test-idp/start?redirect=/dashboards') {
    const jar = new Map<string, string>();
    const go = async (url: string, init: RequestInit = {}) => {
      const res = await fetch(url, {
        ...init,
        redirect: 'manual',
        headers: { ...(init.headers as Record<string, string>), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
      });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const [k, ...v] = pair!.split('=');
        jar.set(k!.trim(), v.join('='));
      }
      return res;
    };
    const startRes = await b.kernel.app.inject({ method: 'GET', url: start });
    expect(startRes.statusCode).toBe(302);
    const url = new URL(startRes.headers.location as string);
    expect(url.origin).toBe(issuer);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('response_mode')).toBe('form_post');

    let res = await go(url.href);
    for (let step = 0; step < 10; step++) {
      if (res.status >= 300 && res.status < 400) {
        res = await go(new URL(res.headers.get('location')!, issuer).href);
        continue;
      }
      const html = await res.text();
      if (html.includes('Submitting Callback')) {
        // the provider's form_post page: post its hidden inputs to Orrery
        const action = /<form method="post" action="([^"]+)"/.exec(html)![1]!.replace(/&#x2F;|&#47;/g, '/').replace(/&amp;/g, '&');
        const inputs = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map((m) => [m[1]!, m[2]!]));
        expect(action.startsWith(`${PUBLIC_URL}/api/v1/auth/oidc/test-idp/callback`)).toBe(true);
        expect(inputs.code).toBeTruthy();
        return b.kernel.app.inject({
          method: 'POST',
          url: action.slice(PUBLIC_URL.length),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams(inputs).toString(),
        });
      }
      const form = /<form[^>]*action="([^"]+)"[^>]*method="post"|<form[^>]*method="post"[^>]*action="([^"]+)"/i.exec(html);
      if (!form) throw new Error(`unexpected provider page (${res.status}): ${html.slice(0, 300)}`);
      const action = new URL(form[1] ?? form[2]!, issuer).href;
      const body: Record<string, string> = html.includes('name="login"') ? { prompt: 'login', login: account, password: 'any' } : { prompt: 'consent' };
      res = await go(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() });
    }
    throw new Error('the provider never answered with a callback');
  }

  const exchange = async (location: string) => {
    const code = /#sso_code=([^&]+)/.exec(location)?.[1];
    expect(code, `no sso_code in ${location}`).toBeTruthy();
    return b.kernel.app.inject({ method: 'POST', url: '/api/v1/auth/sso/exchange', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ code }) });
  };

  it('lists the configured providers for the login page', async () => {
    const r = await b.kernel.app.inject({ method: 'GET', url: '/api/v1/auth/providers' });
    expect(JSON.parse(r.body)).toEqual({
      password: true,
      providers: [
        { id: 'test-idp', name: 'Test IdP', type: 'oidc', login_url: '/api/v1/auth/oidc/test-idp/start' },
        { id: 'gh', name: 'GitHub', type: 'github', login_url: '/api/v1/auth/oidc/gh/start' },
      ],
    });
    const gh = await b.kernel.app.inject({ method: 'GET', url: '/api/v1/auth/oidc/gh/start' });
    expect(gh.statusCode).toBe(302);
    expect(gh.headers.location).toMatch(/^https:\/\/github\.com\/login\/oauth\/authorize\?/);
  });

  it('signs a new user in through the provider, joins them to the org, and issues our token pair with org and department claims', async () => {
    const cb = await signIn('alice');
    expect(cb.statusCode).toBe(303);
    expect(cb.headers.location).toMatch(/^\/dashboards#sso_code=/);
    const pair = await exchange(cb.headers.location as string);
    expect(pair.statusCode).toBe(200);
    const tokens = JSON.parse(pair.body);
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ org: b.org.id, role: 'Developer', depts: [] });
    expect(claims.sid).toBeTruthy();
    const me = await b.kernel.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(JSON.parse(me.body)).toMatchObject({ role: 'Developer', user: { email: 'alice@example.org', display_name: 'Alice Example' } });
    // the code is single-use
    expect((await exchange(cb.headers.location as string)).statusCode).toBe(401);
    const sessions = JSON.parse((await b.kernel.app.inject({ method: 'GET', url: '/api/v1/sessions', headers: { authorization: `Bearer ${tokens.access_token}` } })).body);
    expect(sessions.sessions[0].method).toBe('oidc:test-idp');
    const audit = await b.org.client.get('/api/v1/audit', { action: 'member.join_sso' });
    expect(audit.body.entries[0].after).toMatchObject({ email: 'alice@example.org', provider: 'test-idp' });
  });

  it('matches an existing member by verified email and keeps their role and department claims', async () => {
    const dept = await b.org.client.post('/api/v1/departments', { name: 'SSO Team' });
    const adminId = (await b.org.client.get('/api/v1/me')).body.user.id;
    await b.org.client.put(`/api/v1/departments/${dept.body.id}/members/${adminId}`, { manager: true });
    const cb = await signIn('admin');
    const tokens = JSON.parse((await exchange(cb.headers.location as string)).body);
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ role: 'Admin', depts: [dept.body.id] });
  });

  it('refuses an email outside the allowed domains, an unverified email and a deactivated member', async () => {
    const outside = await signIn('mallory');
    expect(outside.statusCode).toBe(303);
    expect(outside.headers.location).toBe('/dashboards#error=not_a_member');
    const unverified = await signIn('unverified');
    expect(unverified.headers.location).toBe('/dashboards#error=not_a_member');

    const bob = JSON.parse((await exchange((await signIn('bob')).headers.location as string)).body);
    const bobId = JSON.parse(Buffer.from(bob.access_token.split('.')[1], 'base64url').toString()).sub;
    expect((await b.org.client.post(`/api/v1/members/${bobId}/deactivate`, {})).status).toBe(200);
    expect((await signIn('bob')).headers.location).toBe('/dashboards#error=deactivated');
  });

  it('refuses a callback whose state it did not issue, and answers JSON when no portal page is waiting', async () => {
    const forged = await b.kernel.app.inject({
      method: 'POST',
      url: '/api/v1/auth/oidc/test-idp/callback',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'code=abc&state=not-ours',
    });
    expect(forged.statusCode).toBe(400);
    expect(JSON.parse(forged.body).error.code).toBe('sso_state');
    const open = await b.kernel.app.inject({ method: 'GET', url: '/api/v1/auth/oidc/test-idp/start?redirect=//evil.example/' });
    expect(open.statusCode).toBe(400);
  });

  it('keeps the client secret, codes and tokens out of the logs', () => {
    const text = b.logs.join('');
    expect(text).not.toContain(CLIENT_SECRET);
    expect(text).not.toMatch(/sso_code=[A-Za-z0-9_-]{10}/);
    expect(text).not.toMatch(/[?&]code=[A-Za-z0-9_-]{10}/);
  });
});
