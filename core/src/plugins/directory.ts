/**
 * `ctx.directory`: the org's people and departments for plugins, read by the
 * kernel from its own tables (`public.users` and `memberships`, and the org
 * schema's `departments` and `department_members`). Tenant-bound: every read
 * names the org.
 */
import type { Knex } from 'knex';
import type { Caller, Directory, DirectoryDepartment, DirectoryMember, DirectoryMembership, Org, Role } from '@orrery/plugin-sdk';

/** user ids in the kernel's tables are UUIDs; events may name users with any string */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function directoryFor(knex: Knex, org: Org, caller: Caller | null): Directory {
  const departments = async (): Promise<DirectoryDepartment[]> =>
    (await knex.withSchema(org.schema).table('departments').select('id', 'name', 'restricted').orderBy('name')).map((d: any) => ({ id: d.id, name: d.name, restricted: !!d.restricted }));

  const memberships = async (opts: { departmentIds?: readonly string[] } = {}): Promise<DirectoryMembership[]> => {
    let q = knex.withSchema(org.schema).table('department_members').select('department_id', 'user_id', 'manager');
    if (opts.departmentIds) q = q.whereIn('department_id', opts.departmentIds.filter((id) => UUID.test(id)));
    return (await q).map((m: any) => ({ departmentId: m.department_id, userId: m.user_id, manager: !!m.manager }));
  };

  return {
    async members(opts = {}) {
      let q = knex
        .withSchema('public')
        .table('memberships')
        .join('users', 'users.id', 'memberships.user_id')
        .where('memberships.org_id', org.id)
        .select('users.id', 'users.email', 'users.display_name', 'memberships.role', 'memberships.active');
      if (!opts.includeInactive) q = q.andWhere('memberships.active', true);
      if (opts.ids) q = q.whereIn('users.id', opts.ids.filter((id) => UUID.test(id)));
      const rows = await q.orderBy('users.email');
      return rows.map((r: any): DirectoryMember => ({ id: r.id, email: r.email, displayName: r.display_name, role: r.role as Role, active: !!r.active }));
    },
    departments,
    async departmentNames() {
      return new Map((await departments()).map((d) => [d.id, d.name]));
    },
    memberships,
    async managersOf(userId) {
      if (!UUID.test(userId)) return [];
      const mine = (await knex.withSchema(org.schema).table('department_members').where({ user_id: userId }).pluck('department_id')) as string[];
      if (!mine.length) return [];
      const managers = (await knex.withSchema(org.schema).table('department_members').whereIn('department_id', mine).andWhere({ manager: true }).distinct('user_id')) as Array<{ user_id: string }>;
      return managers.map((m) => m.user_id).filter((u) => u !== userId).sort();
    },
    async visibleDepartments() {
      if (!caller || caller.role === 'Admin') return null;
      const depts = await departments();
      if (!depts.some((d) => d.restricted)) return null;
      const managed = new Set(caller.departments.filter((d) => d.manager).map((d) => d.id));
      return depts.filter((d) => !d.restricted || managed.has(d.id)).map((d) => d.id);
    },
  };
}
