/**
 * Two API nodes sharing one Redis (the scaled-out kv) and one event store:
 * duplicates across nodes, a node dying between claim and commit, and an
 * insert whose outcome is unknown. The nodes are two pipelines' worth of
 * dedup + group commit in this process; Redis and chDB are real.
 * Needs Redis (ORRERY_TEST_REDIS_URL, default redis://127.0.0.1:6379).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { Redis } from 'ioredis';
import { redisKv } from '../../storage/kv.ts';
import { renderDdl } from '../../storage/migrations.ts';
import { events as eventsTable } from '../migrations/0001_events.ts';
import { Deduper, type EventKey } from '../dedup.ts';
import { GroupCommitter } from '../commit.ts';
import type { KeyValueStore } from '../../types.ts';

const REDIS = process.env.ORRERY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `orrery-test-nodes:${randomUUID().slice(0, 8)}:`;
let available = true;
try {
  const r = new Redis(REDIS, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  await r.connect();
  await r.quit();
} catch {
  available = false;
}

let dir: string;
let ch: ClickHouseClient;
const kvs: KeyValueStore[] = [];

async function stored(orgId: string, keys: EventKey[]) {
  const rs = await ch.query({ query: 'SELECT event_id FROM n.events WHERE org_id = {o:String} AND event_id IN {ids:Array(String)}', query_params: { o: orgId, ids: keys.map((k) => k.id) }, format: 'JSONEachRow' });
  return new Set(((await rs.json()) as Array<{ event_id: string }>).map((r) => r.event_id));
}

function node(name: string, staleMs = 60_000) {
  const kv = redisKv(REDIS, prefix);
  kvs.push(kv);
  const deduper = new Deduper(kv, { nodeId: name, ttlSeconds: 600, staleMs, stored });
  let failInsert = false;
  const committer = new GroupCommitter<{ org_id: string; event_id: string; event_type: string; timestamp: string; user_id: string }>({
    batchSize: 100, maxDelayMs: 2, maxConcurrent: 1,
    async insert(rows) {
      if (failInsert) throw new Error('connection reset during insert');
      await ch.insert({ table: 'n.events', values: rows, format: 'JSONEachRow', clickhouse_settings: { date_time_input_format: 'best_effort' } });
    },
  });
  return {
    deduper,
    committer,
    breakInserts(v: boolean) { failInsert = v; },
    /** what the pipeline does with one event: claim, then commit if new */
    async ingest(id: string) {
      const ts = '2026-11-01T10:00:00.000Z';
      const [claim] = await deduper.claim('org1', [{ id, type: 'command', ts: Date.parse(ts) }]);
      if (claim !== 'new') return claim;
      try {
        await committer.submit([{ org_id: 'org1', event_id: id, event_type: 'command', timestamp: ts, user_id: 'u' }]);
        return 'accepted';
      } catch {
        await deduper.markUncertain('org1', [{ id, type: 'command', ts: Date.parse(ts) }]);
        return 'retry';
      }
    },
  };
}

const count = async (id: string) => Number(((await (await ch.query({ query: 'SELECT count() AS n FROM n.events WHERE event_id = {id:String}', query_params: { id }, format: 'JSONEachRow' })).json()) as Array<{ n: string }>)[0]!.n);

beforeAll(async () => {
  if (!available) return;
  dir = mkdtempSync(join(tmpdir(), 'orrery-nodes-'));
  ch = createClient({ connection: createChdbConnection({ path: dir }) as any } as any);
  await ch.command({ query: 'CREATE DATABASE IF NOT EXISTS n' });
  for (const s of eventsTable.statements) await ch.command({ query: renderDdl(s, 'n', null) });
});
afterAll(async () => {
  for (const kv of kvs) {
    const r = (kv as unknown as { redis: Redis }).redis;
    const keys = await r.keys(`${prefix}*`);
    if (keys.length) await r.del(...keys.map((k) => k.slice(prefix.length)));
    await kv.close();
  }
  await ch?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!available)('two API nodes on one Redis', () => {
  it('answers duplicate on node B for an event committed on node A, also concurrently', async () => {
    const a = node('a'), b = node('b');
    expect(await a.ingest('e1')).toBe('accepted');
    expect(await b.ingest('e1')).toBe('duplicate');
    const id = randomUUID();
    const results = await Promise.all([a.ingest(id), b.ingest(id), a.ingest(id), b.ingest(id)]);
    expect(results.filter((r) => r === 'accepted')).toHaveLength(1);
    // the losers are told "duplicate" (stored) or "in flight, retry" — never a silent loss
    expect(results.every((r) => r === 'accepted' || r === 'duplicate' || r === 'in_flight')).toBe(true);
    expect(await count(id)).toBe(1);
  });

  it('a node dying between claim and commit: the resend is "retry" while fresh, then taken over, stored once', async () => {
    const a = node('a', 300), b = node('b', 300);
    const id = randomUUID();
    // node A claims and dies before its insert
    expect(await a.deduper.claim('org1', [{ id, type: 'command', ts: Date.parse('2026-11-01T10:00:00.000Z') }])).toEqual(['new']);
    expect(await b.ingest(id)).toBe('in_flight');
    await new Promise((r) => setTimeout(r, 350));
    expect(await b.ingest(id)).toBe('accepted');
    expect(await a.ingest(id)).toBe('duplicate');
    expect(await count(id)).toBe(1);
  });

  it('an insert that failed leaves the id open for the resend', async () => {
    const a = node('a'), b = node('b');
    const id = randomUUID();
    a.breakInserts(true);
    expect(await a.ingest(id)).toBe('retry');
    expect(await b.ingest(id)).toBe('accepted');
    expect(await a.ingest(id)).toBe('duplicate');
    expect(await count(id)).toBe(1);
  });
});
