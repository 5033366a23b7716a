/**
 * Privacy of knowledge answers. An Admin chooses, in the plugin's per-org settings,
 * who may see individuals (authors, reusers): only Admins, Admins and Managers (for the
 * departments they manage), or everyone; and the minimum group size below which a
 * department aggregate is withheld from callers who may not see individuals.
 *
 * Departments come from the events (an artifact's author department is its `created`
 * event's; a reuser's is the reuse event's), and the kernel's rule for restricted
 * departments applies on top through `ctx.visibleUserDepartments()`.
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
 * Whose individual rows the caller may see: `departments` null = every department,
 * otherwise only people whose relevant event carries one of them; the caller always
 * sees themself. `null` = the caller may not see individuals at all.
 */
export interface IndividualScope {
  departments: string[] | null;
  self: string;
}

export async function individualScope(ctx: TenantContext, s: KnowledgeSettings): Promise<IndividualScope | null> {
  const c = ctx.caller;
  const visible = await ctx.visibleUserDepartments();
  if (!c) return { departments: visible, self: '' };
  const access = s.privacy.individualAccess;
  if (c.role === 'Admin' || access === 'everyone') return { departments: visible, self: c.userId };
  if (access === 'managers' && c.role === 'Manager') {
    const managed = c.departments.filter((d) => d.manager).map((d) => d.id);
    return { departments: visible === null ? managed : managed.filter((d) => visible.includes(d)), self: c.userId };
  }
  return null;
}

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

/** SQL: is a person (`user`, with the department on their event `dept`) inside the scope? Bind `scope_depts`, `scope_self`. */
export function scopeSql(scope: IndividualScope, user: string, dept: string): string {
  if (scope.departments === null) return '1';
  return `(${dept} IN {scope_depts:Array(String)} OR ${user} = {scope_self:String})`;
}
export const scopeParams = (scope: IndividualScope) => ({ scope_depts: scope.departments ?? [], scope_self: scope.self });
