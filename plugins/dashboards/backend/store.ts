/**
 * Layout storage. Documents are opaque JSON to the server (the host owns their shape and
 * validates them on read); the server only checks size and the outline, and decides whose
 * layout, which default and who may write it.
 */
import type { TenantDatabase } from '@orrery/plugin-sdk';

export const USER_TABLE = 'dashboards_user_layouts';
export const DEFAULT_TABLE = 'dashboards_defaults';

export type DefaultScope = 'role' | 'department';

export interface Doc {
  version: number;
  items: unknown[];
}

/** Rows hold the document as text: identical on PostgreSQL and PGlite, and never reinterpreted. */
const parse = (raw: unknown): Doc | null => {
  if (raw === null || raw === undefined) return null;
  try {
    return (typeof raw === 'string' ? JSON.parse(raw) : raw) as Doc;
  } catch {
    return null;
  }
};

export async function getUserLayout(db: TenantDatabase, userId: string) {
  const row = await db.table(USER_TABLE).where({ user_id: userId }).first();
  return row ? { doc: parse(row.doc), updated_at: new Date(row.updated_at).toISOString() } : null;
}

export async function putUserLayout(db: TenantDatabase, userId: string, doc: Doc) {
  const now = new Date();
  await db.table(USER_TABLE)
    .insert({ user_id: userId, doc: JSON.stringify(doc), updated_at: now })
    .onConflict('user_id')
    .merge(['doc', 'updated_at']);
  return now.toISOString();
}

export async function deleteUserLayout(db: TenantDatabase, userId: string) {
  await db.table(USER_TABLE).where({ user_id: userId }).delete();
}

export async function getDefault(db: TenantDatabase, scope: DefaultScope, key: string) {
  const row = await db.table(DEFAULT_TABLE).where({ scope, key }).first();
  return row ? { doc: parse(row.doc), updated_at: new Date(row.updated_at).toISOString(), updated_by: row.updated_by as string } : null;
}

export async function putDefault(db: TenantDatabase, scope: DefaultScope, key: string, doc: Doc, by: string) {
  const now = new Date();
  await db.table(DEFAULT_TABLE)
    .insert({ scope, key, doc: JSON.stringify(doc), updated_at: now, updated_by: by })
    .onConflict(['scope', 'key'])
    .merge(['doc', 'updated_at', 'updated_by']);
  return now.toISOString();
}

export async function deleteDefault(db: TenantDatabase, scope: DefaultScope, key: string) {
  await db.table(DEFAULT_TABLE).where({ scope, key }).delete();
}

export async function listDefaults(db: TenantDatabase) {
  const rows = await db.table(DEFAULT_TABLE).select('scope', 'key', 'updated_at', 'updated_by');
  return rows.map((r: any) => ({ scope: r.scope as DefaultScope, key: r.key as string, updated_at: new Date(r.updated_at).toISOString(), updated_by: r.updated_by as string }));
}
