/**
 * The widget export collector and writers without a browser: random tables out as CSV (read
 * back with a real RFC 4180 parser) and JSON, same-shaped stats merged into one table, views
 * leaving when unregistered, and the one-page PDF's structure (every cross-reference offset
 * pointing at its object, the image's bytes and size as given).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { createWidgetExports, jpegPdf, tablesCsv, tablesJson, widgetTables, type NamedTable } from './exports.tsx';

const cell = fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('a,b', 'q"uote', 'new\nline', '=1+1', '-5', '@x', '日本', '🚀'), fc.integer({ min: -1000, max: 1000 }), fc.constant(null));
const table = fc.integer({ min: 1, max: 4 }).chain((w) =>
  fc.record({
    title: fc.string({ minLength: 1, maxLength: 8 }),
    columns: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }).filter((s) => !/^[=+\-@\t\r]/.test(s)), { minLength: w, maxLength: w }),
    rows: fc.array(fc.array(cell, { minLength: w, maxLength: w }), { maxLength: 6 }),
  }),
);
/** what a spreadsheet-safe CSV cell reads back as */
const expected = (v: string | number | null) => (v === null ? '' : typeof v === 'string' && /^[=+\-@\t\r]/.test(v) ? `'${v}` : String(v));

describe('widget exports', () => {
  it('one table: the CSV reads back cell for cell (text guarded, numbers as they are)', () => {
    fc.assert(fc.property(table, (t) => {
      const records = parse(tablesCsv([t]), { record_delimiter: '\r\n', relax_column_count: true }) as string[][];
      expect(records[0]).toEqual(t.columns);
      expect(records.slice(1)).toEqual(t.rows.map((r) => r.map(expected)));
    }), { numRuns: 200 });
  });

  it('several tables: titled sections with a blank line between', () => {
    fc.assert(fc.property(fc.array(table, { minLength: 2, maxLength: 3 }), (ts) => {
      const records = parse(tablesCsv(ts), { record_delimiter: '\r\n', relax_column_count: true, skip_empty_lines: false }) as string[][];
      const want: string[][] = [];
      ts.forEach((t, i) => {
        if (i) want.push(['']);
        want.push([expected(t.title)], t.columns.map(expected), ...t.rows.map((r) => r.map(expected)));
      });
      expect(records).toEqual(want);
    }), { numRuns: 100 });
  });

  it('JSON: rows as objects keyed by column, values untouched', () => {
    fc.assert(fc.property(table, (t) => {
      const j = JSON.parse(tablesJson({ widget: 'w', from: 'a', to: 'b', tz: 'UTC' }, [t]));
      expect(j).toMatchObject({ widget: 'w', from: 'a', to: 'b', tz: 'UTC' });
      expect(j.tables[0].rows).toEqual(t.rows.map((r) => Object.fromEntries(t.columns.map((c, i) => [c, r[i] ?? null]))));
    }), { numRuns: 200 });
  });

  it('collects registered views in order, merges stats into one table, forgets unregistered ones', () => {
    const ex = createWidgetExports();
    const offA = ex.register({ title: 'Users', table: () => ({ columns: ['label', 'value', 'change'], rows: [['Users', 4, null]] }) });
    ex.register({ title: 'Cost', table: () => ({ columns: ['label', 'value', 'change'], rows: [['Cost', 1.5, 0.1]] }) });
    ex.register({ title: 'Trend', table: () => ({ columns: ['time', 'v'], rows: [['t1', 1]] }) });
    const tables: NamedTable[] = widgetTables(ex.list(), null, 'Widget');
    expect(tables).toEqual([
      { title: 'Users', columns: ['label', 'value', 'change'], rows: [['Users', 4, null], ['Cost', 1.5, 0.1]] },
      { title: 'Trend', columns: ['time', 'v'], rows: [['t1', 1]] },
    ]);
    offA();
    expect(ex.list().map((v) => v.title)).toEqual(['Cost', 'Trend']);
    expect(widgetTables([], null, 'Widget')).toEqual([]);
  });

  it('the one-page PDF: header, objects where the cross-reference table says, the image as given', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 2000 }), fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 3000 }), (jpeg, w, h) => {
      const pdf = jpegPdf(jpeg, w, h);
      const text = Buffer.from(pdf).toString('latin1');
      expect(text.startsWith('%PDF-1.4\n')).toBe(true);
      expect(text.trimEnd().endsWith('%%EOF')).toBe(true);
      const startxref = Number(/startxref\n(\d+)\n%%EOF/.exec(text)![1]);
      expect(text.slice(startxref, startxref + 4)).toBe('xref');
      const offsets = [...text.slice(startxref).matchAll(/^(\d{10}) 00000 n $/gm)].map((m) => Number(m[1]));
      expect(offsets).toHaveLength(5);
      offsets.forEach((o, i) => expect(text.slice(o, o + 8)).toBe(`${i + 1} 0 obj\n`));
      expect(text).toContain(`/Width ${w} /Height ${h}`);
      expect(text).toContain(`/MediaBox [0 0 ${Math.round(w * 0.75)} ${Math.round(h * 0.75)}]`);
      const len = Number(/\/DCTDecode \/Length (\d+)/.exec(text)![1]);
      expect(len).toBe(jpeg.length);
      const start = text.indexOf('stream\n', text.indexOf('/DCTDecode')) + 'stream\n'.length;
      expect(Buffer.from(pdf.subarray(start, start + len))).toEqual(Buffer.from(jpeg));
    }), { numRuns: 100 });
  });
});
