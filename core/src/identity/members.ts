import type { FastifyInstance } from 'fastify';
import { HttpError, type Role } from '@orrery/plugin-sdk';
import type { Internals } from '../internals.ts';
import type { IdentityCommonDeps } from './common.ts';
import type { InvitationsDeps } from './invitations.ts';
import { passwordProblem } from '../auth/passwords.ts';
import { invitationSender } from './invitations.ts';
import {
  ROLES,
  assertMayManage,
  assertNotLastAdmin,
  ctx,
  errors,
  findMember,
  memberSchema,
  mustFindDepartment,
  mustFindMember,
  revokeEverything,
  uuid,
  who,
  departmentAssignments,
  announceMember,
  MEMBER_ADDED_TOPIC,
  MEMBER_REMOVED_TOPIC,
} from './common.ts';

/** The kernel services this module uses (a part of the container, not all of it). */
export type MembersDeps = Pick<Internals, 'audit' | 'invalidateAuth' | 'knex' | 'orgService' | 'permissions'> & IdentityCommonDeps & InvitationsDeps;

export function memberRoutes(app: FastifyInstance, s: MembersDeps) {
  app.get<{ Querystring: { department_id?: string; role?: Role; active?: boolean; q?: string; limit?: number; offset?: number } }>(
    '/api/v1/members',
    {
      config: { permission: 'manage-members' },
      schema: {
        tags: ['members'],
        summary: "The org's members with role, status and departments, by email, a page at a time",
        description: who('manage-members', '`total` counts every member the filters match; `limit` (default 1000) and `offset` page through them.'),
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            department_id: uuid,
            role: { type: 'string', enum: ROLES },
            active: { type: 'boolean' },
            q: { type: 'string', maxLength: 200, description: 'part of an email or name' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 1000 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
        response: { 200: { type: 'object', properties: { members: { type: 'array', items: memberSchema }, total: { type: 'integer' } } }, ...errors },
      },
    },
    async (req) => {
      const { org } = ctx(req);
      let q = s.knex.withSchema('public').table('memberships').join('users', 'users.id', 'memberships.user_id').where({ 'memberships.org_id': org.id });
      if (req.query.role) q = q.andWhere('memberships.role', req.query.role);
      if (req.query.active !== undefined) q = q.andWhere('memberships.active', req.query.active);
      if (req.query.q) {
        const like = `%${req.query.q.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
        q = q.andWhere((w) => w.whereILike('users.email', like).orWhereILike('users.display_name', like));
      }
      if (req.query.department_id) {
        q = q.whereIn('users.id', s.knex.withSchema(org.schema).table('department_members').where({ department_id: req.query.department_id }).select('user_id'));
      }
      const [{ n }] = (await q.clone().count({ n: '*' })) as Array<{ n: string | number }>;
      const rows = await q
        .select('users.id', 'users.email', 'users.display_name', 'memberships.role', 'memberships.active', 'memberships.created_at', 'memberships.deactivated_at')
        .orderBy('users.email')
        .limit(req.query.limit ?? 1000)
        .offset(req.query.offset ?? 0);
      // the departments of this page's members only
      const links = rows.length
        ? await s.knex
            .withSchema(org.schema)
            .table('department_members')
            .join('departments', 'departments.id', 'department_members.department_id')
            .whereIn('department_members.user_id', rows.map((m: any) => m.id))
            .select('department_members.user_id', 'departments.id', 'departments.name', 'department_members.manager')
        : [];
      const byUser = new Map<string, Array<{ id: string; name: string; manager: boolean }>>();
      for (const l of links as any[]) {
        const list = byUser.get(l.user_id) ?? [];
        list.push({ id: l.id, name: l.name, manager: !!l.manager });
        byUser.set(l.user_id, list);
      }
      const members = rows.map((m: any) => ({
        user_id: m.id,
        email: m.email,
        display_name: m.display_name,
        role: m.role,
        active: !!m.active,
        created_at: m.created_at ? new Date(m.created_at).toISOString() : null,
        deactivated_at: m.deactivated_at ? new Date(m.deactivated_at).toISOString() : null,
        departments: byUser.get(m.id) ?? [],
      }));
      return { members, total: Number(n) };
    },
  );

  app.get<{ Params: { userId: string } }>(
    '/api/v1/members/:userId',
    {
      config: { permission: 'manage-members' },
      schema: {
        tags: ['members'],
        summary: 'One member',
        description: who('manage-members'),
        params: { type: 'object', required: ['userId'], properties: { userId: uuid } },
        response: { 200: memberSchema, ...errors },
      },
    },
    async (req) => mustFindMember(s, ctx(req).org, req.params.userId),
  );

  app.put<{ Params: { userId: string }; Body: { role: Role } }>(
    '/api/v1/members/:userId/role',
    {
      config: { permission: 'admin' },
      schema: {
        tags: ['members', 'roles'],
        summary: "Change a member's role (one role per user per org)",
        description: who('admin', 'Takes effect on the next request: cached permissions are dropped on every node.'),
        params: { type: 'object', required: ['userId'], properties: { userId: uuid } },
        body: { type: 'object', required: ['role'], additionalProperties: false, properties: { role: { type: 'string', enum: ROLES } } },
        response: { 200: memberSchema, ...errors },
      },
    },
    async (req) => {
      const { org, caller } = ctx(req);
      const m = await mustFindMember(s, org, req.params.userId);
      if (m.role === req.body.role) return m;
      if (m.role === 'Admin') await assertNotLastAdmin(s, org, m.user_id);
      await s.knex.withSchema('public').table('memberships').where({ org_id: org.id, user_id: m.user_id }).update({ role: req.body.role });
      s.invalidateAuth(org.id, m.user_id);
      await s.audit(org, caller, { action: 'role.change', target: m.user_id, before: { role: m.role }, after: { role: req.body.role }, ip: req.ip });
      return (await findMember(s, org, m.user_id))!;
    },
  );

  app.post<{ Params: { userId: string } }>(
    '/api/v1/members/:userId/deactivate',
    {
      config: { permission: 'admin' },
      schema: {
        tags: ['members'],
        summary: 'Deactivate a member: every session and token of theirs in this org stops working at once',
        description: who('admin', 'Their events stay in analytics and their actions in the audit log.'),
        params: { type: 'object', required: ['userId'], properties: { userId: uuid } },
        response: { 200: { type: 'object', properties: { member: memberSchema, revoked: { type: 'object', properties: { sessions: { type: 'integer' }, tokens: { type: 'integer' } } } } }, ...errors },
      },
    },
    async (req) => {
      const { org, caller } = ctx(req);
      const m = await mustFindMember(s, org, req.params.userId);
      if (m.user_id === caller.userId) throw new HttpError(409, 'conflict', 'you cannot deactivate yourself');
      if (!m.active) throw new HttpError(409, 'conflict', 'the member is already deactivated');
      if (m.role === 'Admin') await assertNotLastAdmin(s, org, m.user_id);
      await s.knex.withSchema('public').table('memberships').where({ org_id: org.id, user_id: m.user_id }).update({ active: false, deactivated_at: new Date() });
      const revoked = await revokeEverything(s, org, m.user_id);
      await s.audit(org, caller, { action: 'member.deactivate', target: m.user_id, before: { active: true }, after: { active: false, ...revoked }, ip: req.ip });
      return { member: (await findMember(s, org, m.user_id))!, revoked };
    },
  );

  app.post<{ Params: { userId: string } }>(
    '/api/v1/members/:userId/reactivate',
    {
      config: { permission: 'admin' },
      schema: {
        tags: ['members'],
        summary: 'Reactivate a member (they log in again; old tokens stay revoked)',
        description: who('admin'),
        params: { type: 'object', required: ['userId'], properties: { userId: uuid } },
        response: { 200: memberSchema, ...errors },
      },
    },
    async (req) => {
      const { org, caller } = ctx(req);
      const m = await mustFindMember(s, org, req.params.userId);
      if (m.active) throw new HttpError(409, 'conflict', 'the member is active');
      await s.knex.withSchema('public').table('memberships').where({ org_id: org.id, user_id: m.user_id }).update({ active: true, deactivated_at: null });
      s.invalidateAuth(org.id, m.user_id);
      await s.audit(org, caller, { action: 'member.reactivate', target: m.user_id, before: { active: false }, after: { active: true }, ip: req.ip });
      return (await findMember(s, org, m.user_id))!;
    },
  );

  app.delete<{ Params: { userId: string }; Querystring: { department_id?: string } }>(
    '/api/v1/members/:userId',
    {
      config: { permission: 'manage-members' },
      schema: {
        tags: ['members'],
        summary: 'Remove a member from the org (their identity and past events stay)',
        description: who('manage-members', 'A Manager removes a Developer only when every department of that Developer is one the Manager manages.'),
        params: { type: 'object', required: ['userId'], properties: { userId: uuid } },
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (req, reply) => {
      const { org, caller } = ctx(req);
      const m = await mustFindMember(s, org, req.params.userId);
      if (m.user_id === caller.userId) throw new HttpError(409, 'conflict', 'you cannot remove yourself');
      assertMayManage(caller, { targetRole: m.role, departmentIds: m.departments.map((d) => d.id) });
      if (m.role === 'Admin') await assertNotLastAdmin(s, org, m.user_id);
      await revokeEverything(s, org, m.user_id);
      await s.knex.withSchema(org.schema).table('department_members').where({ user_id: m.user_id }).delete();
      await s.knex.withSchema('public').table('memberships').where({ org_id: org.id, user_id: m.user_id }).delete();
      s.invalidateAuth(org.id, m.user_id);
      await s.audit(org, caller, { action: 'member.remove', target: m.user_id, before: { email: m.email, role: m.role, departments: m.departments }, ip: req.ip });
      await announceMember(s, org, MEMBER_REMOVED_TOPIC, { user_id: m.user_id, role: m.role, via: 'removed' });
      reply.status(204);
    },
  );

  app.post<{ Body: { email: string; display_name?: string; role: Role; password?: string; departments?: Array<{ id: string; manager?: boolean }> } }>(
    '/api/v1/users',
    {
      config: { permission: 'manage-members' },
      schema: {
        tags: ['users'],
        summary: 'Create a user in the org directly (programmatic import), without an invitation',
        description: who(
          'manage-members',
          'Managers create Developers in departments they manage. Without a password the user signs in through single sign-on or a password reset by an Admin. An email that already has an identity on the platform is not added directly: the person is sent an invitation and joins when they accept it, proving the identity is theirs. The answer is the same in both cases, so it never tells whether an email has an account elsewhere.',
        ),
        body: {
          type: 'object',
          required: ['email', 'role'],
          additionalProperties: false,
          properties: {
            email: { type: 'string', format: 'email', maxLength: 320 },
            display_name: { type: 'string', minLength: 1, maxLength: 200 },
            role: { type: 'string', enum: ROLES },
            password: { type: 'string', minLength: 12, maxLength: 1024 },
            departments: departmentAssignments,
          },
        },
        response: { 201: memberSchema, ...errors },
      },
    },
    async (req, reply) => {
      const { org, caller } = ctx(req);
      const departments = req.body.departments ?? [];
      assertMayManage(caller, { targetRole: req.body.role, departmentIds: departments.map((d) => d.id), makesManager: departments.some((d) => d.manager) });
      for (const d of departments) await mustFindDepartment(s, org, d.id);
      if (req.body.password) {
        const problem = passwordProblem(req.body.password);
        if (problem) throw new HttpError(400, 'weak_password', problem, { field: 'password' });
      }
      const email = req.body.email.trim().toLowerCase();
      const existingUser = await s.knex.withSchema('public').table('users').where({ email }).first('id');
      if (existingUser && (await s.knex.withSchema('public').table('memberships').where({ org_id: org.id, user_id: existingUser.id }).first())) {
        throw new HttpError(409, 'conflict', `${email} is already a member of this organization`);
      }
      if (existingUser) {
        // Someone with an identity elsewhere joins only by accepting an invitation while signed in
        // (their consent), and this answer must not tell the Admin that the identity exists: it has
        // the shape and the values a new user's answer would have, with the invitation's id.
        const assigned = departments.map((d) => ({ id: d.id, manager: !!d.manager }));
        const { id } = await invitationSender(s).invite(req, org, caller, email, req.body.role, assigned);
        await s.audit(org, caller, { action: 'member.create', target: id, after: { email, role: req.body.role, departments, pending_consent: true }, ip: req.ip });
        const names = new Map<string, string>();
        for (const d of assigned) names.set(d.id, (await mustFindDepartment(s, org, d.id)).name);
        reply.status(201);
        return {
          user_id: id,
          email,
          display_name: req.body.display_name ?? email.split('@')[0],
          role: req.body.role,
          active: true,
          created_at: new Date().toISOString(),
          deactivated_at: null,
          departments: assigned.map((d) => ({ id: d.id, name: names.get(d.id)!, manager: d.manager })).sort((a, b) => a.name.localeCompare(b.name)),
        };
      }
      const { userId } = await s.orgService.addMember(org, {
        email,
        role: req.body.role,
        password: req.body.password,
        displayName: req.body.display_name,
      });
      for (const d of departments) {
        await s.knex.withSchema(org.schema).table('department_members').insert({ department_id: d.id, user_id: userId, manager: !!d.manager }).onConflict(['department_id', 'user_id']).merge();
      }
      s.invalidateAuth(org.id, userId);
      await s.audit(org, caller, { action: 'member.create', target: userId, after: { email, role: req.body.role, departments }, ip: req.ip });
      await announceMember(s, org, MEMBER_ADDED_TOPIC, { user_id: userId, role: req.body.role, via: 'created' });
      reply.status(201);
      return (await findMember(s, org, userId))!;
    },
  );

  app.get(
    '/api/v1/roles',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags: ['roles'],
        summary: 'The roles and the permissions each holds (kernel and plugins)',
        description: who('authenticated'),
        response: {
          200: {
            type: 'object',
            properties: {
              roles: {
                type: 'array',
                items: { type: 'object', properties: { name: { type: 'string' }, permissions: { type: 'array', items: { type: 'string' } } } },
              },
              permissions: {
                type: 'array',
                items: { type: 'object', properties: { name: { type: 'string' }, roles: { type: 'array', items: { type: 'string' } }, owner: { type: 'string' } } },
              },
            },
          },
          ...errors,
        },
      },
    },
    async () => {
      const permissions = s.permissions.list();
      return { roles: ROLES.map((r) => ({ name: r, permissions: permissions.filter((p) => p.roles.includes(r)).map((p) => p.name) })), permissions };
    },
  );
}
