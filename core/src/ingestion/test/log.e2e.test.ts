/**
 * The durable log's contract through HTTP, on the embedded stores: a 2xx comes before the event
 * is in ClickHouse (it becomes visible when the loader has loaded it), a full backlog is a 503
 * with Retry-After that loses nothing, /ready, /metrics and the quality route show the backlog
 * and the loader's lag, and event ids are per org.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import { extraModules, invocation } from './helpers.ts';

let be: TestBackend;
let other: TestOrg;
const hooks = new Map<string, string>();
const LIMIT = 200;

const post = (org: TestOrg, path: string, body: unknown) =>
  be.kernel.app.inject({ method: 'POST', url: path, headers: { authorization: `Bearer ${hooks.get(org.id)}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });

async function storedIds(orgId: string): Promise<Map<string, number>> {
  const s = be.kernel.services;
  const rs = await s.analytics.client.query({ query: `SELECT event_id, count() AS n FROM ${s.analytics.database}.events WHERE org_id = {org:String} GROUP BY event_id`, query_params: { org: orgId }, format: 'JSONEachRow' });
  return new Map(((await rs.json()) as Array<{ event_id: string; n: string | number }>).map((r) => [r.event_id, Number(r.n)]));
}

const status = () => be.kernel.app.ingestion.status() as { backlog_rows: number; full: boolean; loader_lag_ms: number };

async function waitLoaded(timeoutMs = 30_000) {
  const t0 = Date.now();
  while (status().backlog_rows > 0) {
    if (Date.now() - t0 > timeoutMs) throw new Error('loader did not catch up');
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  be = await startTestBackend({
    modules: extraModules(),
    // the loader waits 3 s for company after the first row, so the backlog fills while it waits
    config: { ingestion: { ackAfter: 'log', maxBacklogRows: LIMIT, loadDelayMs: 3000, loadBatchSize: 1_000_000 } },
  });
  other = await be.createOrg('other-org');
  hooks.set(be.org.id, await be.org.hookToken());
  hooks.set(other.id, await other.hookToken());
}, 60_000);
afterAll(async () => be?.close());

describe('durable ingestion log', () => {
  it('answers 2xx from the log, refuses with 503 + Retry-After when the backlog is full, and loses nothing', async () => {
    const sent = new Map<string, Record<string, unknown>>();
    const acked = new Set<string>();
    // a random mix of singles and small batches, up to the limit
    let n = 0;
    while (n < LIMIT) {
      const size = Math.min(LIMIT - n, Math.random() < 0.5 ? 1 : 1 + Math.floor(Math.random() * 20));
      const evs = Array.from({ length: size }, () => invocation({ event_id: randomUUID(), user_id: `u-${Math.floor(Math.random() * 5)}` }));
      for (const e of evs) sent.set(e.event_id as string, e);
      const r = size === 1 ? await post(be.org, '/api/v1/events', evs[0]) : await post(be.org, '/api/v1/events/batch', { events: evs });
      expect(r.statusCode, r.body).toBe(size === 1 ? 202 : 200);
      if (size > 1) expect(r.json().accepted).toBe(size);
      for (const e of evs) acked.add(e.event_id as string);
      n += size;
    }
    // answered, but not loaded yet: nothing is in ClickHouse while the loader gathers
    expect((await storedIds(be.org.id)).size).toBe(0);
    expect(status()).toMatchObject({ backlog_rows: LIMIT, full: true });

    // full: a single and a batch are refused as a whole, with Retry-After, naming the backlog
    const refusedSingle = invocation({ event_id: randomUUID() });
    const r1 = await post(be.org, '/api/v1/events', refusedSingle);
    expect(r1.statusCode).toBe(503);
    expect(r1.headers['retry-after']).toBeDefined();
    expect(r1.json().error).toMatchObject({ code: 'ingestion_backlog_full', details: { backlog_rows: LIMIT, limit: LIMIT } });
    const refusedBatch = Array.from({ length: 5 }, () => invocation({ event_id: randomUUID() }));
    const r2 = await post(other, '/api/v1/events/batch', { events: refusedBatch });
    expect(r2.statusCode).toBe(503);
    expect(r2.json().error.code).toBe('ingestion_backlog_full');

    // the operator's view: /ready takes the node out of rotation, /metrics and the quality route show backlog and lag
    const ready = await be.kernel.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ parts: { ingestion: 'backlog_full' }, failing: ['ingestion'], ingestion: { backlog_rows: LIMIT, backlog_limit: LIMIT, full: true } });
    const metrics = (await be.kernel.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${be.client.token}` } })).body;
    expect(metrics).toMatch(new RegExp(`^orrery_ingest_backlog_rows ${LIMIT}$`, 'm'));
    expect(metrics).toMatch(/^orrery_ingest_loader_lag_seconds \d/m);
    const quality = await be.client.get('/api/v1/ingestion/quality');
    expect(quality.status).toBe(200);
    expect(quality.body.ingestion).toMatchObject({ commit: 'log', backlog_rows: LIMIT, full: true });
    expect(quality.body.ingestion.loader_lag_ms).toBeGreaterThan(0);

    // the loader catches up; every answered event is stored once, the refused ones are not stored
    await waitLoaded();
    let stored = await storedIds(be.org.id);
    expect(new Set(stored.keys())).toEqual(acked);
    expect([...stored.values()].every((c) => c === 1)).toBe(true);
    expect(stored.has(refusedSingle.event_id as string)).toBe(false);
    expect((await be.kernel.app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);

    // the refused events, sent again after Retry-After, are taken
    expect((await post(be.org, '/api/v1/events', refusedSingle)).statusCode).toBe(202);
    const again = await post(other, '/api/v1/events/batch', { events: refusedBatch });
    expect(again.json().accepted).toBe(5);

    // resends are duplicates from the log's id index, before and after loading
    const sample = [...acked].slice(0, 25).map((id) => sent.get(id));
    const dup = await post(be.org, '/api/v1/events/batch', { events: sample });
    expect(dup.json().results.every((r: { status: string }) => r.status === 'duplicate')).toBe(true);
    expect((await post(be.org, '/api/v1/events', sent.get([...acked][0]!))).statusCode).toBe(409);

    // the same ids in another org are that org's own events, not duplicates
    const sameIds = [...acked].slice(0, 40).map((id) => ({ ...sent.get(id)!, agent_name: 'other-agent' }) as Record<string, unknown>);
    const theirs = await post(other, '/api/v1/events/batch', { events: sameIds });
    expect(theirs.json().accepted).toBe(40);
    await waitLoaded();
    stored = await storedIds(be.org.id);
    expect(stored.size).toBe(acked.size + 1);
    expect([...stored.values()].every((c) => c === 1)).toBe(true);
    const otherStored = await storedIds(other.id);
    expect(new Set(otherStored.keys())).toEqual(new Set([...sameIds.map((e) => e.event_id), ...refusedBatch.map((e) => e.event_id)]));
  }, 60_000);
});
