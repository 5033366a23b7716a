/**
 * What a widget shows, out as CSV, JSON, PNG or PDF, from the host's widget frame: the host
 * gives every widget a `WidgetExports` collector (`WidgetExportsProvider`); the SDK's charts
 * and `Stat`s put what they draw in it (`useExportable`), and a widget that draws something
 * else may do the same. What registered nothing is read from the widget's HTML tables, and
 * its text when it has none, so every widget has the menu without code of its own.
 */
import { createContext, useContext, useEffect, useRef } from 'react';
import { downloadBlob, toCsv, type DataTable } from './csv.ts';

export interface ExportableView {
  /** the chart's (or table's) title: a CSV section title, a JSON table name */
  title: string;
  /** the data as shown: the chart's table, a number with its label */
  table(): DataTable;
  /** a PNG data URL of the drawing (charts); views without one are drawn as a table */
  image?(): Promise<string | null>;
}

export interface WidgetExports {
  /** adds a view while it is on screen; returns its removal */
  register(view: ExportableView): () => void;
  /** the views on screen, in the order they registered */
  list(): ExportableView[];
}

export function createWidgetExports(): WidgetExports {
  const views = new Set<{ current: ExportableView }>();
  return {
    register(view) {
      const entry = { current: view };
      views.add(entry);
      return () => { views.delete(entry); };
    },
    list: () => [...views].map((v) => v.current),
  };
}

const WidgetExportsContext = createContext<WidgetExports | null>(null);
/** The host wraps each widget in one, with its own collector. */
export const WidgetExportsProvider = WidgetExportsContext.Provider;

/** Offers a view to the widget frame's export menu while the component is mounted (null: nothing now). */
export function useExportable(view: ExportableView | null): void {
  const exports = useContext(WidgetExportsContext);
  const latest = useRef(view);
  latest.current = view;
  const on = view !== null;
  useEffect(() => {
    if (!exports || !on) return;
    return exports.register({
      get title() { return latest.current?.title ?? ''; },
      table: () => latest.current?.table() ?? { columns: [], rows: [] },
      image: latest.current?.image ? () => latest.current?.image?.() ?? Promise.resolve(null) : undefined,
    });
  }, [exports, on]);
}

export interface NamedTable extends DataTable {
  title: string;
}

/** Tables of same-shaped views (several `Stat`s) become one; others stay apart. */
function merge(tables: NamedTable[]): NamedTable[] {
  const out: NamedTable[] = [];
  for (const t of tables) {
    const same = out.find((o) => o.columns.length === t.columns.length && o.columns.every((c, i) => c === t.columns[i]) && o.columns[0] === 'label');
    if (same) same.rows.push(...t.rows);
    else out.push({ title: t.title, columns: [...t.columns], rows: [...t.rows] });
  }
  return out;
}

/** The HTML tables of an element, outside the SDK's charts (their tables are registered views). */
export function domTables(root: HTMLElement, fallbackTitle: string): NamedTable[] {
  const out: NamedTable[] = [];
  root.querySelectorAll('table').forEach((table, i) => {
    if (table.closest('.orrery-chart')) return;
    const caption = table.querySelector('caption')?.textContent?.trim();
    const head = [...table.querySelectorAll('thead tr')].at(-1);
    const bodyRows = [...table.querySelectorAll('tbody tr')];
    const cells = (tr: Element) => [...tr.querySelectorAll('th, td')].map((c) => (c as HTMLElement).innerText?.trim() ?? c.textContent?.trim() ?? '');
    const columns = head ? cells(head) : bodyRows.length ? cells(bodyRows[0]!).map((_, j) => `column ${j + 1}`) : [];
    const number = (s: string) => (/^-?\d+(\.\d+)?$/.test(s) ? Number(s) : s);
    out.push({ title: caption || (i ? `${fallbackTitle} ${i + 1}` : fallbackTitle), columns, rows: bodyRows.map((r) => cells(r).map(number)) });
  });
  return out;
}

/** What a widget shows, as named tables: its registered views, else its HTML tables, else its text lines. */
export function widgetTables(views: ExportableView[], root: HTMLElement | null, title: string): NamedTable[] {
  if (views.length) return merge(views.map((v) => ({ title: v.title || title, ...v.table() })));
  if (!root) return [];
  const tables = domTables(root, title);
  if (tables.length) return tables;
  const lines = (root.innerText ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length ? [{ title, columns: ['text'], rows: lines.map((l) => [l]) }] : [];
}

/** One CSV: a table as is; several as sections (title row, header, rows) with a blank line between. */
export function tablesCsv(tables: NamedTable[]): string {
  if (tables.length === 1) return toCsv(tables[0]!);
  return tables.map((t) => toCsv({ columns: [t.title], rows: [] }) + toCsv(t)).join('\r\n');
}

/** JSON: the widget, its time range and zone, and each table as objects keyed by column. */
export function tablesJson(meta: { widget: string; from?: string; to?: string; tz?: string }, tables: NamedTable[]): string {
  return JSON.stringify(
    {
      ...meta,
      tables: tables.map((t) => ({ title: t.title, columns: t.columns, rows: t.rows.map((r) => Object.fromEntries(t.columns.map((c, i) => [c, r[i] ?? null]))) })),
    },
    null,
    2,
  );
}

function loadImage(src: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('the chart image could not be read'));
    img.src = src;
  });
}

/**
 * The widget as one picture: a header (title, range in the zone), then each chart's drawing
 * and each other view as a table, one under the other, on white.
 */
export async function widgetCanvas(views: ExportableView[], tables: NamedTable[], header: string[]): Promise<HTMLCanvasElement> {
  const parts: Array<{ img?: HTMLImageElement; table?: NamedTable }> = [];
  for (const v of views) {
    const src = v.image ? await v.image().catch(() => null) : null;
    if (src) parts.push({ img: await loadImage(src) });
    else parts.push({ table: { title: v.title, ...v.table() } });
  }
  if (!views.length) for (const t of tables) parts.push({ table: t });

  const font = 14;
  const line = 22;
  const pad = 24;
  const measure = document.createElement('canvas').getContext('2d')!;
  measure.font = `${font}px sans-serif`;
  const colWidths = (t: NamedTable) => t.columns.map((c, i) => Math.min(320, Math.max(measure.measureText(c).width, ...t.rows.map((r) => measure.measureText(String(r[i] ?? '')).width)) + 16));
  let width = 640;
  let height = pad + header.length * line + 8;
  for (const p of parts) {
    if (p.img) {
      width = Math.max(width, p.img.width + 2 * pad);
      height += p.img.height + pad;
    } else if (p.table) {
      width = Math.max(width, colWidths(p.table).reduce((a, b) => a + b, 0) + 2 * pad);
      height += (p.table.rows.length + 2) * line + pad;
    }
  }
  width = Math.min(width, 4000);
  height = Math.min(height + pad, 16000);
  const canvas = document.createElement('canvas');
  canvas.width = Math.ceil(width);
  canvas.height = Math.ceil(height);
  const g = canvas.getContext('2d')!;
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.fillStyle = '#111827';
  g.textBaseline = 'top';
  let y = pad;
  header.forEach((h, i) => {
    g.font = i === 0 ? `bold ${font + 4}px sans-serif` : `${font}px sans-serif`;
    g.fillText(h, pad, y);
    y += line;
  });
  y += 8;
  for (const p of parts) {
    if (p.img) {
      g.drawImage(p.img, pad, y);
      y += p.img.height + pad;
    } else if (p.table) {
      const widths = colWidths(p.table);
      g.font = `bold ${font}px sans-serif`;
      g.fillText(p.table.title, pad, y);
      y += line;
      const row = (cells: Array<string | number | null>, bold: boolean) => {
        g.font = `${bold ? 'bold ' : ''}${font}px sans-serif`;
        let x = pad;
        cells.forEach((c, i) => {
          g.fillText(String(c ?? ''), x, y, widths[i]! - 8);
          x += widths[i]!;
        });
        y += line;
      };
      row(p.table.columns, true);
      for (const r of p.table.rows) row(r, false);
      y += pad;
    }
  }
  return canvas;
}

/**
 * A one-page PDF holding a picture (JPEG, DCTDecode), the page sized to it at 96 dpi. Enough
 * for "this widget as PDF" without a PDF library in every browser bundle.
 */
export function jpegPdf(jpeg: Uint8Array, widthPx: number, heightPx: number): Uint8Array<ArrayBuffer> {
  const w = Math.round(widthPx * 0.75);
  const h = Math.round(heightPx * 0.75);
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  const offsets: number[] = [];
  let length = 0;
  const push = (b: Uint8Array | string) => {
    const bytes = typeof b === 'string' ? enc.encode(b) : b;
    chunks.push(bytes);
    length += bytes.length;
  };
  const content = `q ${w} 0 0 ${h} 0 0 cm /Im0 Do Q`;
  push('%PDF-1.4\n%\xE2\xE3\xCF\xD3\n');
  const obj = (n: number, body: string) => { offsets[n] = length; push(`${n} 0 obj\n${body}\nendobj\n`); };
  obj(1, '<< /Type /Catalog /Pages 2 0 R >>');
  obj(2, '<< /Type /Pages /Kids [3 0 R] /Count 1 >>');
  obj(3, `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${w} ${h}] /Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>`);
  offsets[4] = length;
  push(`4 0 obj\n<< /Type /XObject /Subtype /Image /Width ${widthPx} /Height ${heightPx} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length ${jpeg.length} >>\nstream\n`);
  push(jpeg);
  push('\nendstream\nendobj\n');
  obj(5, `<< /Length ${content.length} >>\nstream\n${content}\nendstream`);
  const xref = length;
  push(`xref\n0 6\n0000000000 65535 f \n${[1, 2, 3, 4, 5].map((n) => `${String(offsets[n]).padStart(10, '0')} 00000 n \n`).join('')}`);
  push(`trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  const out = new Uint8Array(new ArrayBuffer(length));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export type WidgetExportFormat = 'csv' | 'json' | 'png' | 'pdf';

/** Exports what a widget shows in one format and saves the file; answers the file name. */
export async function exportWidget(format: WidgetExportFormat, opts: {
  exports: WidgetExports;
  root: HTMLElement | null;
  title: string;
  /** the header lines of pictures (title first), e.g. the range in the user's zone */
  header: string[];
  meta: { from?: string; to?: string; tz?: string };
}): Promise<string> {
  const views = opts.exports.list();
  const tables = widgetTables(views, opts.root, opts.title);
  const base = opts.title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'widget';
  if (format === 'csv') {
    downloadBlob(`${base}.csv`, new Blob([tablesCsv(tables)], { type: 'text/csv;charset=utf-8' }));
    return `${base}.csv`;
  }
  if (format === 'json') {
    downloadBlob(`${base}.json`, new Blob([tablesJson({ widget: opts.title, ...opts.meta }, tables)], { type: 'application/json' }));
    return `${base}.json`;
  }
  const canvas = await widgetCanvas(views, tables, opts.header);
  if (format === 'png') {
    const blob = await new Promise<Blob | null>((r) => canvas.toBlob(r, 'image/png'));
    if (!blob) throw new Error('the picture could not be made');
    downloadBlob(`${base}.png`, blob);
    return `${base}.png`;
  }
  const jpeg = await new Promise<Blob | null>((r) => canvas.toBlob(r, 'image/jpeg', 0.92));
  if (!jpeg) throw new Error('the picture could not be made');
  const pdf = jpegPdf(new Uint8Array(await jpeg.arrayBuffer()), canvas.width, canvas.height);
  downloadBlob(`${base}.pdf`, new Blob([pdf], { type: 'application/pdf' }));
  return `${base}.pdf`;
}
