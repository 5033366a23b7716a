/** Who is in the org, in which departments, and who manages whom — read from the org's schema and the catalogue. */
import type { TenantContext } from '@orrery/plugin-sdk';

export interface Directory {
  /** active members of the org */
  members: Map<string, { email: string; display_name: string; role: string }>;
  departments: Map<string, { name: string; restricted: boolean }>;
  /** user → departments they belong to */
  departmentsOf: Map<string, string[]>;
  /** department → its managers */
  managers: Map<string, string[]>;
  /** department → its members */
  membersOf: Map<string, string[]>;
}

export async function loadDirectory(ctx: TenantContext): Promise<Directory> {
  const users = (await ctx.db.knex
    .withSchema('public')
    .table('memberships')
    .join('users', 'users.id', 'memberships.user_id')
    .where({ 'memberships.org_id': ctx.org.id, 'memberships.active': true })
    .select('users.id', 'users.email', 'users.display_name', 'memberships.role')) as Array<{ id: string; email: string; display_name: string; role: string }>;
  const depts = (await ctx.db.table('departments').select('id', 'name', 'restricted')) as Array<{ id: string; name: string; restricted: boolean }>;
  const dm = (await ctx.db.table('department_members').select('department_id', 'user_id', 'manager')) as Array<{ department_id: string; user_id: string; manager: boolean }>;
  const d: Directory = {
    members: new Map(users.map((u) => [u.id, { email: u.email, display_name: u.display_name, role: u.role }])),
    departments: new Map(depts.map((x) => [x.id, { name: x.name, restricted: x.restricted }])),
    departmentsOf: new Map(),
    managers: new Map(),
    membersOf: new Map(),
  };
  for (const m of dm) {
    d.departmentsOf.set(m.user_id, [...(d.departmentsOf.get(m.user_id) ?? []), m.department_id]);
    d.membersOf.set(m.department_id, [...(d.membersOf.get(m.department_id) ?? []), m.user_id]);
    if (m.manager) d.managers.set(m.department_id, [...(d.managers.get(m.department_id) ?? []), m.user_id]);
  }
  return d;
}

/** The managers of every department the user is in, without the user. */
export function managersOf(d: Directory, userId: string): string[] {
  const out = new Set<string>();
  for (const dept of d.departmentsOf.get(userId) ?? []) for (const m of d.managers.get(dept) ?? []) if (m !== userId) out.add(m);
  return [...out];
}
