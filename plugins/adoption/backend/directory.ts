/** Who is in the org, in which departments, and who manages whom — from the kernel's directory. */
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

/** How a user is named in answers: their email and display name from the directory (null for ids that are not members). */
export function person(dir: Directory, userId: string): { email: string | null; display_name: string | null } {
  const m = dir.members.get(userId);
  return { email: m?.email ?? null, display_name: m?.display_name ?? null };
}

export async function loadDirectory(ctx: TenantContext): Promise<Directory> {
  const [users, depts, dm] = await Promise.all([ctx.directory.members(), ctx.directory.departments(), ctx.directory.memberships()]);
  const d: Directory = {
    members: new Map(users.map((u) => [u.id, { email: u.email, display_name: u.displayName, role: u.role }])),
    departments: new Map(depts.map((x) => [x.id, { name: x.name, restricted: x.restricted }])),
    departmentsOf: new Map(),
    managers: new Map(),
    membersOf: new Map(),
  };
  for (const m of dm) {
    d.departmentsOf.set(m.userId, [...(d.departmentsOf.get(m.userId) ?? []), m.departmentId]);
    d.membersOf.set(m.departmentId, [...(d.membersOf.get(m.departmentId) ?? []), m.userId]);
    if (m.manager) d.managers.set(m.departmentId, [...(d.managers.get(m.departmentId) ?? []), m.userId]);
  }
  return d;
}

/** The managers of every department the user is in, without the user. */
export function managersOf(d: Directory, userId: string): string[] {
  const out = new Set<string>();
  for (const dept of d.departmentsOf.get(userId) ?? []) for (const m of d.managers.get(dept) ?? []) if (m !== userId) out.add(m);
  return [...out];
}
