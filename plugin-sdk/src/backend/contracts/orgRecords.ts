/**
 * The org's own records kept by the kernel, for taking the org's data out before archival
 * or deletion (PRD 10.3): its audit log and every plugin's stored settings. Read only, and
 * only for the org's Admins (or a job, which runs without a caller); anyone else gets a 403.
 */

/** One audit record, as `GET /api/v1/audit` answers it. */
export interface OrgAuditRecord {
  id: number;
  /** ISO instant */
  at: string;
  actor_id: string | null;
  actor_email: string | null;
  action: string;
  target: string | null;
  before: unknown;
  after: unknown;
  ip: string | null;
}

/** A plugin's settings as stored for the org (what `ctx.settings.get()` answers to that plugin). */
export interface OrgPluginSettings {
  plugin: string;
  enabled: boolean;
  settings: Record<string, unknown>;
  /** ISO instant of the last change */
  updated_at: string;
}

export interface OrgRecords {
  /**
   * Audit records in id order (oldest first), those with an id above `afterId`, at most
   * `limit` (1–5000, default 1000): page by passing the last id read. `from`/`to` (ISO,
   * `to` exclusive) narrow by time.
   */
  auditLog(q?: { afterId?: number; limit?: number; from?: string; to?: string }): Promise<OrgAuditRecord[]>;
  /** Every plugin that has a row for the org (enabled or not), by plugin id. */
  pluginSettings(): Promise<OrgPluginSettings[]>;
}
