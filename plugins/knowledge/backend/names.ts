/**
 * Names for the ids an answer carries, from the kernel's directory (`ctx.directory`):
 * department names and people's display names, so that widgets and reports show a
 * name wherever one exists. Only the ids in the answer are looked up; an id the
 * directory does not know (an event's department that was never created, a person
 * who never joined) is simply absent and shown as its id.
 */
import type { TenantContext } from '@orrery/plugin-sdk';

export interface Names {
  departments: Record<string, string>;
  people: Record<string, string>;
}

export async function namesFor(ctx: TenantContext, departmentIds: Iterable<string>, userIds: Iterable<string> = []): Promise<Names> {
  const depts = new Set([...departmentIds].filter(Boolean));
  const users = [...new Set([...userIds].filter(Boolean))];
  const departments: Record<string, string> = {};
  const people: Record<string, string> = {};
  if (depts.size) for (const d of await ctx.directory.departments()) if (depts.has(d.id)) departments[d.id] = d.name;
  if (users.length) for (const m of await ctx.directory.members({ ids: users, includeInactive: true })) people[m.id] = m.displayName || m.email;
  return { departments, people };
}

const dictionary = (what: string) => ({ type: 'object', additionalProperties: { type: 'string' }, description: `${what} by id (ids the directory does not know are absent)` });

/** Response schema of `names`. */
export const namesSchema = {
  type: 'object',
  required: ['departments', 'people'],
  properties: { departments: dictionary('department names'), people: dictionary("people's display names") },
} as const;
