/**
 * Privacy of knowledge answers. An Admin chooses, in the plugin's per-org settings,
 * who may see individuals (authors, reusers): only Admins, Admins and Managers (for the
 * departments they manage), or everyone; and the minimum group size below which a
 * department aggregate is withheld from callers who may not see individuals.
 *
 * Who is in which department comes from the SDK directory (`ctx.directory`): a Manager sees
 * the members of the departments they manage, whatever department their events carry, and
 * members of restricted departments the caller may not see (`ctx.visibleUserDepartments()`)
 * stay hidden whatever the setting.
 */
import { badRequest, forbidden, type TenantContext } from '@orrery/plugin-sdk';

export type IndividualAccess = 'admins' | 'managers' | 'everyone';
export interface KnowledgeSettings {
  privacy: { individualAccess: IndividualAccess; minGroupSize: number };
}

export const DEFAULTS: KnowledgeSettings = { privacy: { individualAccess: 'managers', minGroupSize: 5 } };

export const settingsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    privacy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        individualAccess: { type: 'string', enum: ['admins', 'managers', 'everyone'], description: 'who may see individual authors and reusers' },
        minGroupSize: { type: 'integer', minimum: 1, maximum: 1000, description: 'department figures over fewer people are withheld from callers who may not see individuals' },
      },
    },
  },
} as const;

export async function loadSettings(ctx: TenantContext): Promise<KnowledgeSettings> {
  const stored = await ctx.settings.get<Partial<KnowledgeSettings>>();
  return { privacy: { ...DEFAULTS.privacy, ...(stored?.privacy ?? {}) } };
}

export async function saveSettings(ctx: TenantContext, change: Partial<KnowledgeSettings>): Promise<KnowledgeSettings> {
  if (!change || typeof change !== 'object') throw badRequest('expected an object', { field: 'body' });
  const before = await ctx.settings.get<Partial<KnowledgeSettings>>();
  const after = { privacy: { ...(before?.privacy ?? {}), ...(change.privacy ?? {}) } };
  await ctx.settings.set(after);
  await ctx.audit({ action: 'knowledge.settings.update', before, after });
  return loadSettings(ctx);
}

/**
 * Whose individual rows the caller may see, by directory membership: `users` null = everyone,
 * otherwise only those ids (the caller always among them); `hidden` = members of restricted
 * departments the caller may not see (never the caller), left out whatever `users` says.
 * `null` = the caller may not see individuals at all.
 */
export interface IndividualScope {
  users: string[] | null;
  hidden: string[];
}

export async function individualScope(ctx: TenantContext, s: KnowledgeSettings): Promise<IndividualScope | null> {
  const c = ctx.caller;
  const hidden = await hiddenMembers(ctx);
  if (!c) return { users: null, hidden };
  const access = s.privacy.individualAccess;
  if (c.role === 'Admin' || access === 'everyone') return { users: null, hidden };
  if (access === 'managers' && c.role === 'Manager') {
    const managed = c.departments.filter((d) => d.manager).map((d) => d.id);
    const members = managed.length ? await ctx.directory.memberships({ departmentIds: managed }) : [];
    const users = new Set([c.userId, ...members.map((m) => m.userId)]);
    for (const h of hidden) users.delete(h);
    return { users: [...users], hidden };
  }
  return null;
}

/** Members of the departments whose per-user rows the caller may not see (the kernel's restricted-department rule), except the caller. */
async function hiddenMembers(ctx: TenantContext): Promise<string[]> {
  const visible = await ctx.visibleUserDepartments();
  if (visible === null) return [];
  const shown = new Set(visible);
  const unseen = (await ctx.directory.departments()).map((d) => d.id).filter((id) => !shown.has(id));
  if (!unseen.length) return [];
  const self = ctx.caller?.userId;
  return [...new Set((await ctx.directory.memberships({ departmentIds: unseen })).map((m) => m.userId))].filter((u) => u !== self);
}

export const seesPerson = (scope: IndividualScope | null, user: string) =>
  !!scope && (scope.users === null || scope.users.includes(user)) && !scope.hidden.includes(user);

export async function requireIndividuals(ctx: TenantContext, s: KnowledgeSettings): Promise<IndividualScope> {
  const scope = await individualScope(ctx, s);
  if (!scope) {
    throw forbidden(
      `individual knowledge-sharing data is visible to ${s.privacy.individualAccess === 'admins' ? 'Admins only' : 'Admins and Managers only'} in this organization (knowledge privacy setting individualAccess)`,
      { setting: 'privacy.individualAccess', value: s.privacy.individualAccess, role: ctx.caller?.role },
    );
  }
  return scope;
}

/** SQL: is the person `user` inside the scope? Bind `scopeParams(scope)`. */
export function scopeSql(scope: IndividualScope, user: string): string {
  const parts = [];
  if (scope.users !== null) parts.push(`${user} IN {scope_users:Array(String)}`);
  if (scope.hidden.length) parts.push(`${user} NOT IN {scope_hidden:Array(String)}`);
  return parts.length ? `(${parts.join(' AND ')})` : '1';
}
export const scopeParams = (scope: IndividualScope) => ({ scope_users: scope.users ?? [], scope_hidden: scope.hidden });
