import type { FastifyInstance } from 'fastify';
import { HttpError } from '@orrery/plugin-sdk';
import type { Internals } from '../internals.ts';
import type { IdentityCommonDeps } from './common.ts';
import { sha256 } from '../auth/tokens.ts';
import { hashPassword, passwordProblem, verifyPassword } from '../auth/passwords.ts';
import { checkTotp, newTotpSecret, totpFor } from '../auth/totp.ts';
import { ctx, errors, iso, mustFindMember, uuid, who } from './common.ts';

/** The kernel services this module uses (a part of the container, not all of it). */
export type SessionsDeps = Pick<Internals, 'audit' | 'config' | 'invalidateAuth' | 'knex' | 'kv' | 'tokens'> & IdentityCommonDeps;

const session = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    method: { type: ['string', 'null'], description: 'password, password+totp, oidc:<provider>, invitation' },
    ip: { type: ['string', 'null'] },
    user_agent: { type: ['string', 'null'] },
    started_at: { type: ['string', 'null'] },
    last_active_at: { type: ['string', 'null'], description: 'when its refresh token was last rotated' },
    expires_at: { type: ['string', 'null'] },
    current: { type: 'boolean' },
  },
} as const;

/**
 * Sessions are refresh-token families: one per login, alive while its newest
 * refresh token is neither used, revoked nor expired.
 */
async function listSessions(s: SessionsDeps, orgId: string, userId: string, current: string | null) {
  const rows = await s.knex
    .withSchema('public')
    .table('refresh_tokens')
    .where({ org_id: orgId, user_id: userId })
    .whereNull('revoked_at')
    .orderBy('created_at', 'asc')
    .select('family_id', 'ip', 'user_agent', 'method', 'created_at', 'used_at', 'expires_at');
  const fams = new Map<string, any>();
  for (const r of rows as any[]) {
    const f = fams.get(r.family_id) ?? { id: r.family_id, started_at: iso(r.created_at), method: r.method ?? null, live: false };
    f.ip = r.ip ?? null;
    f.user_agent = r.user_agent ?? null;
    f.last_active_at = iso(r.created_at);
    f.expires_at = iso(r.expires_at);
    if (!r.used_at && new Date(r.expires_at).getTime() > Date.now()) f.live = true;
    fams.set(r.family_id, f);
  }
  return [...fams.values()].filter((f) => f.live).map(({ live: _live, ...f }) => ({ ...f, current: f.id === current }));
}

export function sessionRoutes(app: FastifyInstance, s: SessionsDeps) {
  app.get(
    '/api/v1/sessions',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags: ['sessions'],
        summary: "The caller's active sessions in this org",
        description: who('authenticated'),
        response: { 200: { type: 'object', properties: { sessions: { type: 'array', items: session } } }, ...errors },
      },
    },
    async (req) => {
      const { org, caller } = ctx(req);
      return { sessions: await listSessions(s, org.id, caller.userId, req.sessionId) };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/sessions/:id',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags: ['sessions'],
        summary: 'End one of your sessions (its access token stops working at once)',
        description: who('authenticated'),
        params: { type: 'object', required: ['id'], properties: { id: uuid } },
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (req, reply) => {
      const { org, caller } = ctx(req);
      const row = await s.knex.withSchema('public').table('refresh_tokens').where({ family_id: req.params.id, org_id: org.id, user_id: caller.userId }).first('family_id');
      if (!row) throw new HttpError(404, 'not_found', `no session ${req.params.id}`);
      await s.tokens.revokeSession(row.family_id);
      s.invalidateAuth(org.id, caller.userId); // other nodes drop their cached "not revoked"
      await s.audit(org, caller, { action: 'session.revoke', target: row.family_id, ip: req.ip });
      reply.status(204);
    },
  );

  app.get<{ Params: { userId: string } }>(
    '/api/v1/members/:userId/sessions',
    {
      config: { permission: 'admin' },
      schema: {
        tags: ['sessions', 'members'],
        summary: "A member's active sessions",
        description: who('admin'),
        params: { type: 'object', required: ['userId'], properties: { userId: uuid } },
        response: { 200: { type: 'object', properties: { sessions: { type: 'array', items: session } } }, ...errors },
      },
    },
    async (req) => {
      const { org } = ctx(req);
      const m = await mustFindMember(s, org, req.params.userId);
      return { sessions: await listSessions(s, org.id, m.user_id, req.sessionId) };
    },
  );

  app.delete<{ Params: { userId: string } }>(
    '/api/v1/members/:userId/sessions',
    {
      config: { permission: 'admin' },
      schema: {
        tags: ['sessions', 'members'],
        summary: "End every session of a member (API tokens are kept; revoke those or deactivate the member to stop them)",
        description: who('admin'),
        params: { type: 'object', required: ['userId'], properties: { userId: uuid } },
        response: { 200: { type: 'object', properties: { revoked: { type: 'integer' } } }, ...errors },
      },
    },
    async (req) => {
      const { org, caller } = ctx(req);
      const m = await mustFindMember(s, org, req.params.userId);
      const fams = await s.knex.withSchema('public').table('refresh_tokens').where({ org_id: org.id, user_id: m.user_id }).whereNull('revoked_at').distinct('family_id');
      for (const f of fams) await s.tokens.revokeSession(f.family_id);
      s.invalidateAuth(org.id, m.user_id);
      await s.audit(org, caller, { action: 'session.revoke_all', target: m.user_id, after: { sessions: fams.length }, ip: req.ip });
      return { revoked: fams.length };
    },
  );

  app.post<{ Body: { refresh_token: string } }>(
    '/api/v1/auth/logout',
    {
      config: { permission: 'public', rateClass: 'auth' },
      schema: {
        tags: ['auth'],
        summary: 'Log out: ends the session the refresh token belongs to',
        description: who('public', 'Answers 204 whether or not the token was known, so it reveals nothing.'),
        security: [],
        body: { type: 'object', required: ['refresh_token'], additionalProperties: false, properties: { refresh_token: { type: 'string', maxLength: 200 } } },
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (req, reply) => {
      const row = await s.knex.withSchema('public').table('refresh_tokens').where({ token_hash: sha256(req.body.refresh_token) }).first('family_id', 'org_id', 'user_id');
      if (row) {
        await s.tokens.revokeSession(row.family_id);
        s.invalidateAuth(row.org_id, row.user_id);
      }
      reply.status(204);
    },
  );

  // ---- the caller's own credentials: password and second factor ----

  app.put<{ Body: { current_password: string; new_password: string } }>(
    '/api/v1/me/password',
    {
      config: { permission: 'authenticated', tokenKinds: ['access_token'] },
      schema: {
        tags: ['auth'],
        summary: 'Change your password (your other sessions end)',
        description: who('authenticated'),
        body: {
          type: 'object',
          required: ['current_password', 'new_password'],
          additionalProperties: false,
          properties: { current_password: { type: 'string', maxLength: 1024 }, new_password: { type: 'string', maxLength: 1024 } },
        },
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (req, reply) => {
      const { org, caller } = ctx(req);
      const user = await s.knex.withSchema('public').table('users').where({ id: caller.userId }).first('password_hash');
      if (!(await verifyPassword(req.body.current_password, user?.password_hash ?? null))) throw new HttpError(403, 'invalid_credentials', 'the current password is wrong');
      const problem = passwordProblem(req.body.new_password);
      if (problem) throw new HttpError(400, 'weak_password', problem, { field: 'new_password' });
      await s.knex.withSchema('public').table('users').where({ id: caller.userId }).update({ password_hash: await hashPassword(req.body.new_password) });
      // a changed password is usually a suspected leak: end every other session, in every org
      const fams = await s.knex.withSchema('public').table('refresh_tokens').where({ user_id: caller.userId }).whereNull('revoked_at').distinct('family_id');
      for (const f of fams) if (f.family_id !== req.sessionId) await s.tokens.revokeSession(f.family_id);
      s.invalidateAuth();
      await s.audit(org, caller, { action: 'password.change', target: caller.userId, ip: req.ip });
      reply.status(204);
    },
  );

  app.post(
    '/api/v1/me/totp',
    {
      config: { permission: 'authenticated', tokenKinds: ['access_token'] },
      schema: {
        tags: ['auth'],
        summary: 'Start enrolling a TOTP second factor: answers the secret and otpauth:// URL once',
        description: who('authenticated', 'Enrolment completes with POST /api/v1/me/totp/verify; until then login does not ask for a code.'),
        body: { type: 'object', additionalProperties: false, properties: {} },
        response: { 200: { type: 'object', properties: { secret: { type: 'string' }, otpauth_url: { type: 'string' } } }, ...errors },
      },
    },
    async (req) => {
      const { caller } = ctx(req);
      const user = await s.knex.withSchema('public').table('users').where({ id: caller.userId }).first('totp_enabled_at');
      if (user?.totp_enabled_at) throw new HttpError(409, 'conflict', 'a second factor is already enabled; disable it first');
      const secret = newTotpSecret();
      await s.knex.withSchema('public').table('users').where({ id: caller.userId }).update({ totp_secret: secret });
      return { secret, otpauth_url: totpFor(secret, caller.email, s.config.auth.totpIssuer).toString() };
    },
  );

  app.post<{ Body: { code: string } }>(
    '/api/v1/me/totp/verify',
    {
      config: { permission: 'authenticated', tokenKinds: ['access_token'] },
      schema: {
        tags: ['auth'],
        summary: 'Finish enrolling: a correct code turns the second factor on',
        description: who('authenticated'),
        body: { type: 'object', required: ['code'], additionalProperties: false, properties: { code: { type: 'string', pattern: '^[0-9]{6}$' } } },
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (req, reply) => {
      const { org, caller } = ctx(req);
      const user = await s.knex.withSchema('public').table('users').where({ id: caller.userId }).first('totp_secret', 'totp_enabled_at');
      if (!user?.totp_secret) throw new HttpError(409, 'conflict', 'start enrolment with POST /api/v1/me/totp first');
      if (!(await checkTotp(s.kv, caller.userId, user.totp_secret, req.body.code))) throw new HttpError(400, 'invalid_totp', 'the code is wrong; check the clock of the device');
      await s.knex.withSchema('public').table('users').where({ id: caller.userId }).update({ totp_enabled_at: new Date() });
      await s.audit(org, caller, { action: 'totp.enable', target: caller.userId, ip: req.ip });
      reply.status(204);
    },
  );

  app.delete<{ Body: { code: string } }>(
    '/api/v1/me/totp',
    {
      config: { permission: 'authenticated', tokenKinds: ['access_token'] },
      schema: {
        tags: ['auth'],
        summary: 'Turn the second factor off (needs a current code)',
        description: who('authenticated'),
        body: { type: 'object', required: ['code'], additionalProperties: false, properties: { code: { type: 'string', pattern: '^[0-9]{6}$' } } },
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (req, reply) => {
      const { org, caller } = ctx(req);
      const user = await s.knex.withSchema('public').table('users').where({ id: caller.userId }).first('totp_secret', 'totp_enabled_at');
      if (!user?.totp_enabled_at) throw new HttpError(409, 'conflict', 'no second factor is enabled');
      if (!(await checkTotp(s.kv, caller.userId, user.totp_secret, req.body.code))) throw new HttpError(400, 'invalid_totp', 'the code is wrong');
      await s.knex.withSchema('public').table('users').where({ id: caller.userId }).update({ totp_enabled_at: null, totp_secret: null });
      await s.audit(org, caller, { action: 'totp.disable', target: caller.userId, ip: req.ip });
      reply.status(204);
    },
  );
}
