import type { Knex } from 'knex';
import type { Caller, Org, Role } from '@orrery/plugin-sdk';

/**
 * Resolves who a token belongs to, from the database, on every request: a
 * deactivated user must lose access at once, not when a JWT expires. A short
 * cache keeps this off the hot path; `invalidate` is called on every change.
 */
export class CallerDirectory {
  private cache = new Map<string, { at: number; caller: Caller | null }>();
  private orgCache = new Map<string, { at: number; org: Org | null }>();
  constructor(
    private knex: Knex,
    private ttlMs = 5000,
  ) {}

  async org(orgId: string): Promise<Org | null> {
    const hit = this.orgCache.get(orgId);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.org;
    const row = await this.knex.withSchema('public').table('orgs').where({ id: orgId }).first();
    const org = row ? { id: row.id, slug: row.slug, name: row.name, schema: row.schema } : null;
    this.orgCache.set(orgId, { at: Date.now(), org });
    return org;
  }

  async caller(org: Org, userId: string, via: Caller['via']): Promise<Caller | null> {
    const key = `${org.id}:${userId}`;
    const hit = this.cache.get(key);
    let base = hit && Date.now() - hit.at < this.ttlMs ? hit.caller : undefined;
    if (base === undefined) {
      base = await this.load(org, userId);
      this.cache.set(key, { at: Date.now(), caller: base });
    }
    return base ? { ...base, via } : null;
  }

  private async load(org: Org, userId: string): Promise<Caller | null> {
    const m = await this.knex
      .withSchema('public')
      .table('memberships')
      .join('users', 'users.id', 'memberships.user_id')
      .where({ 'memberships.org_id': org.id, 'memberships.user_id': userId, 'memberships.active': true })
      .first('users.id', 'users.email', 'users.display_name', 'users.operator', 'memberships.role');
    if (!m) return null;
    const departments = await this.knex
      .withSchema(org.schema)
      .table('department_members')
      .join('departments', 'departments.id', 'department_members.department_id')
      .where({ 'department_members.user_id': userId })
      .select('departments.id', 'departments.name', 'department_members.manager');
    return {
      userId: m.id,
      email: m.email,
      displayName: m.display_name,
      role: m.role as Role,
      operator: !!m.operator,
      departments: departments.map((d: any) => ({ id: d.id, name: d.name, manager: !!d.manager })),
      via: 'access_token',
    };
  }

  invalidate(orgId?: string, userId?: string) {
    if (!orgId) {
      this.cache.clear();
      this.orgCache.clear();
      return;
    }
    if (userId) this.cache.delete(`${orgId}:${userId}`);
    else for (const k of this.cache.keys()) if (k.startsWith(`${orgId}:`)) this.cache.delete(k);
    this.orgCache.delete(orgId);
  }
}
