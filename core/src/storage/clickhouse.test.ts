/**
 * The embedded engine runs with core/src/storage/chdb.xml: merged-away parts are removed within
 * seconds (they held memory for minutes under the default cleanup back-off), its caches have
 * ceilings far below chDB's 5 GiB defaults, and the engine can be closed and opened again on
 * another directory in the same process.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAnalytics } from './clickhouse.ts';

async function open() {
  const dataDir = mkdtempSync(join(tmpdir(), 'orrery-ch-config-'));
  const analytics = await openAnalytics({ clickhouseUrl: '', dataDir, database: 'cfgtest', cluster: '' });
  const rows = async <T>(query: string) => (await (await analytics.client.query({ query, format: 'JSONEachRow' })).json()) as T[];
  return { analytics, rows, done: async () => { await analytics.close(); rmSync(dataDir, { recursive: true, force: true }); } };
}

describe('embedded ClickHouse configuration', () => {
  it('removes outdated parts within seconds of a merge', { timeout: 90_000 }, async () => {
    const { analytics, rows, done } = await open();
    try {
      await analytics.client.command({ query: 'CREATE TABLE cfgtest.t (k UInt32, v String) ENGINE = MergeTree ORDER BY k' });
      const inserts = 20 + Math.floor(Math.random() * 20);
      const inserted: number[] = [];
      for (let i = 0; i < inserts; i++) {
        const batch = Array.from({ length: 1 + Math.floor(Math.random() * 5) }, () => ({ k: Math.floor(Math.random() * 1e6), v: Math.random().toString(36) }));
        inserted.push(...batch.map((r) => r.k));
        await analytics.client.insert({ table: 'cfgtest.t', values: batch, format: 'JSONEachRow' });
      }
      await analytics.client.command({ query: 'OPTIMIZE TABLE cfgtest.t FINAL' });
      const parts = async () => (await rows<{ active: number; n: number | string }>(`SELECT active, count() AS n FROM system.parts WHERE database = 'cfgtest' AND table = 't' GROUP BY active`));
      const outdated = async () => Number((await parts()).find((p) => !p.active)?.n ?? 0);
      // every insert's part is outdated once merged into one; the engine's default back-off would
      // keep them for 30 s or more, the configured cleanup passes every 2-10 s
      const t0 = Date.now();
      while ((await outdated()) > 0 && Date.now() - t0 < 25_000) await new Promise((r) => setTimeout(r, 500));
      expect(await outdated()).toBe(0);
      expect(Number((await parts()).find((p) => p.active)?.n)).toBe(1);
      // nothing lost or doubled by the merge and the cleanup: every inserted row once (a plain MergeTree keeps repeated keys)
      const stored = await rows<{ k: number }>('SELECT k FROM cfgtest.t ORDER BY k');
      expect(stored.map((r) => r.k)).toEqual(inserted.sort((a, b) => a - b));
    } finally {
      await done();
    }
  });

  it('applies the configuration again after a close and a reopen on another directory', { timeout: 60_000 }, async () => {
    for (let round = 0; round < 2; round++) {
      const { rows, done } = await open();
      try {
        const s = await rows<{ name: string; value: string }>(`SELECT name, value FROM system.merge_tree_settings WHERE name IN ('cleanup_delay_period', 'max_cleanup_delay_period') ORDER BY name`);
        expect(s).toEqual([{ name: 'cleanup_delay_period', value: '2' }, { name: 'max_cleanup_delay_period', value: '10' }]);
        // the caches' ceilings (chDB's defaults: 5 GiB each)
        const caches = await rows<{ name: string; value: string }>(`SELECT name, value FROM system.server_settings WHERE name IN ('mark_cache_size', 'index_mark_cache_size', 'primary_index_cache_size') ORDER BY name`);
        expect(caches).toEqual([
          { name: 'index_mark_cache_size', value: String(64 * 2 ** 20) },
          { name: 'mark_cache_size', value: String(256 * 2 ** 20) },
          { name: 'primary_index_cache_size', value: String(128 * 2 ** 20) },
        ]);
      } finally {
        await done();
      }
    }
  });
});
