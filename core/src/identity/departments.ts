import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { HttpError, type Caller } from '@orrery/plugin-sdk';
import type { Internals } from '../internals.ts';
import type { IdentityCommonDeps } from './common.ts';
import { assertMayManage, ctx, errors, iso, mustFindDepartment, mustFindMember, uuid, who } from './common.ts';

/** The kernel services this module uses (a part of the container, not all of it). */
export type DepartmentsDeps = Pick<Internals, 'audit' | 'invalidateAuth' | 'knex'> & IdentityCommonDeps;

const department = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    restricted: { type: 'boolean', description: "when true, only the department's Managers and Admins see its per-user rows" },
    member_count: { type: 'integer' },
    managers: { type: 'array', items: { type: 'object', properties: { user_id: { type: 'string' }, display_name: { type: 'string' } } } },
    created_at: { type: ['string', 'null'] },
  },
} as const;

const memberRow = {
  type: 'object',
  properties: { user_id: { type: 'string' }, email: { type: 'string' }, display_name: { type: 'string' }, role: { type: 'string' }, manager: { type: 'boolean' }, active: { type: 'boolean' } },
} as const;

/** Whether the caller may see who is in a department (restricted departments: its Managers and Admins only). */
const seesPeople = (caller: Caller, d: { id: string; restricted: boolean }) =>
  !d.restricted || caller.role === 'Admin' || caller.departments.some((x) => x.id === d.id && x.manager);

export function departmentRoutes(app: FastifyInstance, s: DepartmentsDeps) {
  const db = (schema: string) => s.knex.withSchema(schema);

  async function listDepartments(schema: string) {
    const rows = await db(schema).table('departments').select('*').orderBy('name');
    const members = await db(schema).table('department_members').select('department_id', 'user_id', 'manager');
    const managerIds = [...new Set(members.filter((m: any) => m.manager).map((m: any) => m.user_id))];
    const names = managerIds.length ? await s.knex.withSchema('public').table('users').whereIn('id', managerIds).select('id', 'display_name') : [];
    const nameOf = new Map(names.map((n: any) => [n.id, n.display_name]));
    return rows.map((d: any) => ({
      id: d.id,
      name: d.name,
      restricted: !!d.restricted,
      member_count: members.filter((m: any) => m.department_id === d.id).length,
      managers: members.filter((m: any) => m.department_id === d.id && m.manager).map((m: any) => ({ user_id: m.user_id, display_name: nameOf.get(m.user_id) ?? '' })),
      created_at: iso(d.created_at),
    }));
  }

  app.get(
    '/api/v1/departments',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags: ['departments'],
        summary: "The org's departments with their managers and sizes",
        description: who('authenticated'),
        response: { 200: { type: 'object', properties: { departments: { type: 'array', items: department } } }, ...errors },
      },
    },
    async (req) => ({ departments: await listDepartments(ctx(req).org.schema) }),
  );

  app.post<{ Body: { name: string; restricted?: boolean } }>(
    '/api/v1/departments',
    {
      config: { permission: 'admin' },
      schema: {
        tags: ['departments'],
        summary: 'Create a department',
        description: who('admin'),
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, restricted: { type: 'boolean', default: false } },
        },
        response: { 201: department, ...errors },
      },
    },
    async (req, reply) => {
      const { org, caller } = ctx(req);
      const name = req.body.name.trim();
      if (await db(org.schema).table('departments').where({ name }).first()) throw new HttpError(409, 'conflict', `a department named "${name}" exists`);
      const id = randomUUID();
      await db(org.schema).table('departments').insert({ id, name, restricted: !!req.body.restricted });
      await s.audit(org, caller, { action: 'department.create', target: id, after: { name, restricted: !!req.body.restricted }, ip: req.ip });
      reply.status(201);
      return (await listDepartments(org.schema)).find((d) => d.id === id);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/departments/:id',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags: ['departments'],
        summary: 'One department and its members',
        description: `${who('authenticated')} The member list of a restricted department is shown to its Managers and Admins only.`,
        params: { type: 'object', required: ['id'], properties: { id: uuid } },
        response: { 200: { type: 'object', properties: { department, members: { type: ['array', 'null'], items: memberRow } } }, ...errors },
      },
    },
    async (req) => {
      const { org, caller } = ctx(req);
      const d = await mustFindDepartment(s, org, req.params.id);
      const dept = (await listDepartments(org.schema)).find((x) => x.id === d.id)!;
      if (!seesPeople(caller, dept)) return { department: { ...dept, managers: [] }, members: null };
      const rows = await db(org.schema).table('department_members').where({ department_id: d.id }).select('user_id', 'manager');
      const ids = rows.map((r: any) => r.user_id);
      const people = ids.length
        ? await s.knex
            .withSchema('public')
            .table('memberships')
            .join('users', 'users.id', 'memberships.user_id')
            .where({ 'memberships.org_id': org.id })
            .whereIn('users.id', ids)
            .select('users.id', 'users.email', 'users.display_name', 'memberships.role', 'memberships.active')
        : [];
      const byId = new Map(people.map((p: any) => [p.id, p]));
      const members = rows
        .filter((r: any) => byId.has(r.user_id))
        .map((r: any) => {
          const p: any = byId.get(r.user_id);
          return { user_id: p.id, email: p.email, display_name: p.display_name, role: p.role, manager: !!r.manager, active: !!p.active };
        })
        .sort((a, b) => a.display_name.localeCompare(b.display_name));
      return { department: dept, members };
    },
  );

  app.patch<{ Params: { id: string }; Body: { name?: string; restricted?: boolean } }>(
    '/api/v1/departments/:id',
    {
      config: { permission: 'admin' },
      schema: {
        tags: ['departments'],
        summary: "Rename a department or mark its individual-level data restricted",
        description: who('admin'),
        params: { type: 'object', required: ['id'], properties: { id: uuid } },
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, restricted: { type: 'boolean' } },
        },
        response: { 200: department, ...errors },
      },
    },
    async (req) => {
      const { org, caller } = ctx(req);
      const before = await mustFindDepartment(s, org, req.params.id);
      const patch: Record<string, unknown> = {};
      if (req.body.name !== undefined) {
        const name = req.body.name.trim();
        const clash = await db(org.schema).table('departments').where({ name }).whereNot({ id: before.id }).first();
        if (clash) throw new HttpError(409, 'conflict', `a department named "${name}" exists`);
        patch.name = name;
      }
      if (req.body.restricted !== undefined) patch.restricted = req.body.restricted;
      await db(org.schema).table('departments').where({ id: before.id }).update(patch);
      s.invalidateAuth(org.id);
      await s.audit(org, caller, {
        action: req.body.restricted !== undefined && req.body.restricted !== !!before.restricted ? 'department.restriction' : 'department.update',
        target: before.id,
        before: { name: before.name, restricted: !!before.restricted },
        after: patch,
        ip: req.ip,
      });
      return (await listDepartments(org.schema)).find((x) => x.id === before.id);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/departments/:id',
    {
      config: { permission: 'admin' },
      schema: {
        tags: ['departments'],
        summary: 'Delete a department (its members stay in the org; past events keep their department id)',
        description: who('admin'),
        params: { type: 'object', required: ['id'], properties: { id: uuid } },
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (req, reply) => {
      const { org, caller } = ctx(req);
      const d = await mustFindDepartment(s, org, req.params.id);
      await db(org.schema).table('departments').where({ id: d.id }).delete();
      s.invalidateAuth(org.id);
      await s.audit(org, caller, { action: 'department.delete', target: d.id, before: { name: d.name, restricted: !!d.restricted }, ip: req.ip });
      reply.status(204);
    },
  );

  app.put<{ Params: { id: string; userId: string }; Body: { manager?: boolean } }>(
    '/api/v1/departments/:id/members/:userId',
    {
      config: { permission: 'manage-members' },
      schema: {
        tags: ['departments'],
        summary: 'Put a member in a department (or change their manager flag)',
        description: who('manage-members', 'Managers may add Developers to departments they manage, never as managers.'),
        params: { type: 'object', required: ['id', 'userId'], properties: { id: uuid, userId: uuid } },
        body: { type: 'object', additionalProperties: false, properties: { manager: { type: 'boolean', default: false } } },
        response: { 200: { type: 'object', properties: { department_id: { type: 'string' }, user_id: { type: 'string' }, manager: { type: 'boolean' } } }, ...errors },
      },
    },
    async (req) => {
      const { org, caller } = ctx(req);
      const d = await mustFindDepartment(s, org, req.params.id);
      const m = await mustFindMember(s, org, req.params.userId);
      const manager = !!req.body?.manager;
      assertMayManage(caller, { targetRole: m.role, departmentIds: [d.id], makesManager: manager });
      const before = m.departments.find((x) => x.id === d.id) ?? null;
      await db(org.schema)
        .table('department_members')
        .insert({ department_id: d.id, user_id: m.user_id, manager })
        .onConflict(['department_id', 'user_id'])
        .merge({ manager });
      s.invalidateAuth(org.id, m.user_id);
      await s.audit(org, caller, { action: 'membership.department.add', target: `${d.id}/${m.user_id}`, before, after: { department: d.name, manager }, ip: req.ip });
      return { department_id: d.id, user_id: m.user_id, manager };
    },
  );

  app.delete<{ Params: { id: string; userId: string } }>(
    '/api/v1/departments/:id/members/:userId',
    {
      config: { permission: 'manage-members' },
      schema: {
        tags: ['departments'],
        summary: 'Take a member out of a department',
        description: who('manage-members', 'Managers may remove Developers from departments they manage.'),
        params: { type: 'object', required: ['id', 'userId'], properties: { id: uuid, userId: uuid } },
        response: { 204: { type: 'null' }, ...errors },
      },
    },
    async (req, reply) => {
      const { org, caller } = ctx(req);
      const d = await mustFindDepartment(s, org, req.params.id);
      const m = await mustFindMember(s, org, req.params.userId);
      const was = m.departments.find((x) => x.id === d.id);
      if (!was) throw new HttpError(404, 'not_found', `member ${m.user_id} is not in department ${d.id}`);
      assertMayManage(caller, { targetRole: m.role, departmentIds: [d.id], makesManager: was.manager });
      await db(org.schema).table('department_members').where({ department_id: d.id, user_id: m.user_id }).delete();
      s.invalidateAuth(org.id, m.user_id);
      await s.audit(org, caller, { action: 'membership.department.remove', target: `${d.id}/${m.user_id}`, before: { department: d.name, manager: was.manager }, ip: req.ip });
      reply.status(204);
    },
  );
}
