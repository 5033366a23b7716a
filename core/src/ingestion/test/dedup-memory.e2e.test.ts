/**
 * Embedded mode keeps dedup claims in memory only while an event is on its way to the log: once
 * it is committed there the claim is dropped, and the log's id index and then the stored-ids
 * filter (ids loaded by this process included) answer. The test checks the claims are gone,
 * prunes the log, as time would, and checks
 * that resends are still duplicates, stored once, while new ids are taken.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import { extraModules, invocation } from './helpers.ts';

let be: TestBackend;
let hook = '';

const post = (path: string, body: unknown) =>
  be.kernel.app.inject({ method: 'POST', url: path, headers: { authorization: `Bearer ${hook}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });

async function storedCount(ids: string[]): Promise<Map<string, number>> {
  const s = be.kernel.services;
  const rs = await s.analytics.client.query({
    query: `SELECT event_id, count() AS n FROM ${s.analytics.database}.events WHERE org_id = {org:String} AND event_id IN {ids:Array(String)} GROUP BY event_id`,
    query_params: { org: be.org.id, ids },
    format: 'JSONEachRow',
  });
  return new Map(((await rs.json()) as Array<{ event_id: string; n: string | number }>).map((r) => [r.event_id, Number(r.n)]));
}

beforeAll(async () => {
  be = await startTestBackend({ modules: extraModules() });
  hook = await be.org.hookToken();
}, 60_000);
afterAll(async () => be?.close());

describe('dedup without remembering every id in memory', () => {
  it('answers resends as duplicates after the claims and the log have forgotten them', async () => {
    const evs = Array.from({ length: 30 }, () => invocation({ event_id: randomUUID() }));
    const single = evs.slice(0, 5), batch = evs.slice(5);
    for (const e of single) expect((await post('/api/v1/events', e)).statusCode).toBe(202);
    expect((await post('/api/v1/events/batch', { events: batch })).json().accepted).toBe(batch.length);

    // the claims went with the commit: the log's id index answers from the append on
    const s = be.kernel.services;
    await new Promise((r) => setImmediate(r));
    for (const e of evs) expect(await s.kv.get(`ingest:ev:${be.org.id}:${e.event_id}`)).toBeNull();
    for (const e of single) expect((await post('/api/v1/events', e)).statusCode).toBe(409);
    expect((await post('/api/v1/events/batch', { events: batch })).json().accepted).toBe(0);

    // what time does: the log prunes its loaded entries and their ids
    const log = be.kernel.app.ingestion.log;
    expect(await log.prune(Date.now() + 24 * 3_600_000)).toBeGreaterThan(0);
    for (const e of evs) expect(log.has(be.org.id, e.event_id)).toBe(false);

    for (const e of single) expect((await post('/api/v1/events', e)).statusCode).toBe(409);
    const again = await post('/api/v1/events/batch', { events: batch });
    expect(again.json().accepted).toBe(0);
    expect(again.json().results.every((r: { status: string }) => r.status === 'duplicate')).toBe(true);
    const fresh = invocation({ event_id: randomUUID() });
    expect((await post('/api/v1/events', fresh)).statusCode).toBe(202);

    const counts = await storedCount([...evs.map((e) => e.event_id as string), fresh.event_id as string]);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(counts.size).toBe(evs.length + 1);
  });
});
