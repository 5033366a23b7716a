/**
 * `ctx.records` (SDK contracts/orgRecords.ts): the org's audit log and every plugin's stored
 * settings, read only, for the org's data export. The caller must be one of the org's Admins;
 * a job (no caller) may read them too, as jobs run for the org.
 */
import type { Knex } from 'knex';
import { forbidden, type Caller, type Org, type OrgAuditRecord, type OrgPluginSettings, type OrgRecords } from '@orrery/plugin-sdk';

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());

export function orgRecords(knex: Knex, org: Org, caller: Caller | null): OrgRecords {
  const allowed = () => {
    if (caller && caller.role !== 'Admin') throw forbidden("the org's audit log and plugin settings are for its Admins", { role: caller.role });
  };
  return {
    async auditLog(q = {}) {
      allowed();
      const limit = Math.min(5000, Math.max(1, Math.floor(q.limit ?? 1000)));
      let query = knex.withSchema(org.schema).table('audit_log');
      if (q.afterId !== undefined) query = query.where('id', '>', q.afterId);
      if (q.from) query = query.where('at', '>=', new Date(q.from));
      if (q.to) query = query.where('at', '<', new Date(q.to));
      const rows: any[] = await query.orderBy('id', 'asc').limit(limit).select('id', 'at', 'actor_id', 'actor_email', 'action', 'target', 'before', 'after', 'ip');
      return rows.map((r): OrgAuditRecord => ({ ...r, id: Number(r.id), at: iso(r.at) }));
    },
    async pluginSettings() {
      allowed();
      const rows: any[] = await knex.withSchema('public').table('plugin_settings').where({ org_id: org.id }).orderBy('plugin_id', 'asc').select('plugin_id', 'enabled', 'settings', 'updated_at');
      return rows.map((r): OrgPluginSettings => ({ plugin: r.plugin_id, enabled: Boolean(r.enabled), settings: r.settings ?? {}, updated_at: iso(r.updated_at) }));
    },
  };
}
