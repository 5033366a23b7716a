import type { FastifyRequest } from 'fastify';
import { HttpError, type Caller, type Org, type Role } from '@orrery/plugin-sdk';
import type { Internals } from '../internals.ts';
import { errorSchema } from '../http/schemas.ts';

/** The kernel services this module uses (a part of the container, not all of it). */
export type IdentityCommonDeps = Pick<Internals, 'bus' | 'invalidateAuth' | 'knex' | 'logger' | 'tokens'>;

export const ROLES: Role[] = ['Admin', 'Manager', 'Developer'];
export const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
export const uuid = { type: 'string', pattern: UUID } as const;
/** Departments a new member or invitee joins, each optionally as its manager. */
export const departmentAssignments = {
  type: 'array',
  maxItems: 100,
  items: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: uuid, manager: { type: 'boolean', default: false } } },
} as const;
export const errors = { '4xx': errorSchema } as const;
export const iso = (d: unknown) => (d ? new Date(d as string).toISOString() : null);
export const ctx = (req: FastifyRequest) => req.auth!;

/** Describes a route's permission in its OpenAPI text, so the document says who may call it. */
export function who(permission: string, extra = '') {
  const roles: Record<string, string> = {
    admin: 'Admin',
    'manage-members': 'Admin, Manager (Developers in departments they manage only)',
    authenticated: 'any member',
    operator: 'platform operator',
    public: 'no authentication',
  };
  return `Permission: \`${permission}\` (${roles[permission] ?? permission}).${extra ? ` ${extra}` : ''}`;
}

export interface Member {
  user_id: string;
  email: string;
  display_name: string;
  role: Role;
  active: boolean;
  created_at: string | null;
  deactivated_at: string | null;
  departments: Array<{ id: string; name: string; manager: boolean }>;
}

/**
 * Reads one member of the caller's org. Every lookup by user id is filtered
 * on the org, so an id from another org answers 404 exactly like an unknown one.
 */
export async function findMember(s: IdentityCommonDeps, org: Org, userId: string): Promise<Member | null> {
  if (!new RegExp(UUID).test(userId)) return null;
  const m = await s.knex
    .withSchema('public')
    .table('memberships')
    .join('users', 'users.id', 'memberships.user_id')
    .where({ 'memberships.org_id': org.id, 'memberships.user_id': userId })
    .first('users.id', 'users.email', 'users.display_name', 'memberships.role', 'memberships.active', 'memberships.created_at', 'memberships.deactivated_at');
  if (!m) return null;
  const depts = await s.knex
    .withSchema(org.schema)
    .table('department_members')
    .join('departments', 'departments.id', 'department_members.department_id')
    .where({ 'department_members.user_id': userId })
    .select('departments.id', 'departments.name', 'department_members.manager')
    .orderBy('departments.name');
  return {
    user_id: m.id,
    email: m.email,
    display_name: m.display_name,
    role: m.role,
    active: !!m.active,
    created_at: iso(m.created_at),
    deactivated_at: iso(m.deactivated_at),
    departments: depts.map((d: any) => ({ id: d.id, name: d.name, manager: !!d.manager })),
  };
}

export async function mustFindMember(s: IdentityCommonDeps, org: Org, userId: string) {
  const m = await findMember(s, org, userId);
  if (!m) throw new HttpError(404, 'not_found', `no member ${userId} in this organization`);
  return m;
}

export async function findDepartment(s: IdentityCommonDeps, org: Org, id: string) {
  if (!new RegExp(UUID).test(id)) return null;
  return (await s.knex.withSchema(org.schema).table('departments').where({ id }).first()) ?? null;
}

export async function mustFindDepartment(s: IdentityCommonDeps, org: Org, id: string) {
  const d = await findDepartment(s, org, id);
  if (!d) throw new HttpError(404, 'not_found', `no department ${id} in this organization`);
  return d;
}

/**
 * The Manager rule of the PRD: a Manager adds or removes Developers, only in
 * departments they manage, and never makes anyone a manager. Admins may do
 * anything. Called by every route that changes who belongs where.
 */
export function assertMayManage(caller: Caller, change: { targetRole: Role; departmentIds: string[]; makesManager?: boolean; changesRole?: boolean }) {
  if (caller.role === 'Admin') return;
  if (caller.role !== 'Manager') throw new HttpError(403, 'forbidden', 'only Admins and Managers manage members');
  if (change.targetRole !== 'Developer') {
    throw new HttpError(403, 'forbidden', `Managers manage Developers only, not a ${change.targetRole}`, { rule: 'manager_developers_only' });
  }
  if (change.makesManager || change.changesRole) throw new HttpError(403, 'forbidden', 'only Admins assign roles and department managers', { rule: 'admin_assigns_roles' });
  if (!change.departmentIds.length) throw new HttpError(403, 'forbidden', 'Managers act within a department they manage: name one', { rule: 'manager_own_departments' });
  const managed = new Set(caller.departments.filter((d) => d.manager).map((d) => d.id));
  const outside = change.departmentIds.filter((d) => !managed.has(d));
  if (outside.length) throw new HttpError(403, 'forbidden', 'Managers act only in departments they manage', { rule: 'manager_own_departments', departments: outside });
}

/** An org keeps at least one active Admin: the last one cannot be demoted, deactivated or removed. */
export async function assertNotLastAdmin(s: IdentityCommonDeps, org: Org, userId: string) {
  const admins = await s.knex
    .withSchema('public')
    .table('memberships')
    .where({ org_id: org.id, role: 'Admin', active: true })
    .whereNot({ user_id: userId })
    .count<{ n: string }[]>({ n: '*' });
  if (Number(admins[0]?.n ?? 0) === 0) throw new HttpError(409, 'last_admin', 'the organization must keep at least one active Admin');
}

export const memberSchema = {
  type: 'object',
  properties: {
    user_id: { type: 'string' },
    email: { type: 'string' },
    display_name: { type: 'string' },
    role: { type: 'string', enum: ROLES },
    active: { type: 'boolean' },
    created_at: { type: ['string', 'null'] },
    deactivated_at: { type: ['string', 'null'] },
    departments: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, manager: { type: 'boolean' } } } },
  },
} as const;

/** Deactivation and removal end every credential of the user in this org at once, on every node. */
export async function revokeEverything(s: IdentityCommonDeps, org: Org, userId: string) {
  const families = await s.knex
    .withSchema('public')
    .table('refresh_tokens')
    .where({ org_id: org.id, user_id: userId })
    .whereNull('revoked_at')
    .distinct('family_id');
  for (const f of families) await s.tokens.revokeSession(f.family_id);
  const tokens = await s.knex.withSchema('public').table('api_tokens').where({ org_id: org.id, user_id: userId }).whereNull('revoked_at').update({ revoked_at: new Date() });
  s.invalidateAuth(org.id, userId);
  return { sessions: families.length, tokens: Number(tokens) };
}

/** Topics on which the kernel announces membership changes to plugins (`env.onBus`). */
export const MEMBER_ADDED_TOPIC = 'kernel.members.added';
export const MEMBER_REMOVED_TOPIC = 'kernel.members.removed';

/** Announces a membership change on the bus; a bus failure never fails the change itself. */
export function announceMember(s: IdentityCommonDeps, org: Org, topic: typeof MEMBER_ADDED_TOPIC | typeof MEMBER_REMOVED_TOPIC, payload: { user_id: string; role: Role; via: string }) {
  return s.bus.publish(org.id, { kind: 'org' }, topic, { ...payload, at: new Date().toISOString() }).catch((err: unknown) => s.logger.warn({ err, topic }, 'could not announce a membership change'));
}
