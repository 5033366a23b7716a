import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import { withInsertSettings } from './service.ts';

// A fold publishes with a deduplication token. Given as a client setting, embedded chDB keeps it
// for the rest of the session, and every later insert into a table that saw that token is
// silently dropped; in the statement it holds for that insert only.
describe('settings of one rollup insert', () => {
  let b: TestBackend;
  beforeAll(async () => {
    b = await startTestBackend();
  });
  afterAll(() => b.close());

  it('puts the settings between the column list and the SELECT', () => {
    expect(withInsertSettings('INSERT INTO {db}.t_1h (a, b) SELECT a, b FROM {db}.t_1m__delta', { insert_deduplication_token: "x:'y" })).toBe(
      "INSERT INTO {db}.t_1h (a, b) SETTINGS insert_deduplication_token = 'x:\\'y' SELECT a, b FROM {db}.t_1m__delta",
    );
    expect(() => withInsertSettings('ALTER TABLE t DELETE WHERE 1', {})).toThrow(/INSERT/);
  });

  it('deduplicates the token’s insert and leaves later inserts alone', async () => {
    const a = b.kernel.services.analytics;
    const t = `${a.database}.settings_probe`;
    await a.client.command({ query: `CREATE TABLE ${t} (x UInt32) ENGINE = MergeTree ORDER BY x SETTINGS non_replicated_deduplication_window = 100` });
    const count = async () => Number(((await (await a.client.query({ query: `SELECT count() AS n FROM ${t}`, format: 'JSONEachRow' })).json()) as Array<{ n: number }>)[0]!.n);
    await a.client.command({ query: withInsertSettings(`INSERT INTO ${t} (x) SELECT 1`, { insert_deduplication_token: 'fold-1' }) });
    await a.client.command({ query: withInsertSettings(`INSERT INTO ${t} (x) SELECT 1`, { insert_deduplication_token: 'fold-1' }) });
    expect(await count()).toBe(1);
    await a.client.command({ query: `INSERT INTO ${t} (x) SELECT 2` });
    await a.client.command({ query: `INSERT INTO ${t} (x) SELECT 3` });
    expect(await count()).toBe(3);
  });
});
