import type { FastifyInstance } from 'fastify';
import { HttpError } from '@orrery/plugin-sdk';
import type { KernelModule } from '../types.ts';
import type { Internals } from '../internals.ts';
import type { IssueTokenDeps } from './session.ts';
import { verifyPassword } from './passwords.ts';
import { checkTotp } from './totp.ts';
import { errorSchema } from '../http/schemas.ts';

/** The kernel services this module uses (a part of the container, not all of it). */
export type AuthDeps = Pick<Internals, 'audit' | 'callers' | 'config' | 'invalidateAuth' | 'kv' | 'tokens' | 'knex'> & IssueTokenDeps;

const tokenPair = {
  type: 'object',
  properties: {
    access_token: { type: 'string' },
    refresh_token: { type: 'string' },
    token_type: { type: 'string' },
    expires_in: { type: 'integer', description: 'seconds until the access token expires' },
  },
};

export const authModule: KernelModule<AuthDeps> = {
  name: 'auth',
  register(app: FastifyInstance, s: AuthDeps) {
    const { tokens, knex } = s;

    async function pairFor(userId: string, orgId: string, sessionId?: string) {
      const org = await s.callers.org(orgId);
      const caller = org && (await s.callers.caller(org, userId, 'access_token'));
      if (!org || !caller) throw new HttpError(401, 'unauthorized', 'user is deactivated or not a member');
      const access = await tokens.issueAccess({ sub: userId, org: orgId, role: caller.role, depts: caller.departments.map((d) => d.id), sid: sessionId });
      return { access, caller, org };
    }

    app.post<{ Body: { email: string; password: string; org?: string; totp?: string } }>(
      '/api/v1/auth/login',
      {
        config: { permission: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Log in with a local account',
          body: {
            type: 'object',
            required: ['email', 'password'],
            additionalProperties: false,
            properties: {
              email: { type: 'string', maxLength: 320 },
              password: { type: 'string', maxLength: 1024 },
              org: { type: 'string', maxLength: 63 },
              totp: { type: 'string', pattern: '^[0-9]{6}$', description: 'the current code of the authenticator app, for accounts with a second factor' },
            },
          },
          response: { 200: tokenPair, 401: errorSchema },
        },
      },
      async (req) => {
        const bad = () => new HttpError(401, 'invalid_credentials', 'email or password is wrong');
        const email = req.body.email.trim().toLowerCase();
        const user = await knex.withSchema('public').table('users').where({ email }).first();
        // verify even when the user is unknown so timing does not reveal which emails exist
        const ok = await verifyPassword(req.body.password, user?.password_hash ?? 'scrypt$32768$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
        if (!user || !ok) throw bad();
        const q = knex
          .withSchema('public')
          .table('memberships')
          .join('orgs', 'orgs.id', 'memberships.org_id')
          .where({ 'memberships.user_id': user.id, 'memberships.active': true })
          .select('orgs.id', 'orgs.slug')
          .orderBy('memberships.created_at');
        const memberships = await q;
        const chosen = req.body.org ? memberships.find((m: any) => m.slug === req.body.org) : memberships[0];
        if (!chosen) throw bad();
        let method = 'password';
        if (user.totp_enabled_at) {
          // the password was right: now the second factor is what decides
          if (!req.body.totp) throw new HttpError(401, 'totp_required', 'this account has a second factor: send the current code as "totp"');
          if (!(await checkTotp(s.kv, user.id, user.totp_secret, req.body.totp))) throw new HttpError(401, 'invalid_totp', 'the second-factor code is wrong or was already used');
          method = 'password+totp';
        }
        const { refresh, sessionId } = await tokens.startSession(user.id, chosen.id, { ip: req.ip, userAgent: req.headers['user-agent'] ?? null, method });
        const { access } = await pairFor(user.id, chosen.id, sessionId);
        return { access_token: access, refresh_token: refresh, token_type: 'Bearer', expires_in: s.config.auth.accessTokenTtlSeconds };
      },
    );

    app.post<{ Body: { refresh_token: string } }>(
      '/api/v1/auth/refresh',
      {
        config: { permission: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Trade a refresh token for a new pair (the old refresh token stops working)',
          body: { type: 'object', required: ['refresh_token'], additionalProperties: false, properties: { refresh_token: { type: 'string', maxLength: 200 } } },
          response: { 200: tokenPair, 401: errorSchema },
        },
      },
      async (req) => {
        const r = await tokens.rotateRefresh(req.body.refresh_token, { ip: req.ip, userAgent: req.headers['user-agent'] ?? null });
        if ('error' in r) {
          const msg = r.error === 'reused' ? 'refresh token was already used; its session has been revoked' : `refresh token is ${r.error}`;
          throw new HttpError(401, `refresh_${r.error}`, msg);
        }
        const { access } = await pairFor(r.userId, r.orgId, r.sessionId);
        return { access_token: access, refresh_token: r.refresh, token_type: 'Bearer', expires_in: s.config.auth.accessTokenTtlSeconds };
      },
    );

    app.get(
      '/api/v1/me',
      {
        config: { permission: 'authenticated' },
        schema: {
          tags: ['auth'],
          summary: 'The caller: user, org, role, departments and the other orgs they belong to',
          response: {
            200: {
              type: 'object',
              properties: {
                user: { type: 'object', properties: { id: { type: 'string' }, email: { type: 'string' }, display_name: { type: 'string' }, operator: { type: 'boolean' } } },
                org: { type: 'object', properties: { id: { type: 'string' }, slug: { type: 'string' }, name: { type: 'string' } } },
                role: { type: 'string' },
                departments: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, manager: { type: 'boolean' } } } },
                orgs: { type: 'array', items: { type: 'object', properties: { slug: { type: 'string' }, name: { type: 'string' } } } },
              },
            },
          },
        },
      },
      async (req) => {
        const { org, caller } = req.auth!;
        const orgs = await knex
          .withSchema('public')
          .table('memberships')
          .join('orgs', 'orgs.id', 'memberships.org_id')
          .where({ 'memberships.user_id': caller.userId, 'memberships.active': true })
          .select('orgs.slug', 'orgs.name');
        return {
          user: { id: caller.userId, email: caller.email, display_name: caller.displayName, operator: caller.operator },
          org: { id: org.id, slug: org.slug, name: org.name },
          role: caller.role,
          departments: caller.departments,
          orgs,
        };
      },
    );

    const tokenView = {
      type: 'object',
      properties: {
        id: { type: 'string' },
        name: { type: 'string' },
        kind: { type: 'string' },
        prefix: { type: 'string', description: 'first characters of the secret, to recognise it' },
        created_at: { type: 'string' },
        expires_at: { type: ['string', 'null'] },
        last_used_at: { type: ['string', 'null'] },
      },
    };

    app.post<{ Body: { name: string; kind: 'hook' | 'api'; expires_at?: string } }>(
      '/api/v1/tokens',
      {
        config: { permission: 'authenticated', tokenKinds: ['access_token'] },
        schema: {
          tags: ['tokens'],
          summary: 'Create an API or hook token; the secret is shown only in this answer',
          body: {
            type: 'object',
            required: ['name', 'kind'],
            additionalProperties: false,
            properties: {
              name: { type: 'string', minLength: 1, maxLength: 120 },
              kind: { type: 'string', enum: ['hook', 'api'] },
              expires_at: { type: 'string', format: 'date-time' },
            },
          },
          response: { 201: { type: 'object', properties: { id: { type: 'string' }, token: { type: 'string' } } }, 400: errorSchema },
        },
      },
      async (req, reply) => {
        const { org, caller } = req.auth!;
        const expiresAt = req.body.expires_at ? new Date(req.body.expires_at) : null;
        if (expiresAt && expiresAt.getTime() <= Date.now()) throw new HttpError(400, 'bad_request', 'expires_at must be in the future');
        const created = await tokens.createApiToken({ orgId: org.id, userId: caller.userId, name: req.body.name, kind: req.body.kind, expiresAt });
        await s.audit(org, caller, { action: 'token.create', target: created.id, after: { name: req.body.name, kind: req.body.kind, expires_at: expiresAt }, ip: req.ip });
        reply.status(201);
        return created;
      },
    );

    app.get(
      '/api/v1/tokens',
      {
        config: { permission: 'authenticated' },
        schema: { tags: ['tokens'], summary: "The caller's tokens (never the secret)", response: { 200: { type: 'object', properties: { tokens: { type: 'array', items: tokenView } } } } },
      },
      async (req) => {
        const { org, caller } = req.auth!;
        const rows = await knex
          .withSchema('public')
          .table('api_tokens')
          .where({ org_id: org.id, user_id: caller.userId })
          .whereNull('revoked_at')
          .orderBy('created_at', 'desc')
          .select('id', 'name', 'kind', 'prefix', 'created_at', 'expires_at', 'last_used_at');
        return { tokens: rows.map((r: any) => ({ ...r, created_at: iso(r.created_at), expires_at: iso(r.expires_at), last_used_at: iso(r.last_used_at) })) };
      },
    );

    app.delete<{ Params: { id: string } }>(
      '/api/v1/tokens/:id',
      {
        config: { permission: 'authenticated' },
        schema: {
          tags: ['tokens'],
          summary: 'Revoke one of your tokens',
          params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } }, required: ['id'] },
          response: { 204: { type: 'null' }, 404: errorSchema },
        },
      },
      async (req, reply) => {
        const { org, caller } = req.auth!;
        const n = await knex
          .withSchema('public')
          .table('api_tokens')
          .where({ id: req.params.id, org_id: org.id, user_id: caller.userId })
          .whereNull('revoked_at')
          .update({ revoked_at: new Date() });
        if (!n) throw new HttpError(404, 'not_found', `no token ${req.params.id}`);
        s.invalidateAuth(org.id);
        await s.audit(org, caller, { action: 'token.revoke', target: req.params.id, ip: req.ip });
        reply.status(204);
      },
    );
  },
};

const iso = (d: unknown) => (d ? new Date(d as string).toISOString() : null);
