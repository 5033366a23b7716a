import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { HttpError, type Org } from '@orrery/plugin-sdk';
import type { Internals } from '../internals.ts';
import type { IdentityCommonDeps } from './common.ts';
import type { IssueTokenDeps } from '../auth/session.ts';
import { randomSecret, sha256 } from '../auth/tokens.ts';
import { issueTokenPair } from '../auth/session.ts';
import { errors, who, announceMember, MEMBER_ADDED_TOPIC } from './common.ts';

/** The kernel services this module uses (a part of the container, not all of it). */
export type OidcDeps = Pick<Internals, 'audit' | 'config' | 'invalidateAuth' | 'knex' | 'kv' | 'orgService'> & IdentityCommonDeps & IssueTokenDeps;

type ProviderConfig = Internals['config']['auth']['providers'][number];

const DEFAULT_NAMES: Record<ProviderConfig['type'], string> = { oidc: 'Single sign-on', google: 'Google', microsoft: 'Microsoft 365', github: 'GitHub' };

interface LoginState {
  provider: string;
  verifier: string;
  nonce: string;
  org: string | null;
  redirect: string | null;
}

interface Identity {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

/** http issuers are accepted on loopback only (a test IdP, a local Keycloak); anywhere else TLS is required. */
const loopback = (u: URL) => u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);

function issuerOf(p: ProviderConfig): string {
  if (p.type === 'google') return p.issuer || 'https://accounts.google.com';
  if (p.type === 'microsoft') {
    if (p.issuer) return p.issuer;
    if (!p.tenant || p.tenant === 'common' || p.tenant === 'organizations') {
      throw new HttpError(500, 'provider_misconfigured', `provider ${p.id}: set tenant to your Microsoft 365 tenant id (multi-tenant endpoints have no fixed issuer to verify)`);
    }
    return `https://login.microsoftonline.com/${p.tenant}/v2.0`;
  }
  if (p.type === 'oidc') {
    if (!p.issuer) throw new HttpError(500, 'provider_misconfigured', `provider ${p.id}: issuer is required for type oidc`);
    return p.issuer;
  }
  return 'https://github.com';
}

/**
 * Single sign-on with OpenID Connect (Google, Microsoft 365, any issuer) and
 * GitHub's OAuth 2. Flow: /start redirects to the provider with PKCE, state
 * and nonce kept server-side for 10 minutes → the provider answers on
 * /callback (form_post for OIDC, so the code never sits in a URL or a log) →
 * we redirect the browser to the portal with a one-time code in the URL
 * fragment → the portal trades it at /auth/sso/exchange for our token pair.
 */
export async function oidcRoutes(app: FastifyInstance, s: OidcDeps) {
  const providers = new Map(s.config.auth.providers.map((p) => [p.id, p]));
  const configs = new Map<string, Promise<oidc.Configuration>>();

  function configFor(p: ProviderConfig): Promise<oidc.Configuration> {
    let c = configs.get(p.id);
    if (!c) {
      c = (async () => {
        if (p.type === 'github') {
          return new oidc.Configuration(
            { issuer: 'https://github.com', authorization_endpoint: 'https://github.com/login/oauth/authorize', token_endpoint: 'https://github.com/login/oauth/access_token' },
            p.clientId,
            p.clientSecret,
          );
        }
        const issuer = new URL(issuerOf(p));
        return oidc.discovery(issuer, p.clientId, p.clientSecret || undefined, undefined, loopback(issuer) ? { execute: [oidc.allowInsecureRequests] } : undefined);
      })();
      // a failed discovery is retried on the next login instead of being cached
      c.catch(() => configs.delete(p.id));
      configs.set(p.id, c);
    }
    return c;
  }

  const baseUrl = (req: FastifyRequest) => (s.config.server.publicUrl || `${req.protocol}://${req.host}`).replace(/\/$/, '');
  const callbackUrl = (req: FastifyRequest, p: ProviderConfig) => `${baseUrl(req)}/api/v1/auth/oidc/${p.id}/callback`;
  const mustProvider = (id: string) => {
    const p = providers.get(id);
    if (!p) throw new HttpError(404, 'not_found', `no sign-in provider ${id}`);
    return p;
  };

  app.get(
    '/api/v1/auth/providers',
    {
      config: { permission: 'public', rateClass: 'none' },
      schema: {
        tags: ['auth'],
        summary: 'Sign-in methods for the login page: local accounts and each configured single sign-on provider',
        description: who('public'),
        security: [],
        response: {
          200: {
            type: 'object',
            properties: {
              password: { type: 'boolean' },
              providers: {
                type: 'array',
                items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, type: { type: 'string' }, login_url: { type: 'string' } } },
              },
            },
          },
        },
      },
    },
    async () => ({
      password: true,
      providers: [...providers.values()].map((p) => ({ id: p.id, name: p.name || DEFAULT_NAMES[p.type], type: p.type, login_url: `/api/v1/auth/oidc/${p.id}/start` })),
    }),
  );

  app.get<{ Params: { provider: string }; Querystring: { org?: string; redirect?: string } }>(
    '/api/v1/auth/oidc/:provider/start',
    {
      config: { permission: 'public', rateClass: 'auth' },
      schema: {
        tags: ['auth'],
        summary: 'Begin single sign-on: redirects to the provider',
        description: who('public', '`redirect` is a path of the portal to return to (same origin only); `org` picks the org for a user in several.'),
        security: [],
        params: { type: 'object', required: ['provider'], properties: { provider: { type: 'string', maxLength: 40 } } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { org: { type: 'string', maxLength: 63 }, redirect: { type: 'string', maxLength: 500, pattern: '^/(?![/\\\\])' } },
        },
        response: { 302: { type: 'null' }, ...errors },
      },
    },
    async (req, reply) => {
      const p = mustProvider(req.params.provider);
      let config: oidc.Configuration;
      try {
        config = await configFor(p);
      } catch (err) {
        if (err instanceof HttpError) throw err;
        throw new HttpError(502, 'provider_unavailable', `could not reach the ${p.id} sign-in provider`);
      }
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const st: LoginState = { provider: p.id, verifier, nonce, org: req.query.org ?? null, redirect: req.query.redirect ?? null };
      await s.kv.set(`sso-state:${sha256(state)}`, JSON.stringify(st), 600);
      const params: Record<string, string> = {
        redirect_uri: callbackUrl(req, p),
        scope: p.type === 'github' ? 'read:user user:email' : p.scopes.join(' '),
        state,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      };
      if (p.type !== 'github') {
        params.nonce = nonce;
        params.response_mode = 'form_post';
      }
      return reply.redirect(oidc.buildAuthorizationUrl(config, params).href, 302);
    },
  );

  async function identityOf(p: ProviderConfig, config: oidc.Configuration, tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>): Promise<Identity> {
    if (p.type === 'github') {
      const gh = (path: string) =>
        fetch(`https://api.github.com${path}`, { headers: { authorization: `Bearer ${tokens.access_token}`, accept: 'application/vnd.github+json', 'user-agent': 'orrery' } }).then((r) => {
          if (!r.ok) throw new HttpError(502, 'provider_unavailable', `GitHub answered ${r.status}`);
          return r.json() as Promise<any>;
        });
      const user = await gh('/user');
      const emails = (await gh('/user/emails')) as Array<{ email: string; primary: boolean; verified: boolean }>;
      const primary = emails.find((e) => e.primary && e.verified) ?? emails.find((e) => e.verified);
      return { subject: String(user.id), email: primary?.email ?? null, emailVerified: !!primary, name: user.name ?? user.login ?? null };
    }
    const claims = tokens.claims();
    if (!claims) throw new HttpError(502, 'provider_error', 'the provider returned no ID token');
    let email = (claims.email as string | undefined) ?? null;
    let verified = claims.email_verified === true;
    let name = (claims.name as string | undefined) ?? null;
    if (!email && config.serverMetadata().userinfo_endpoint) {
      const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      email = (info.email as string | undefined) ?? null;
      verified = info.email_verified === true;
      name ??= (info.name as string | undefined) ?? null;
    }
    // a single-tenant Microsoft 365 directory is the org's own: its addresses are the org's to vouch for
    if (p.type === 'microsoft' && !verified && p.tenant) {
      email ??= (claims.preferred_username as string | undefined) ?? null;
      verified = !!email;
    }
    return { subject: claims.sub, email: email?.toLowerCase() ?? null, emailVerified: verified, name };
  }

  /** Finds (or, when the provider allows, creates) the user and the org they sign in to. */
  async function resolve(p: ProviderConfig, id: Identity, wantedOrg: string | null): Promise<{ userId: string; org: Org }> {
    const deny = (code: string, msg: string) => new HttpError(403, code, msg);
    let user = await s.knex
      .withSchema('public')
      .table('user_identities')
      .join('users', 'users.id', 'user_identities.user_id')
      .where({ 'user_identities.provider': p.id, 'user_identities.subject': id.subject })
      .first('users.id', 'users.email');
    if (!user && id.email && id.emailVerified) user = await s.knex.withSchema('public').table('users').where({ email: id.email }).first('id', 'email');
    const domainOk = !!id.email && id.emailVerified && (!p.allowedDomains.length || p.allowedDomains.includes(id.email.split('@')[1]!));
    const joinOrg = p.autoJoinOrg ? await s.orgService.bySlug(p.autoJoinOrg) : null;
    if (!user) {
      if (!joinOrg || !domainOk) throw deny('not_a_member', 'no account on this platform matches this sign-in; ask an Admin for an invitation');
      user = { id: randomUUID(), email: id.email! };
      await s.knex.withSchema('public').table('users').insert({ id: user.id, email: user.email, display_name: id.name ?? user.email.split('@')[0] });
    }
    await s.knex
      .withSchema('public')
      .table('user_identities')
      .insert({ provider: p.id, subject: id.subject, user_id: user.id, email: id.email, last_login_at: new Date() })
      .onConflict(['provider', 'subject'])
      .merge({ last_login_at: new Date(), email: id.email });
    const memberships = await s.knex
      .withSchema('public')
      .table('memberships')
      .join('orgs', 'orgs.id', 'memberships.org_id')
      .where({ 'memberships.user_id': user.id })
      .orderBy('memberships.created_at')
      .select('orgs.id', 'orgs.slug', 'memberships.active');
    const target = wantedOrg ?? joinOrg?.slug ?? memberships.find((m: any) => m.active)?.slug ?? null;
    const row = memberships.find((m: any) => m.slug === target);
    if (row && !row.active) throw deny('deactivated', 'your account in this organization is deactivated');
    if (!row) {
      // joining happens only into the provider's own org, never into one the browser asked for
      if (!joinOrg || target !== joinOrg.slug || !domainOk) throw deny('not_a_member', `you are not a member of ${target ?? 'any organization'}`);
      await s.knex.withSchema('public').table('memberships').insert({ org_id: joinOrg.id, user_id: user.id, role: p.autoJoinRole, active: true });
      await s.audit(joinOrg, null, { action: 'member.join_sso', target: user.id, after: { email: user.email, role: p.autoJoinRole, provider: p.id } });
      await announceMember(s, joinOrg, MEMBER_ADDED_TOPIC, { user_id: user.id, role: p.autoJoinRole, via: 'sso' });
      s.invalidateAuth(joinOrg.id, user.id);
      return { userId: user.id, org: joinOrg };
    }
    return { userId: user.id, org: (await s.orgService.byId(row.id))! };
  }

  async function callback(req: FastifyRequest<{ Params: { provider: string } }>, reply: FastifyReply) {
    const p = mustProvider(req.params.provider);
    const params = req.method === 'POST' ? new URLSearchParams(req.body as Record<string, string>) : new URL(req.url, 'http://x').searchParams;
    const stateKey = `sso-state:${sha256(params.get('state') ?? '')}`;
    const raw = await s.kv.get(stateKey);
    if (!raw) throw new HttpError(400, 'sso_state', 'this sign-in attempt is unknown or expired; start again');
    await s.kv.del(stateKey);
    const st = JSON.parse(raw) as LoginState;
    const fail = (err: HttpError) => {
      if (!st.redirect) throw err;
      return reply.redirect(`${st.redirect}#error=${encodeURIComponent(err.code)}`, 303);
    };
    if (st.provider !== p.id) return fail(new HttpError(400, 'sso_state', 'the sign-in answer came back to the wrong provider'));
    if (params.get('error')) return fail(new HttpError(401, 'sso_denied', `the provider refused the sign-in (${params.get('error')})`));
    let resolved: { userId: string; org: Org };
    try {
      const config = await configFor(p);
      const current =
        req.method === 'POST'
          ? new Request(callbackUrl(req, p), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: params.toString() })
          : new URL(`${callbackUrl(req, p)}?${params.toString()}`);
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: st.verifier,
        expectedState: params.get('state') ?? undefined,
        ...(p.type === 'github' ? {} : { expectedNonce: st.nonce, idTokenExpected: true }),
      });
      const id = await identityOf(p, config, tokens);
      resolved = await resolve(p, id, st.org);
    } catch (err) {
      if (err instanceof HttpError) return fail(err);
      req.log.warn({ err: { message: (err as Error).message, code: (err as any).code }, provider: p.id }, 'single sign-on failed');
      return fail(new HttpError(401, 'sso_failed', `sign-in with ${p.id} failed`));
    }
    const code = randomSecret(24);
    await s.kv.set(`sso-code:${sha256(code)}`, JSON.stringify({ userId: resolved.userId, orgId: resolved.org.id, provider: p.id }), 60);
    return reply.redirect(`${st.redirect ?? '/login'}#sso_code=${code}`, 303);
  }

  // form_post callbacks arrive url-encoded: the parser lives in this context only
  await app.register(async (child) => {
    child.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    const schema = {
      tags: ['auth'],
      summary: "The provider's answer: redirects to the portal with a one-time code",
      description: who('public', 'OIDC providers post here (response_mode=form_post); GitHub redirects here with a query string.'),
      security: [],
      params: { type: 'object', required: ['provider'], properties: { provider: { type: 'string', maxLength: 40 } } },
      response: { 303: { type: 'null' }, ...errors },
    };
    child.post('/api/v1/auth/oidc/:provider/callback', { config: { permission: 'public', rateClass: 'auth' }, schema }, callback as any);
    child.get('/api/v1/auth/oidc/:provider/callback', { config: { permission: 'public', rateClass: 'auth' }, schema }, callback as any);
  });

  app.post<{ Body: { code: string } }>(
    '/api/v1/auth/sso/exchange',
    {
      config: { permission: 'public', rateClass: 'auth' },
      schema: {
        tags: ['auth'],
        summary: 'Trade the one-time code of a single sign-on for a token pair (usable once, for 60 s)',
        description: who('public'),
        security: [],
        body: { type: 'object', required: ['code'], additionalProperties: false, properties: { code: { type: 'string', minLength: 10, maxLength: 100 } } },
        response: {
          200: { type: 'object', properties: { access_token: { type: 'string' }, refresh_token: { type: 'string' }, token_type: { type: 'string' }, expires_in: { type: 'integer' } } },
          ...errors,
        },
      },
    },
    async (req) => {
      const key = `sso-code:${sha256(req.body.code)}`;
      const raw = await s.kv.get(key);
      // setIfAbsent makes the code single-use even when two nodes race for it
      if (!raw || !(await s.kv.setIfAbsent(`${key}:used`, '1', 120))) throw new HttpError(401, 'sso_code_invalid', 'this sign-in code is unknown, used or expired');
      await s.kv.del(key);
      const { userId, orgId, provider } = JSON.parse(raw);
      return issueTokenPair(s, userId, orgId, { ip: req.ip, userAgent: req.headers['user-agent'] ?? null, method: `oidc:${provider}` });
    },
  );
}
