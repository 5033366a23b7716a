/**
 * Named dashboards: many per user, each with its sharing, filters and refresh interval.
 * The grid document stays opaque text (as for the per-user layouts in store.ts); the
 * sharing columns are real columns so that "what may this caller see" is one query.
 */
import { randomUUID } from 'node:crypto';
import type { TenantDatabase } from '@orrery/plugin-sdk';
import type { Doc } from './store.ts';

export const NAMED_TABLE = 'dashboards_named';

export type ShareScope = 'private' | 'department' | 'org';
export type ShareAccess = 'view' | 'edit';

export interface Filters {
  department_id?: string;
  agent_name?: string;
}

export interface Share {
  scope: ShareScope;
  /** the department it is shared with (scope `department` only) */
  department_id: string | null;
  access: ShareAccess;
}

export interface NamedDashboard {
  id: string;
  name: string;
  description: string;
  owner_id: string;
  share: Share;
  filters: Filters;
  refresh_seconds: number;
  template: string | null;
  doc: Doc;
  created_at: string;
  updated_at: string;
  updated_by: string;
}

const json = <T>(raw: unknown, fallback: T): T => {
  if (raw === null || raw === undefined) return fallback;
  try {
    return (typeof raw === 'string' ? JSON.parse(raw) : raw) as T;
  } catch {
    return fallback;
  }
};

function fromRow(r: any): NamedDashboard {
  return {
    id: r.id,
    name: r.name,
    description: r.description ?? '',
    owner_id: r.owner_id,
    share: { scope: r.share_scope, department_id: r.share_department_id ?? null, access: r.share_access },
    filters: json<Filters>(r.filters, {}),
    refresh_seconds: Number(r.refresh_seconds),
    template: r.template ?? null,
    doc: json<Doc>(r.doc, { version: 1, items: [] }),
    created_at: new Date(r.created_at).toISOString(),
    updated_at: new Date(r.updated_at).toISOString(),
    updated_by: r.updated_by,
  };
}

/** The dashboards a member sees: their own, the org's, and those of their departments. */
export async function listVisible(db: TenantDatabase, userId: string, departmentIds: readonly string[]): Promise<NamedDashboard[]> {
  const rows = await db
    .table(NAMED_TABLE)
    .where((q: any) => {
      q.where({ owner_id: userId }).orWhere({ share_scope: 'org' });
      if (departmentIds.length) q.orWhere((d: any) => d.where({ share_scope: 'department' }).whereIn('share_department_id', [...departmentIds]));
    })
    .orderBy([{ column: 'name' }, { column: 'id' }]);
  return rows.map(fromRow);
}

export async function getNamed(db: TenantDatabase, id: string): Promise<NamedDashboard | null> {
  const row = await db.table(NAMED_TABLE).where({ id }).first();
  return row ? fromRow(row) : null;
}

export interface NamedInput {
  name: string;
  description: string;
  share: Share;
  filters: Filters;
  refresh_seconds: number;
  template: string | null;
  doc: Doc;
}

export async function insertNamed(db: TenantDatabase, ownerId: string, v: NamedInput): Promise<NamedDashboard> {
  const now = new Date();
  const id = randomUUID();
  await db.table(NAMED_TABLE).insert({
    id,
    name: v.name,
    description: v.description,
    owner_id: ownerId,
    share_scope: v.share.scope,
    share_department_id: v.share.department_id,
    share_access: v.share.access,
    filters: JSON.stringify(v.filters),
    refresh_seconds: v.refresh_seconds,
    template: v.template,
    doc: JSON.stringify(v.doc),
    created_at: now,
    updated_at: now,
    updated_by: ownerId,
  });
  return (await getNamed(db, id))!;
}

export async function updateNamed(db: TenantDatabase, id: string, by: string, v: Omit<NamedInput, 'template'>): Promise<NamedDashboard> {
  await db.table(NAMED_TABLE).where({ id }).update({
    name: v.name,
    description: v.description,
    share_scope: v.share.scope,
    share_department_id: v.share.department_id,
    share_access: v.share.access,
    filters: JSON.stringify(v.filters),
    refresh_seconds: v.refresh_seconds,
    doc: JSON.stringify(v.doc),
    updated_at: new Date(),
    updated_by: by,
  });
  return (await getNamed(db, id))!;
}

export async function deleteNamed(db: TenantDatabase, id: string) {
  await db.table(NAMED_TABLE).where({ id }).delete();
}

export const namedMigration = {
  name: '002_named_dashboards',
  async up(knex: any, schema: string) {
    await knex.schema.withSchema(schema).createTable(NAMED_TABLE, (t: any) => {
      t.string('id', 64).primary();
      t.string('name', 120).notNullable();
      t.text('description').notNullable().defaultTo('');
      t.string('owner_id', 64).notNullable().index();
      t.string('share_scope', 16).notNullable();
      t.string('share_department_id', 64).nullable();
      t.string('share_access', 8).notNullable();
      t.text('filters').notNullable();
      t.integer('refresh_seconds').notNullable();
      t.string('template', 64).nullable();
      t.text('doc').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.timestamp('updated_at', { useTz: true }).notNullable();
      t.string('updated_by', 64).notNullable();
      t.index(['share_scope', 'share_department_id']);
    });
  },
  async down(knex: any, schema: string) {
    await knex.schema.withSchema(schema).dropTableIfExists(NAMED_TABLE);
  },
};
