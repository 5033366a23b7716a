import type { Knex } from 'knex';
import type { ChMigration, PgMigration } from '@orrery/plugin-sdk';
import type { Analytics } from '../types.ts';

/** A list of migrations owned by the kernel or one plugin. */
export interface MigrationSet<M> {
  owner: string;
  migrations: M[];
}

const PG_TABLE = 'orrery_migrations';

/**
 * Runs pending PostgreSQL migrations for one scope — `public` (the catalogue) or
 * an org schema — recording each in public.orrery_migrations. Each migration runs
 * in its own transaction, and everything inside goes through that transaction:
 * PGlite has exactly one connection (STACK.md).
 */
export async function migratePg(knex: Knex, scope: string, sets: MigrationSet<PgMigration>[]): Promise<string[]> {
  await ensurePgLedger(knex);
  const done = new Set(
    (await knex.withSchema('public').table(PG_TABLE).where({ scope }).select('owner', 'name')).map(
      (r: { owner: string; name: string }) => `${r.owner}/${r.name}`,
    ),
  );
  const applied: string[] = [];
  for (const set of sets) {
    for (const m of set.migrations) {
      const key = `${set.owner}/${m.name}`;
      if (done.has(key)) continue;
      await knex.transaction(async (trx) => {
        if (scope !== 'public') await trx.raw(`SET LOCAL search_path TO "${scope}", public`);
        await m.up(trx, scope);
        await trx.withSchema('public').table(PG_TABLE).insert({ scope, owner: set.owner, name: m.name });
      });
      applied.push(key);
    }
  }
  return applied;
}

let ledgerReady = new WeakSet<Knex>();
async function ensurePgLedger(knex: Knex) {
  if (ledgerReady.has(knex)) return;
  await knex.raw(`CREATE TABLE IF NOT EXISTS public.${PG_TABLE} (
    scope text NOT NULL, owner text NOT NULL, name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (scope, owner, name))`);
  ledgerReady.add(knex);
}
export function forgetLedger() {
  ledgerReady = new WeakSet<Knex>();
}

/** Fills the DDL placeholders for a single node or a cluster. */
export function renderDdl(sql: string, database: string, cluster: string | null): string {
  return sql
    .replaceAll('{db}', database)
    .replaceAll('{cluster}', cluster ? ` ON CLUSTER ${cluster}` : '')
    .replace(/\{engine:([A-Za-z]+)(\(([^)]*)\))?\}/g, (_, engine: string, _args, args?: string) => {
      if (!cluster) return `${engine}(${args ?? ''})`;
      const zk = `'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'`;
      return `Replicated${engine}(${zk}${args ? `, ${args}` : ''})`;
    });
}

/**
 * Runs pending ClickHouse DDL, recorded in {db}.schema_migrations. Statements
 * are written IF NOT EXISTS so a crash between a statement and its record is
 * safe to re-run.
 */
export async function migrateClickHouse(analytics: Analytics, sets: MigrationSet<ChMigration>[]): Promise<string[]> {
  const { client, database, cluster } = analytics;
  await client.command({
    query: renderDdl(
      `CREATE TABLE IF NOT EXISTS {db}.schema_migrations{cluster} (owner String, name String, applied_at DateTime DEFAULT now())
       ENGINE = {engine:ReplacingMergeTree} ORDER BY (owner, name)`,
      database,
      cluster,
    ),
  });
  const r = await client.query({ query: `SELECT owner, name FROM ${database}.schema_migrations`, format: 'JSONEachRow' });
  const done = new Set(((await r.json()) as Array<{ owner: string; name: string }>).map((x) => `${x.owner}/${x.name}`));
  const applied: string[] = [];
  for (const set of sets) {
    for (const m of set.migrations) {
      const key = `${set.owner}/${m.name}`;
      if (done.has(key)) continue;
      for (const stmt of m.statements) {
        await client.command({ query: renderDdl(stmt, database, cluster) });
      }
      await client.insert({ table: `${database}.schema_migrations`, values: [{ owner: set.owner, name: m.name }], format: 'JSONEachRow' });
      applied.push(key);
    }
  }
  return applied;
}
