import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { HttpError, type Org, type Role } from '@orrery/plugin-sdk';
import type { Internals } from '../internals.ts';
import type { IdentityCommonDeps } from './common.ts';
import type { IssueTokenDeps } from '../auth/session.ts';
import { randomSecret, sha256 } from '../auth/tokens.ts';
import { passwordProblem, hashPassword, verifyPassword } from '../auth/passwords.ts';
import { issueTokenPair } from '../auth/session.ts';
import { ROLES, assertMayManage, ctx, errors, iso, mustFindDepartment, uuid, who, departmentAssignments, announceMember, MEMBER_ADDED_TOPIC } from './common.ts';

/** The kernel services this module uses (a part of the container, not all of it). */
export type InvitationsDeps = Pick<Internals, 'audit' | 'config' | 'invalidateAuth' | 'knex' | 'logger' | 'orgService' | 'tokens'> & IdentityCommonDeps & IssueTokenDeps;

const invitation = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    role: { type: 'string' },
    departments: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, manager: { type: 'boolean' } } } },
    status: { type: 'string', enum: ['pending', 'expired', 'accepted', 'revoked'] },
    sent_count: { type: 'integer' },
    last_sent_at: { type: ['string', 'null'] },
    expires_at: { type: 'string' },
    created_at: { type: ['string', 'null'] },
    email_sent: { type: 'boolean', description: 'false when no SMTP server is configured or it refused the message' },
    accept_url: { type: 'string', description: 'only when the email could not be sent, so an Admin can pass the link on; shown once' },
  },
} as const;

const tokenPair = {
  type: 'object',
  properties: { access_token: { type: 'string' }, refresh_token: { type: 'string' }, token_type: { type: 'string' }, expires_in: { type: 'integer' } },
} as const;

const statusOf = (r: any) => (r.revoked_at ? 'revoked' : r.accepted_at ? 'accepted' : new Date(r.expires_at).getTime() < Date.now() ? 'expired' : 'pending');
const view = (r: any) => ({
  id: r.id,
  email: r.email,
  role: r.role,
  departments: typeof r.departments === 'string' ? JSON.parse(r.departments) : r.departments,
  status: statusOf(r),
  sent_count: r.sent_count,
  last_sent_at: iso(r.last_sent_at),
  expires_at: iso(r.expires_at)!,
  created_at: iso(r.created_at),
});

/**
 * Invitations by email. The link carries a random token (stored hashed) in
 * the URL fragment, which browsers never send to a server, so it cannot end
 * up in an access log; the portal posts it to /invitations/accept.
 */
const senders = new WeakMap<InvitationsDeps, ReturnType<typeof makeSender>>();

/** Writing and mailing invitations: one per kernel, shared by the invitation routes and the direct create of members. */
export function invitationSender(s: InvitationsDeps) {
  let sender = senders.get(s);
  if (!sender) senders.set(s, (sender = makeSender(s)));
  return sender;
}

function makeSender(s: InvitationsDeps) {
  // nodemailer is loaded on the first invitation, not at start
  let transport: Promise<import('nodemailer').Transporter> | null = null;
  const mailer = s.config.smtp.url ? { sendMail: async (m: import('nodemailer').SendMailOptions) => (await (transport ??= import('nodemailer').then((n) => n.default.createTransport(s.config.smtp.url)))).sendMail(m) } : null;
  const ttlMs = () => s.config.auth.invitationTtlHours * 3600_000;
  const table = () => s.knex.withSchema('public').table('invitations');

  function baseUrl(req: { protocol: string; host: string }) {
    return (s.config.server.publicUrl || `${req.protocol}://${req.host}`).replace(/\/$/, '');
  }

  async function send(org: Org, inviterName: string, row: { email: string; role: string; expires_at: Date }, url: string) {
    if (!mailer) return false;
    try {
      await mailer.sendMail({
        from: s.config.smtp.from,
        to: row.email,
        subject: `${inviterName} invited you to ${org.name} on Orrery`,
        text: [
          `${inviterName} invited you to join ${org.name} on Orrery as ${row.role}.`,
          '',
          `Accept the invitation: ${url}`,
          '',
          `The link works until ${row.expires_at.toUTCString()}. If you did not expect it, ignore this email.`,
        ].join('\n'),
      });
      return true;
    } catch (err) {
      s.logger.warn({ err: { message: (err as Error).message }, org: org.slug }, 'invitation email was not sent');
      return false;
    }
  }

  async function issue(req: any, org: Org, inviterName: string, id: string, email: string, role: string) {
    const token = `orr_inv_${randomSecret()}`;
    const expiresAt = new Date(Date.now() + ttlMs());
    await table().where({ id }).update({ token_hash: sha256(token), expires_at: expiresAt, last_sent_at: new Date(), sent_count: s.knex.raw('sent_count + 1') });
    const url = `${baseUrl(req)}/invite#token=${token}`;
    const sent = await send(org, inviterName, { email, role, expires_at: expiresAt }, url);
    return { sent, url };
  }

  /** Creates and sends an invitation; shared by POST /invitations and the direct create of an email that already has an identity. */
  async function invite(req: any, org: Org, caller: { userId: string; displayName: string; email: string }, email: string, role: string, departments: Array<{ id: string; manager: boolean }>) {
    const id = randomUUID();
    // a placeholder hash until issue() writes the real one: the column is unique and not null
    await table().insert({ id, org_id: org.id, email, role, departments: JSON.stringify(departments), token_hash: sha256(id), invited_by: caller.userId, expires_at: new Date(Date.now() + ttlMs()) });
    const { sent, url } = await issue(req, org, caller.displayName || caller.email, id, email, role);
    return { id, sent, url };
  }

  return { table, ttlMs, issue, invite };
}

export function invitationRoutes(app: FastifyInstance, s: InvitationsDeps) {
  const { table, issue, invite } = invitationSender(s);

  async function mustFindInvitation(org: Org, id: string) {
    const row = await table().where({ id, org_id: org.id }).first();
    if (!row) throw new HttpError(404, 'not_found', `no invitation ${id} in this organization`);
    return row;
  }

  app.post<{ Body: { email: string; role: Role; departments?: Array<{ id: string; manager?: boolean }> } }>(
    '/api/v1/invitations',
    {
      config: { permission: 'manage-members' },
      schema: {
        tags: ['invitations'],
        summary: 'Invite someone by email (sent through the configured SMTP server)',
        description: who('manage-members', 'Managers invite Developers into departments they manage. There is no cap per org.'),
        body: {
          type: 'object',
          required: ['email', 'role'],
          additionalProperties: false,
          properties: {
            email: { type: 'string', format: 'email', maxLength: 320 },
            role: { type: 'string', enum: ROLES },
            departments: departmentAssignments,
          },
        },
        response: { 201: invitation, ...errors },
      },
    },
    async (req, reply) => {
      const { org, caller } = ctx(req);
      const departments = (req.body.departments ?? []).map((d) => ({ id: d.id, manager: !!d.manager }));
      assertMayManage(caller, { targetRole: req.body.role, departmentIds: departments.map((d) => d.id), makesManager: departments.some((d) => d.manager) });
      for (const d of departments) await mustFindDepartment(s, org, d.id);
      const email = req.body.email.trim().toLowerCase();
      const user = await s.knex.withSchema('public').table('users').where({ email }).first('id');
      if (user && (await s.knex.withSchema('public').table('memberships').where({ org_id: org.id, user_id: user.id }).first())) {
        throw new HttpError(409, 'conflict', `${email} is already a member of this organization`);
      }
      const { id, sent, url } = await invite(req, org, caller, email, req.body.role, departments);
      await s.audit(org, caller, { action: 'invitation.create', target: id, after: { email, role: req.body.role, departments, email_sent: sent }, ip: req.ip });
      reply.status(201);
      return { ...view(await table().where({ id }).first()), email_sent: sent, ...(sent ? {} : { accept_url: url }) };
    },
  );

  app.get<{ Querystring: { status?: string } }>(
    '/api/v1/invitations',
    {
      config: { permission: 'manage-members' },
      schema: {
        tags: ['invitations'],
        summary: "The org's invitations",
        description: who('manage-members'),
        querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: ['pending', 'expired', 'accepted', 'revoked'] } } },
        response: { 200: { type: 'object', properties: { invitations: { type: 'array', items: invitation } } }, ...errors },
      },
    },
    async (req) => {
      const rows = (await table().where({ org_id: ctx(req).org.id }).orderBy('created_at', 'desc')).map(view);
      return { invitations: req.query.status ? rows.filter((r: any) => r.status === req.query.status) : rows };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/invitations/:id/resend',
    {
      config: { permission: 'manage-members' },
      schema: {
        tags: ['invitations'],
        summary: 'Send the invitation again with a fresh link and expiry (the old link stops working)',
        description: who('manage-members'),
        params: { type: 'object', required: ['id'], properties: { id: uuid } },
        response: { 200: invitation, ...errors },
      },
    },
    async (req) => {
      const { org, caller } = ctx(req);
      const row = await mustFindInvitation(org, req.params.id);
      const departments = typeof row.departments === 'string' ? JSON.parse(row.departments) : row.departments;
      assertMayManage(caller, { targetRole: row.role, departmentIds: departments.map((d: any) => d.id), makesManager: departments.some((d: any) => d.manager) });
      if (row.accepted_at || row.revoked_at) throw new HttpError(409, 'conflict', `the invitation is ${statusOf(row)}`);
      const { sent, url } = await issue(req, org, caller.displayName || caller.email, row.id, row.email, row.role);
      await s.audit(org, caller, { action: 'invitation.resend', target: row.id, after: { email_sent: sent }, ip: req.ip });
      return { ...view(await table().where({ id: row.id }).first()), email_sent: sent, ...(sent ? {} : { accept_url: url }) };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/invitations/:id',
    {
      config: { permission: 'manage-members' },
      schema: {
        tags: ['invitations'],
        summary: 'Revoke a pending invitation',
        description: who('manage-members'),
        params: { type: 'object', required: ['id'], properties: { id: uuid } },
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (req, reply) => {
      const { org, caller } = ctx(req);
      const row = await mustFindInvitation(org, req.params.id);
      const departments = typeof row.departments === 'string' ? JSON.parse(row.departments) : row.departments;
      assertMayManage(caller, { targetRole: row.role, departmentIds: departments.map((d: any) => d.id) });
      if (row.accepted_at) throw new HttpError(409, 'conflict', 'the invitation was already accepted');
      await table().where({ id: row.id }).update({ revoked_at: new Date() });
      await s.audit(org, caller, { action: 'invitation.revoke', target: row.id, before: { email: row.email, role: row.role }, ip: req.ip });
      reply.status(204);
    },
  );

  /** The invitation a token names, or the reason it cannot be used. */
  async function byToken(token: string) {
    const row = await table().where({ token_hash: sha256(token) }).first();
    if (!row || row.revoked_at) throw new HttpError(404, 'invitation_invalid', 'this invitation link is not valid (it may have been resent or revoked)');
    if (row.accepted_at) throw new HttpError(409, 'invitation_accepted', 'this invitation was already accepted');
    if (new Date(row.expires_at).getTime() < Date.now()) throw new HttpError(410, 'invitation_expired', 'this invitation has expired; ask for a new one');
    const org = await s.orgService.byId(row.org_id);
    if (!org) throw new HttpError(404, 'invitation_invalid', 'this invitation link is not valid');
    return { row, org };
  }

  const tokenBody = { token: { type: 'string', minLength: 10, maxLength: 200 } } as const;

  /**
   * Joining another organization with an identity that already exists needs that person's
   * consent, not only the link (which an Admin of the inviting org may have seen): they prove
   * the identity is theirs with its password, or by accepting while signed in as it.
   */
  async function assertIdentityOwner(user: { id: string; password_hash: string | null }, password: string | undefined, authorization: string | undefined) {
    const bearer = authorization?.startsWith('Bearer ') ? authorization.slice(7) : null;
    if (bearer) {
      const claims = await s.tokens.verifyAccess(bearer);
      if (claims?.sub === user.id) return;
    }
    if (password && user.password_hash && (await verifyPassword(password, user.password_hash))) return;
    throw new HttpError(
      401,
      'identity_confirmation_required',
      user.password_hash
        ? 'this email already has an Orrery account: enter its password (or accept while signed in) to add this organization to it'
        : 'this email already has an Orrery account that signs in with single sign-on: sign in first, then open the link again',
      { field: 'password' },
    );
  }

  app.post<{ Body: { token: string } }>(
    '/api/v1/invitations/lookup',
    {
      config: { permission: 'public', rateClass: 'auth' },
      schema: {
        tags: ['invitations'],
        summary: 'What an invitation link is for (the accept page shows it before asking for a password)',
        description: who('public', 'The token travels in the body, never in a URL.'),
        security: [],
        body: { type: 'object', required: ['token'], additionalProperties: false, properties: tokenBody },
        response: {
          200: {
            type: 'object',
            properties: {
              org: { type: 'object', properties: { slug: { type: 'string' }, name: { type: 'string' } } },
              email: { type: 'string' },
              role: { type: 'string' },
              expires_at: { type: 'string' },
              has_account: { type: 'boolean', description: 'true when the email already has a password: no new one is needed' },
            },
          },
          ...errors,
        },
      },
    },
    async (req) => {
      const { row, org } = await byToken(req.body.token);
      const user = await s.knex.withSchema('public').table('users').where({ email: row.email }).first('password_hash');
      return { org: { slug: org.slug, name: org.name }, email: row.email, role: row.role, expires_at: iso(row.expires_at)!, has_account: !!user?.password_hash };
    },
  );

  app.post<{ Body: { token: string; password?: string; display_name?: string } }>(
    '/api/v1/invitations/accept',
    {
      config: { permission: 'public', rateClass: 'auth' },
      schema: {
        tags: ['invitations'],
        summary: 'Accept an invitation: join the org and get a token pair',
        description: who(
          'public',
          'A new account must choose a password that meets the policy. An email that already has an account proves it is theirs: its current `password`, or the request made while signed in as it (`Authorization: Bearer <access token>`); otherwise 401 `identity_confirmation_required`.',
        ),
        security: [],
        body: {
          type: 'object',
          required: ['token'],
          additionalProperties: false,
          properties: { ...tokenBody, password: { type: 'string', maxLength: 1024 }, display_name: { type: 'string', minLength: 1, maxLength: 200 } },
        },
        response: { 200: tokenPair, ...errors },
      },
    },
    async (req) => {
      const { row, org } = await byToken(req.body.token);
      let user = await s.knex.withSchema('public').table('users').where({ email: row.email }).first();
      if (user) await assertIdentityOwner(user, req.body.password, req.headers.authorization);
      if (!user) {
        if (!req.body.password) throw new HttpError(400, 'password_required', 'choose a password for your new account', { field: 'password' });
        const problem = passwordProblem(req.body.password);
        if (problem) throw new HttpError(400, 'weak_password', problem, { field: 'password' });
        user = { id: randomUUID(), email: row.email, display_name: req.body.display_name ?? row.email.split('@')[0], password_hash: await hashPassword(req.body.password) };
        await s.knex.withSchema('public').table('users').insert(user);
      }
      const departments: Array<{ id: string; manager: boolean }> = typeof row.departments === 'string' ? JSON.parse(row.departments) : row.departments;
      await s.knex.transaction(async (trx) => {
        // a second accept of the same link loses this race: accepted_at is set once
        const n = await trx.withSchema('public').table('invitations').where({ id: row.id }).whereNull('accepted_at').update({ accepted_at: new Date() });
        if (!n) throw new HttpError(409, 'invitation_accepted', 'this invitation was already accepted');
        await trx.withSchema('public').table('memberships').insert({ org_id: org.id, user_id: user.id, role: row.role, active: true }).onConflict(['org_id', 'user_id']).ignore();
        for (const d of departments) {
          const exists = await trx.withSchema(org.schema).table('departments').where({ id: d.id }).first('id');
          if (exists) await trx.withSchema(org.schema).table('department_members').insert({ department_id: d.id, user_id: user.id, manager: !!d.manager }).onConflict(['department_id', 'user_id']).merge();
        }
      });
      s.invalidateAuth(org.id, user.id);
      await s.audit(org, { userId: user.id, email: user.email, displayName: user.display_name, role: row.role as Role, departments: [], operator: false, via: 'access_token' }, {
        action: 'invitation.accept',
        target: row.id,
        after: { user_id: user.id, role: row.role, departments },
        ip: req.ip,
      });
      await announceMember(s, org, MEMBER_ADDED_TOPIC, { user_id: user.id, role: row.role as Role, via: 'invitation' });
      return issueTokenPair(s, user.id, org.id, { ip: req.ip, userAgent: req.headers['user-agent'] ?? null, method: 'invitation' });
    },
  );
}
