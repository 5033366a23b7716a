/**
 * Ingestion's transactional data, in each org's PostgreSQL schema: the
 * quarantine, the ingestion settings (privacy) and the org's model prices.
 * Settings are cached per org for a few seconds, so a change made on one node
 * reaches the others without a restart and without a query per event.
 */
import type { Knex } from 'knex';
import { randomUUID } from 'node:crypto';
import type { Org, PgMigration } from '@orrery/plugin-sdk';
import type { Storage } from '../types.ts';
import { PriceTable, type ModelPrice } from './cost.ts';
import { DEFAULT_PRIVACY, type PrivacySettings } from './privacy.ts';
import type { Problem } from './validate.ts';

export const orgMigrations: PgMigration[] = [
  {
    name: 'ingestion_0001_quarantine_settings_prices',
    async up(knex: Knex, schema: string) {
      await knex.schema.withSchema(schema).createTable('ingestion_quarantine', (t) => {
        t.string('id', 36).primary();
        t.string('event_id', 128).nullable();
        t.string('event_type', 64).nullable();
        t.string('source', 16).notNullable();
        t.integer('schema_version').notNullable();
        t.jsonb('payload').notNullable();
        t.jsonb('errors').notNullable();
        t.string('status', 16).notNullable().defaultTo('pending');
        t.string('resolution', 200).nullable();
        t.timestamp('received_at', { useTz: true }).notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable();
        t.index(['status', 'received_at']);
        t.index(['event_id']);
      });
      await knex.schema.withSchema(schema).createTable('ingestion_settings', (t) => {
        t.string('key', 64).primary();
        t.jsonb('value').notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable();
      });
      await knex.schema.withSchema(schema).createTable('ingestion_model_prices', (t) => {
        t.string('id', 36).primary();
        t.string('model_pattern', 200).notNullable();
        t.date('effective_from').notNullable();
        t.double('input_per_mtok').notNullable();
        t.double('output_per_mtok').notNullable();
        t.double('cached_input_per_mtok').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
      });
    },
  },
];

export interface QuarantineItem {
  id: string;
  event_id: string | null;
  event_type: string | null;
  source: string;
  schema_version: number;
  payload: unknown;
  errors: Problem[];
  status: 'pending' | 'replayed' | 'discarded';
  resolution: string | null;
  received_at: string;
  updated_at: string;
}

export interface NewQuarantine {
  event_id: string | null;
  event_type: string | null;
  source: string;
  schema_version: number;
  payload: unknown;
  errors: Problem[];
}

interface OrgSettings {
  privacy: PrivacySettings;
  prices: PriceTable;
  loadedAt: number;
}

const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());

export class IngestionOrgStore {
  private cache = new Map<string, OrgSettings>();
  private loading = new Map<string, Promise<OrgSettings>>();

  constructor(private readonly storage: Storage, private readonly cacheMs = 5000) {}

  private t(org: Org, table: string) {
    return this.storage.forOrg(org).table(table);
  }

  /** Synchronous while the cached copy is fresh (every request but one per org and cacheMs). */
  settings(org: Org): OrgSettings | Promise<OrgSettings> {
    const hit = this.cache.get(org.id);
    if (hit && Date.now() - hit.loadedAt < this.cacheMs) return hit;
    let p = this.loading.get(org.id);
    if (!p) {
      p = this.load(org).finally(() => this.loading.delete(org.id));
      this.loading.set(org.id, p);
    }
    // a stale copy is better than stalling ingestion behind a settings read
    if (hit) {
      p.catch(() => undefined);
      return hit;
    }
    return p;
  }

  private async load(org: Org): Promise<OrgSettings> {
    const [privacyRow, prices] = await Promise.all([
      this.t(org, 'ingestion_settings').where({ key: 'privacy' }).first(),
      this.listPrices(org),
    ]);
    const privacy = privacyRow ? { ...DEFAULT_PRIVACY, ...json(privacyRow.value) } : DEFAULT_PRIVACY;
    const s = { privacy, prices: new PriceTable(prices), loadedAt: Date.now() };
    this.cache.set(org.id, s);
    return s;
  }

  forget(orgId: string) {
    this.cache.delete(orgId);
  }

  async setPrivacy(org: Org, p: PrivacySettings) {
    const now = new Date();
    await this.t(org, 'ingestion_settings').insert({ key: 'privacy', value: JSON.stringify(p), updated_at: now }).onConflict('key').merge();
    this.forget(org.id);
  }

  async listPrices(org: Org): Promise<ModelPrice[]> {
    const rows = await this.t(org, 'ingestion_model_prices').select('*').orderBy('created_at');
    return rows.map((r: Record<string, unknown>) => ({
      id: r.id as string,
      model_pattern: r.model_pattern as string,
      effective_from: iso(r.effective_from).slice(0, 10),
      input_per_mtok: Number(r.input_per_mtok),
      output_per_mtok: Number(r.output_per_mtok),
      cached_input_per_mtok: Number(r.cached_input_per_mtok),
      source: 'org' as const,
    }));
  }

  async addPrice(org: Org, p: Omit<ModelPrice, 'id' | 'source'>): Promise<ModelPrice> {
    const row = { id: randomUUID(), ...p, created_at: new Date() };
    await this.t(org, 'ingestion_model_prices').insert(row);
    this.forget(org.id);
    return { id: row.id, model_pattern: p.model_pattern, effective_from: p.effective_from, input_per_mtok: p.input_per_mtok, output_per_mtok: p.output_per_mtok, cached_input_per_mtok: p.cached_input_per_mtok, source: 'org' };
  }

  async deletePrice(org: Org, id: string): Promise<boolean> {
    // counted first: what delete() returns differs between pg and PGlite drivers
    const found = await this.t(org, 'ingestion_model_prices').where({ id }).first();
    if (!found) return false;
    await this.t(org, 'ingestion_model_prices').where({ id }).delete();
    this.forget(org.id);
    return true;
  }

  async quarantine(org: Org, items: NewQuarantine[]): Promise<string[]> {
    if (items.length === 0) return [];
    const now = new Date();
    const rows = items.map((i) => ({
      id: randomUUID(),
      event_id: i.event_id?.slice(0, 128) ?? null,
      event_type: i.event_type?.slice(0, 64) ?? null,
      source: i.source,
      schema_version: i.schema_version,
      payload: JSON.stringify(i.payload ?? null),
      errors: JSON.stringify(i.errors),
      status: 'pending',
      received_at: now,
      updated_at: now,
    }));
    for (let i = 0; i < rows.length; i += 500) await this.t(org, 'ingestion_quarantine').insert(rows.slice(i, i + 500));
    return rows.map((r) => r.id);
  }

  private toItem(r: Record<string, unknown>): QuarantineItem {
    return {
      id: r.id as string,
      event_id: (r.event_id as string) ?? null,
      event_type: (r.event_type as string) ?? null,
      source: r.source as string,
      schema_version: Number(r.schema_version),
      payload: json(r.payload),
      errors: json(r.errors) as Problem[],
      status: r.status as QuarantineItem['status'],
      resolution: (r.resolution as string) ?? null,
      received_at: iso(r.received_at),
      updated_at: iso(r.updated_at),
    };
  }

  async listQuarantine(org: Org, q: { status?: string; limit: number; before?: string; event_type?: string }) {
    let b = this.t(org, 'ingestion_quarantine').select('*').orderBy([{ column: 'received_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(q.limit);
    if (q.status) b = b.where({ status: q.status });
    if (q.event_type) b = b.where({ event_type: q.event_type });
    if (q.before) b = b.where('received_at', '<', new Date(q.before));
    const rows = await b;
    const counts = await this.t(org, 'ingestion_quarantine').select('status').count({ n: '*' }).groupBy('status');
    return {
      items: rows.map((r: Record<string, unknown>) => this.toItem(r)),
      counts: Object.fromEntries(counts.map((c: Record<string, unknown>) => [c.status as string, Number(c.n)])),
    };
  }

  async getQuarantine(org: Org, id: string): Promise<QuarantineItem | null> {
    const r = await this.t(org, 'ingestion_quarantine').where({ id }).first();
    return r ? this.toItem(r) : null;
  }

  async updateQuarantine(org: Org, id: string, patch: Partial<Pick<QuarantineItem, 'payload' | 'errors' | 'status' | 'resolution' | 'event_id' | 'event_type' | 'schema_version'>>) {
    const row: Record<string, unknown> = { updated_at: new Date() };
    for (const [k, v] of Object.entries(patch)) row[k] = k === 'payload' || k === 'errors' ? JSON.stringify(v) : v;
    await this.t(org, 'ingestion_quarantine').where({ id }).update(row);
  }

  async deleteUserFromQuarantine(org: Org, userId: string): Promise<number> {
    // payload is JSON: match the user_id field, not a substring of other text
    const where = (b: Knex.QueryBuilder) => b.whereRaw(`payload->>'user_id' = ?`, [userId]);
    const [{ n }] = await where(this.t(org, 'ingestion_quarantine')).count({ n: '*' });
    await where(this.t(org, 'ingestion_quarantine')).delete();
    return Number(n);
  }
}
