/**
 * Who an experiment is for: departments and/or roles of the org's directory.
 * An empty audience (none given) is everyone. The membership rule itself lives
 * in `assign.ts` (`inAudience`) so an offline client can apply it; this module
 * checks an audience against the directory and resolves it to user ids.
 */
import { badRequest, type Directory } from '@orrery/plugin-sdk';
import type { Audience } from './assign.ts';
import { inAudience } from './assign.ts';

export const hasAudience = (a: Audience | undefined): a is Audience => !!a && ((a.departments?.length ?? 0) > 0 || (a.roles?.length ?? 0) > 0);

/** 400 naming `audience.departments[i]` for a department the org does not have. */
export async function checkAudience(directory: Directory, audience: Audience | undefined): Promise<void> {
  if (!audience?.departments?.length) return;
  const known = new Set((await directory.departments()).map((d) => d.id));
  audience.departments.forEach((id, i) => {
    if (!known.has(id)) throw badRequest(`unknown department "${id}"`, { field: `audience.departments[${i}]`, value: id });
  });
}

/** The people a rule is applied to: role and departments from the directory (removed members too: their events stay). */
export async function peopleOf(directory: Directory, audience: Audience, ids?: readonly string[]) {
  const [members, memberships] = await Promise.all([
    directory.members({ includeInactive: true, ...(ids ? { ids } : {}) }),
    audience.departments?.length ? directory.memberships({ departmentIds: audience.departments }) : Promise.resolve([]),
  ]);
  const departments = new Map<string, string[]>();
  for (const m of memberships) departments.set(m.userId, [...(departments.get(m.userId) ?? []), m.departmentId]);
  return members.map((m) => ({ id: m.id, role: m.role, departments: departments.get(m.id) ?? [] }));
}

/** The user ids in the audience, or null when the experiment has none (everyone is in). */
export async function audienceUsers(directory: Directory, audience: Audience | undefined): Promise<string[] | null> {
  if (!hasAudience(audience)) return null;
  return (await peopleOf(directory, audience)).filter((p) => inAudience(audience, p)).map((p) => p.id);
}

/** Whether one user is in the audience (true when the experiment has none). */
export async function userInAudience(directory: Directory, audience: Audience | undefined, userId: string): Promise<boolean> {
  if (!hasAudience(audience)) return true;
  const [person] = await peopleOf(directory, audience, [userId]);
  return !!person && inAudience(audience, person);
}
