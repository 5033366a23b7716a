/**
 * The loader's body encoder against a brute-force reference: for random tables and rows (random
 * key subsets, keys that are not columns, `undefined` and `null`, strings with quotes, newlines,
 * `],[` and non-ASCII text, nested arrays and objects), every cell the body gives a column must be
 * the row's value as JSON, and a column the body leaves out must have no value in any row (it
 * takes its DEFAULT, as `null` does: the events table has no Nullable column). Then the same
 * bodies go through the embedded engine's raw insert, as the loader sends them, and are read back.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactEncoder } from '../encode.ts';
import { openAnalytics } from '../../storage/clickhouse.ts';

type Row = Record<string, unknown>;

/** the reference: the value a cell is stored from, written out the plainest way */
function expectedCell(row: Row, column: string): unknown {
  const v = Object.prototype.hasOwnProperty.call(row, column) ? row[column] : undefined;
  return v === undefined || v === null ? null : JSON.parse(JSON.stringify(v));
}

/** the body as rows of cells by column name: the slices are comma-separated rows */
function decode(body: Buffer, columns: readonly string[]): Row[] {
  const text = body.toString('utf8');
  const rows = JSON.parse(`[${text}]`) as unknown[][];
  return rows.map((values) => {
    expect(values).toHaveLength(columns.length);
    return Object.fromEntries(columns.map((c, j) => [c, values[j]]));
  });
}

const tricky = fc.constantFrom('', 'a"b', 'line\nbreak', '],[', '[1,2],[3]', 'back\\slash', 'Zoë — 東京 🚀', '\u2028', 'null');
const value = fc.oneof(
  tricky,
  fc.string(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.oneof(tricky, fc.string()), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.string(), fc.integer())),
);
// column names as a schema might have them; never prototype names (they are table columns)
const columnName = fc.stringMatching(/^[a-z_][a-z0-9_]{0,11}$/).filter((c) => !(c in Object.prototype));

describe('CompactEncoder', () => {
  it('gives every row its values and leaves out only columns no row has', async () => {
    await fc.assert(fc.asyncProperty(
      fc.uniqueArray(columnName, { minLength: 1, maxLength: 12 }),
      fc.array(fc.tuple(fc.array(fc.tuple(fc.nat(15), value), { maxLength: 14 }), fc.array(fc.tuple(fc.string({ maxLength: 6 }), value), { maxLength: 2 })), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 1, max: 9 }),
      async (columns, rowSpecs, sliceRows) => {
        // a row takes some of the table's columns (by index) and maybe keys that are no column
        const rows: Row[] = rowSpecs.map(([cells, extra]) => {
          const r: Row = {};
          for (const [k, v] of extra) if (!columns.includes(k) && !(k in Object.prototype)) r[k] = v;
          for (const [j, v] of cells) if (j < columns.length) r[columns[j]!] = v;
          return r;
        });
        const encoder = new CompactEncoder(columns);
        let turns = 0;
        const { columns: sent, body } = await encoder.encode(rows, { sliceRows, between: async () => void turns++ });
        expect(turns).toBe(Math.ceil(rows.length / sliceRows) - 1);
        // only table columns, in the table's order, each once
        expect(sent).toEqual(columns.filter((c) => sent.includes(c)));
        const decoded = decode(body, sent);
        expect(decoded).toHaveLength(rows.length);
        rows.forEach((row, i) => {
          for (const c of columns) {
            if (sent.includes(c)) expect(decoded[i]![c]).toEqual(expectedCell(row, c));
            else expect(expectedCell(row, c)).toBeNull(); // left out: no row has a value for it
          }
        });
        // a column is left out only when every row lacks it (undefined): null is sent as null
        for (const c of columns) expect(sent.includes(c)).toBe(rows.some((r) => r[c] !== undefined));
      },
    ), { numRuns: 300 });
  });

  it('keeps one extractor per column set and stays bounded', async () => {
    const columns = Array.from({ length: 10 }, (_, j) => `c${j}`);
    const encoder = new CompactEncoder(columns);
    // every subset of 10 columns is a different set: more than the cache keeps
    for (let mask = 1; mask < 1024; mask++) {
      const row = Object.fromEntries(columns.filter((_, j) => mask & (1 << j)).map((c) => [c, c]));
      const { columns: sent, body } = await encoder.encode([row], { sliceRows: 10 });
      expect(decode(body, sent)).toEqual([row]);
    }
  });

  it('is stored by the embedded engine exactly as the rows say', { timeout: 60_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'orrery-encode-'));
    const analytics = await openAnalytics({ clickhouseUrl: '', dataDir, database: 'enctest', cluster: '' });
    try {
      await analytics.client.command({ query: 'CREATE DATABASE IF NOT EXISTS enctest' });
      await analytics.client.command({ query: `CREATE TABLE enctest.t (k UInt32, s String DEFAULT 'dflt', n Float64 DEFAULT 7, tags Array(String) DEFAULT ['x'], inserted_at DateTime64(3) DEFAULT now64(3)) ENGINE = MergeTree ORDER BY k` });
      const sample = fc.sample(fc.record({ s: fc.option(fc.oneof(tricky, fc.string()), { nil: undefined }), n: fc.option(fc.integer({ min: -1e6, max: 1e6 }), { nil: undefined }), tags: fc.option(fc.array(tricky, { maxLength: 3 }), { nil: undefined }) }), 500);
      const rows: Row[] = sample.map((r, k) => ({ k, ...r, ignored: 'not a column' }));
      const encoder = new CompactEncoder(['k', 's', 'n', 'tags']);
      // slices of 7 rows: many comma joins between slices in one body
      const { columns, body } = await encoder.encode(rows, { sliceRows: 7 });
      await analytics.insertRaw({ table: 'enctest.t', columns, format: 'JSONCompactEachRow', body });
      const stored = (await (await analytics.client.query({ query: 'SELECT k, s, n, tags FROM enctest.t ORDER BY k', format: 'JSONEachRow' })).json()) as Row[];
      expect(stored).toEqual(rows.map((r) => ({ k: r.k, s: r.s ?? 'dflt', n: r.n ?? 7, tags: r.tags ?? ['x'] })));
    } finally {
      await analytics.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
