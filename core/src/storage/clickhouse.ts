import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { AnalyticsClient } from '@orrery/plugin-sdk';
import type { Analytics } from '../types.ts';

const ORG_PARAM = '{org_id:String}';

/**
 * The analytical store. chDB in-process (one data directory per process — see
 * STACK.md) by default, a ClickHouse server when a URL is given. The tenant
 * helper is the only way plugins reach it, and it always binds org_id.
 */
export async function openAnalytics(opts: {
  clickhouseUrl: string;
  dataDir: string;
  chdbPath?: string;
  database: string;
  cluster: string;
}): Promise<Analytics> {
  let client: ClickHouseClient;
  let mode: Analytics['mode'];
  if (opts.clickhouseUrl) {
    client = createClient({
      url: opts.clickhouseUrl,
      clickhouse_settings: { date_time_input_format: 'best_effort', output_format_json_quote_64bit_integers: 0 },
    });
    mode = 'server';
  } else {
    const dir = opts.chdbPath || join(opts.dataDir, 'ch');
    mkdirSync(dir, { recursive: true });
    const { createChdbConnection } = await import('chdb/connection');
    client = createClient({
      // two copies of the client's types (chdb bundles its own): the cast is the documented seam
      connection: createChdbConnection({ path: dir }) as any,
      clickhouse_settings: { date_time_input_format: 'best_effort', output_format_json_quote_64bit_integers: 0 },
    } as any);
    mode = 'embedded';
  }
  const database = opts.database;
  const cluster = opts.cluster || null;
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}${cluster ? ` ON CLUSTER ${cluster}` : ''}` });

  const analytics: Analytics = {
    client,
    database,
    mode,
    cluster,
    forOrg: (orgId: string, owner?: string) => tenantAnalytics(client, database, orgId, owner),
    async ping() {
      try {
        const r = await client.query({ query: 'SELECT 1 AS ok', format: 'JSONEachRow' });
        await r.json();
        return true;
      } catch {
        return false;
      }
    },
    close: () => client.close(),
  };
  return analytics;
}

export class TenantlessQueryError extends Error {}

function tenantAnalytics(client: ClickHouseClient, database: string, orgId: string, owner?: string): AnalyticsClient {
  const table = (name: string) => (name.includes('.') ? name : `${database}.${name}`);
  const bind = (sql: string, params?: Record<string, unknown>) => {
    if (!sql.includes(ORG_PARAM)) {
      throw new TenantlessQueryError(
        `analytics query${owner ? ` from ${owner}` : ''} must filter on org_id = ${ORG_PARAM}; got: ${sql.slice(0, 120)}`,
      );
    }
    if (params && 'org_id' in params && params.org_id !== orgId) {
      throw new TenantlessQueryError('org_id is bound by the kernel and cannot be passed as a parameter');
    }
    return { query: sql.replaceAll('{db}', database), query_params: { ...params, org_id: orgId } };
  };
  return {
    orgId,
    table,
    async query<T>(sql: string, params?: Record<string, unknown>) {
      const r = await client.query({ ...bind(sql, params), format: 'JSONEachRow' });
      return (await r.json()) as T[];
    },
    async command(sql: string, params?: Record<string, unknown>) {
      await client.command(bind(sql, params));
    },
    async insert(tableName: string, rows: Record<string, unknown>[]) {
      if (rows.length === 0) return;
      await client.insert({ table: table(tableName), values: rows.map((r) => ({ ...r, org_id: orgId })), format: 'JSONEachRow' });
    },
  };
}
