/**
 * The fold's cap with the embedded engine: it stops a short grace behind the clock and before
 * the oldest write still under way, instead of a fixed 2 s behind the clock. Checked against
 * the raw rows themselves: after every fold, the rollup holds exactly the source rows with
 * `inserted_at` at or below its watermark (counted with plain SQL over the events, never
 * with the rollup's own statements), including while a long insert is running.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import { definePlugin, defineRollup, rollupDdl } from '@orrery/plugin-sdk';

const COUNTS = defineRollup({
  name: 'counts',
  source: 'events',
  filter: "event_type = 'agent_invocation'",
  dimensions: ['agent_name'],
  leading: ['agent_name'],
  measures: [{ name: 'n', type: 'SimpleAggregateFunction(sum, UInt64)', expr: 'count()' }],
  tables: [{ table: 'inflight_counts_1m', grain: 'minute', dims: ['agent_name'] }],
});

const probe = definePlugin({
  id: 'inflight-probe',
  version: '1.0.0',
  sdk: '^1.0.0 || ^2.0.0',
  title: 'In-flight probe',
  description: 'counts per agent through a declared rollup',
  routePrefix: 'inflight-probe',
  permissions: {},
  migrations: { clickhouse: [{ name: '0001_counts', statements: rollupDdl(COUNTS) }] },
  rollups: [COUNTS],
  register() {},
});

describe('the fold stops before writes under way (embedded engine)', () => {
  let b: TestBackend;
  const GRACE = 60_000; // what a server would wait: far longer than this test, so only the embedded rule can fold anything
  beforeAll(async () => {
    b = await startTestBackend({ plugins: [probe], config: { rollups: { graceMs: GRACE, embeddedGraceMs: 100 } } });
  });
  afterAll(() => b?.close());

  const scalar = async (sql: string, params: Record<string, unknown> = {}) => {
    const a = b.kernel.services.analytics;
    const rs = await a.client.query({ query: sql.replaceAll('{db}', a.database), query_params: { o: b.org.id, ...params }, format: 'JSONEachRow' });
    return Number(Object.values(((await rs.json()) as Array<Record<string, string>>)[0]!)[0]);
  };
  /** the rollup's total against the raw rows at or below the watermark */
  const expectExact = async (label: string) => {
    const w = await b.kernel.services.rollups.watermark('inflight-probe', 'counts');
    const folded = await scalar(`SELECT sum(n) FROM {db}.inflight_counts_1m WHERE org_id = {o:String}`);
    const raw = await scalar(
      `SELECT count() FROM {db}.events WHERE org_id = {o:String} AND event_type = 'agent_invocation' AND inserted_at <= fromUnixTimestamp64Milli({w:Int64}, 'UTC')`,
      { w },
    );
    expect(folded, label).toBe(raw);
    return { w, folded };
  };
  const bulkInsert = (rows: number) =>
    b.kernel.services.analytics.client.command({
      query: `INSERT INTO ${b.kernel.services.analytics.database}.events (org_id, event_id, event_type, timestamp, user_id, agent_name)
              SELECT {o:String}, generateUUIDv4(), 'agent_invocation', now64(3), concat('u', toString(number % 50)), concat('agent-', toString(number % 3))
              FROM numbers({n:UInt64})`,
      query_params: { o: b.org.id, n: rows },
    });

  it('folds rows written a moment ago, where the server grace would leave them for a minute', async () => {
    await bulkInsert(1_000);
    await new Promise((r) => setTimeout(r, 150));
    const before = Date.now();
    const [r] = await b.foldRollups();
    expect(r!.rows).toBe(1_000);
    expect(r!.to_ms).toBeGreaterThan(before - GRACE);
    await expectExact('after the first fold');
    const status = (await b.client.get('/api/v1/admin/materialized-views')).body;
    expect(status.grace_ms).toBe(100);
    expect(status.grace).toMatch(/^embedded/);
    expect(status.peak_lag_ms.samples + status.lag_ms.samples).toBeGreaterThan(0);
  });

  it('tracks the writes under way, the oldest first', async () => {
    const analytics = b.kernel.services.analytics;
    expect(analytics.oldestWriteStartedAt!()).toBeNull();
    const t = Date.now();
    const first = bulkInsert(20_000);
    const second = bulkInsert(10);
    const oldest = analytics.oldestWriteStartedAt!();
    expect(oldest).toBeGreaterThanOrEqual(t);
    expect(oldest).toBeLessThanOrEqual(Date.now());
    await first;
    await second;
    expect(analytics.oldestWriteStartedAt!()).toBeNull();
  });

  it('stops 1 ms before the oldest write under way, and takes its rows once it is done', async () => {
    // chDB runs one statement at a time, so a real insert cannot be caught half way by the fold's
    // reads: a write that began at `under` and is still under way is stood for by the tracker's answer
    const analytics = b.kernel.services.analytics;
    await new Promise((r) => setTimeout(r, 200));
    const under = Date.now();
    const rows = 2_000;
    await bulkInsert(rows); // its rows: inserted_at ≥ under
    await new Promise((r) => setTimeout(r, 300)); // past the 100 ms grace: only the rule holds them back
    const real = analytics.oldestWriteStartedAt!;
    (analytics as { oldestWriteStartedAt?: () => number | null }).oldestWriteStartedAt = () => under;
    let during;
    try {
      [during] = await b.foldRollups();
    } finally {
      (analytics as { oldestWriteStartedAt?: () => number | null }).oldestWriteStartedAt = real;
    }
    expect(during!.to_ms).toBe(under - 1);
    const held = await expectExact('fold with a write under way');
    expect(held.folded).toBe(1_000 + 20_000 + 10); // the earlier tests' rows, not the new ones
    const [after] = await b.foldRollups();
    expect(after!.to_ms).toBeGreaterThan(under);
    const { folded } = await expectExact('fold after it');
    expect(folded).toBe(1_000 + 20_000 + 10 + rows);
  });
});
