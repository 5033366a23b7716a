/**
 * The org's experiments, in the plugin's own PostgreSQL table. The definition
 * is kept whole as JSON (it is read whole); key, status and dates are columns
 * for listing.
 */
import { randomUUID } from 'node:crypto';
import { conflict, notFound, type PgMigration, type TenantContext } from '@orrery/plugin-sdk';
import type { ExperimentDef } from './definition.ts';

export const TABLE = 'experiments';
export type Status = 'running' | 'stopped';

export interface StoredExperiment {
  id: string;
  status: Status;
  created_at: string;
  updated_at: string;
  stopped_at: string | null;
  definition: ExperimentDef;
}

export const pgMigrations: PgMigration[] = [
  {
    name: '0001_experiments',
    async up(knex, schema) {
      await knex.schema.withSchema(schema).createTable(TABLE, (t) => {
        t.uuid('id').primary();
        t.string('key', 100).notNullable().unique();
        t.string('status', 20).notNullable().defaultTo('running');
        t.text('definition').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable();
        t.timestamp('stopped_at', { useTz: true });
      });
    },
  },
];

const iso = (d: unknown) => (d ? new Date(d as string).toISOString() : null);

function fromRow(r: Record<string, unknown>): StoredExperiment {
  return {
    id: String(r.id),
    status: r.status as Status,
    created_at: iso(r.created_at)!,
    updated_at: iso(r.updated_at)!,
    stopped_at: iso(r.stopped_at),
    definition: typeof r.definition === 'string' ? JSON.parse(r.definition) : (r.definition as ExperimentDef),
  };
}

export async function createExperiment(ctx: TenantContext, def: ExperimentDef): Promise<StoredExperiment> {
  const existing = await ctx.db.table(TABLE).where({ key: def.key }).first('id');
  if (existing) throw conflict(`an experiment with key "${def.key}" exists`, { field: 'key' });
  const now = new Date();
  const row = { id: randomUUID(), key: def.key, status: 'running', definition: JSON.stringify(def), created_at: now, updated_at: now, stopped_at: null };
  await ctx.db.table(TABLE).insert(row);
  return fromRow(row);
}

export async function getExperiment(ctx: TenantContext, key: string): Promise<StoredExperiment> {
  const row = await ctx.db.table(TABLE).where({ key }).first();
  if (!row) throw notFound(`no experiment with key "${key}"`, { field: 'key' });
  return fromRow(row);
}

export async function listExperiments(ctx: TenantContext, status?: Status): Promise<StoredExperiment[]> {
  const q = ctx.db.table(TABLE).select('*').orderBy('created_at', 'desc').limit(500);
  if (status) q.where({ status });
  return (await q).map(fromRow);
}

export async function updateExperiment(ctx: TenantContext, key: string, def: ExperimentDef): Promise<StoredExperiment> {
  const before = await getExperiment(ctx, key);
  await ctx.db.table(TABLE).where({ key }).update({ definition: JSON.stringify(def), updated_at: new Date() });
  return { ...before, definition: def, updated_at: new Date().toISOString() };
}

export async function stopExperiment(ctx: TenantContext, key: string): Promise<StoredExperiment> {
  const before = await getExperiment(ctx, key);
  if (before.status === 'stopped') return before;
  const now = new Date();
  await ctx.db.table(TABLE).where({ key }).update({ status: 'stopped', stopped_at: now, updated_at: now });
  return { ...before, status: 'stopped', stopped_at: now.toISOString(), updated_at: now.toISOString() };
}
