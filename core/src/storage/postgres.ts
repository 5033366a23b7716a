import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import type { Org, TenantDatabase } from '@orrery/plugin-sdk';
import type { Storage } from '../types.ts';

/**
 * The transactional store. PGlite (one connection, data in a folder) by default,
 * PostgreSQL when a URL is given; everything above this file is the same knex.
 */
export async function openStorage(opts: { databaseUrl: string; dataDir: string }): Promise<Storage> {
  let knex: Knex;
  let mode: Storage['mode'];
  if (opts.databaseUrl) {
    knex = knexFactory({ client: 'pg', connection: opts.databaseUrl, pool: { min: 0, max: 10 } });
    mode = 'server';
  } else {
    const dir = join(opts.dataDir, 'pg');
    mkdirSync(dir, { recursive: true });
    knex = knexFactory({ client: ClientPgLite as any, dialect: 'postgres', connection: { filename: dir } as any });
    mode = 'embedded';
  }
  await knex.raw('select 1');
  return {
    knex,
    mode,
    forOrg: (org: Org) => tenantDatabase(knex, org.schema),
    async ping() {
      try {
        await knex.raw('select 1');
        return true;
      } catch {
        return false;
      }
    },
    close: () => knex.destroy(),
  };
}

export function tenantDatabase(knex: Knex, schema: string): TenantDatabase {
  return {
    schema,
    table: (name: string) => knex.withSchema(schema).table(name),
    raw: (sql: string, bindings: readonly unknown[] = []) => knex.raw(sql, bindings as Knex.RawBinding[]),
    transaction: (fn) => knex.transaction(fn),
  };
}

/** Schema names are derived from slugs, which are validated; quote anyway. */
export const orgSchemaName = (slug: string) => `org_${slug.replace(/-/g, '_')}`;
