/**
 * Privacy: who may see individual-level adoption data. Admins choose in the
 * settings (`privacy.individualAccess`): only Admins, Admins and Managers (for
 * the departments they manage), or everyone. Anyone sees their own data.
 * Members of restricted departments stay hidden from whoever may not see that
 * department's per-user rows (the kernel's rule), whatever the setting.
 */
import { forbidden, type TenantContext } from '@orrery/plugin-sdk';
import type { Directory } from './directory.ts';
import type { AdoptionSettings } from './settings.ts';

/** null = every user; otherwise the user ids the caller may see. */
export async function visibleUsers(ctx: TenantContext, s: AdoptionSettings, dir: Directory): Promise<Set<string> | null> {
  const c = ctx.caller;
  if (!c) return null; // jobs
  if (c.role === 'Admin') return null;
  const self = new Set([c.userId]);
  let allowed: Set<string> | null;
  if (s.privacy.individualAccess === 'admins') allowed = self;
  else if (s.privacy.individualAccess === 'managers') {
    if (c.role !== 'Manager') allowed = self;
    else {
      allowed = new Set(self);
      for (const d of c.departments.filter((x) => x.manager)) for (const u of dir.membersOf.get(d.id) ?? []) allowed.add(u);
    }
  } else allowed = null;
  const visibleDepts = await ctx.visibleUserDepartments();
  if (visibleDepts === null) return allowed;
  const ok = new Set(visibleDepts);
  const hidden = new Set<string>();
  for (const [dept, members] of dir.membersOf) if (!ok.has(dept)) for (const u of members) if (u !== c.userId) hidden.add(u);
  if (allowed === null) {
    // everyone but the hidden: list the visible explicitly
    const all = new Set<string>([...dir.members.keys()]);
    for (const h of hidden) all.delete(h);
    return all;
  }
  for (const h of hidden) allowed.delete(h);
  return allowed;
}

export function mayIndividuals(ctx: TenantContext, s: AdoptionSettings): boolean {
  const c = ctx.caller;
  if (!c || c.role === 'Admin') return true;
  return s.privacy.individualAccess === 'everyone' || (s.privacy.individualAccess === 'managers' && c.role === 'Manager');
}

export async function assertMaySee(ctx: TenantContext, s: AdoptionSettings, dir: Directory, userId: string) {
  const v = await visibleUsers(ctx, s, dir);
  if (v !== null && !v.has(userId)) throw forbidden('individual adoption data of this user is not visible to you (see the adoption privacy settings)', { user_id: userId });
}

/** Figures of groups smaller than the minimum are withheld, with the reason. */
export function suppress<T extends object>(size: number, s: AdoptionSettings, figures: T): (T & { suppressed: false }) | { suppressed: true; reason: string } {
  if (size < s.privacy.minGroupSize) return { suppressed: true, reason: `fewer than ${s.privacy.minGroupSize} users` };
  return { ...figures, suppressed: false };
}
