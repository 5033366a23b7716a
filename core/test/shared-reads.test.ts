import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';

/**
 * Identical analytics reads that overlap in time run once (core/src/storage/clickhouse.ts):
 * the callers share the answer, each with its own copy, and a read asked for after a write
 * returned never joins one that started before it.
 */
describe('shared analytics reads', () => {
  let b: TestBackend;
  let other: TestOrg;
  let analytics: any;
  const SQL = 'SELECT sum(n) AS total, count() AS rows FROM {db}.shared_reads_probe WHERE org_id = {org_id:String}';
  /** queries that reached the store, and a gate that holds them until opened */
  let reached: string[] = [];
  let gate: Promise<void> | null = null;
  let realQuery: (p: any) => Promise<any>;

  beforeAll(async () => {
    b = await startTestBackend();
    other = await b.createOrg('shared-reads-other');
    analytics = b.kernel.services.analytics;
    await analytics.client.command({ query: `CREATE TABLE IF NOT EXISTS ${analytics.database}.shared_reads_probe (org_id String, n UInt32) ENGINE = MergeTree ORDER BY org_id` });
    realQuery = analytics.client.query.bind(analytics.client);
    analytics.client.query = async (p: any) => {
      if (String(p.query).includes('shared_reads_probe')) {
        reached.push(p.query_params?.org_id);
        if (gate) await gate;
      }
      return realQuery(p);
    };
  });
  afterAll(async () => {
    if (analytics) {
      analytics.client.query = realQuery;
      await analytics.client.command({ query: `DROP TABLE IF EXISTS ${analytics.database}.shared_reads_probe` });
    }
    await b?.close();
  });

  const held = () => {
    let open!: () => void;
    gate = new Promise<void>((r) => (open = r));
    return () => { gate = null; open(); };
  };

  it('runs an identical read once while it is under way, and gives each caller its own rows', async () => {
    const a = analytics.forOrg(b.org.id);
    await a.insert('shared_reads_probe', [{ n: 2 }, { n: 3 }]);
    reached = [];
    const release = held();
    const first = a.query(SQL);
    const second = analytics.forOrg(b.org.id, 'another-plugin').query(SQL);
    release();
    const [x, y] = await Promise.all([first, second]);
    expect(reached).toEqual([b.org.id]);
    expect(x).toEqual([{ total: 5, rows: 2 }]);
    expect(y).toEqual(x);
    x[0].total = 99; // a caller reshaping its rows does not touch the other's
    expect(y[0].total).toBe(5);
  });

  it('never shares between orgs', async () => {
    await analytics.forOrg(other.id).insert('shared_reads_probe', [{ n: 40 }]);
    reached = [];
    const release = held();
    const mine = analytics.forOrg(b.org.id).query(SQL);
    const theirs = analytics.forOrg(other.id).query(SQL);
    release();
    expect(await mine).toEqual([{ total: 5, rows: 2 }]);
    expect(await theirs).toEqual([{ total: 40, rows: 1 }]);
    expect(reached.sort()).toEqual([b.org.id, other.id].sort());
  });

  it('does not join a read that started before a write the caller saw return', async () => {
    const a = analytics.forOrg(b.org.id);
    reached = [];
    const release = held();
    const before = a.query(SQL); // under way, held
    await a.insert('shared_reads_probe', [{ n: 10 }]);
    const after = a.query(SQL);
    expect(reached).toEqual([b.org.id, b.org.id]); // the second read went to the store itself
    release();
    const [old, fresh] = await Promise.all([before, after]);
    expect(fresh).toEqual([{ total: 15, rows: 3 }]);
    expect([5, 15]).toContain(old[0].total); // the store decides what a read under way sees
  });
});
