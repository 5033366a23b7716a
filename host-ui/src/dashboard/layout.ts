/**
 * Dashboard documents and their mapping to react-grid-layout. A dashboard keeps where a
 * widget sits apart from what the widget is (Grafana's gridPos vs panel): the stored item
 * names the widget by reference and records the plugin version its options were saved with.
 */
import type { CatalogueEntry, SizeName } from '../lib/plugins.ts';
import type { Role } from '@orrery/plugin-sdk/frontend';

export const COLS = 12;

export const SIZES: Record<SizeName, { w: number; h: number; label: string }> = {
  S: { w: 3, h: 2, label: 'Small' },
  M: { w: 6, h: 4, label: 'Medium' },
  L: { w: 9, h: 6, label: 'Large' },
  F: { w: 12, h: 4, label: 'Full width' },
};

export interface DashboardItem {
  /** stable cell id */
  i: string;
  /** `<pluginId>/<widgetId>` */
  ref: string;
  x: number;
  y: number;
  w: number;
  h: number;
  options: Record<string, unknown>;
  /** plugin version and options version the options were saved under */
  pluginVersion: string;
  optionsVersion: number;
  /** per-cell time range preset overriding the dashboard's */
  timeRange?: string;
  /** title shown instead of the widget's own */
  title?: string;
}

export interface DashboardDoc {
  version: 1;
  items: DashboardItem[];
}

export interface GridItem {
  i: string;
  x: number;
  y: number;
  w: number;
  h: number;
  minW?: number;
  minH?: number;
  static?: boolean;
}

export const emptyDoc = (): DashboardDoc => ({ version: 1, items: [] });

/** Accepts anything the server returns and yields a valid document (bad items are dropped). */
export function normalizeDoc(raw: unknown): DashboardDoc {
  const items = (raw as { items?: unknown })?.items;
  if (!Array.isArray(items)) return emptyDoc();
  const seen = new Set<string>();
  const out: DashboardItem[] = [];
  for (const it of items as Array<Partial<DashboardItem>>) {
    if (!it || typeof it.i !== 'string' || typeof it.ref !== 'string' || seen.has(it.i)) continue;
    seen.add(it.i);
    const w = clampInt(it.w, 1, COLS, 3);
    out.push({
      i: it.i,
      ref: it.ref,
      x: clampInt(it.x, 0, COLS - w, 0),
      y: clampInt(it.y, 0, 10_000, 0),
      w,
      h: clampInt(it.h, 1, 40, 2),
      options: it.options && typeof it.options === 'object' ? it.options : {},
      pluginVersion: typeof it.pluginVersion === 'string' ? it.pluginVersion : '0.0.0',
      optionsVersion: typeof it.optionsVersion === 'number' ? it.optionsVersion : 1,
      ...(typeof it.timeRange === 'string' ? { timeRange: it.timeRange } : {}),
      ...(typeof it.title === 'string' && it.title ? { title: it.title } : {}),
    });
  }
  return { version: 1, items: out };
}

function clampInt(v: unknown, min: number, max: number, dflt: number): number {
  const n = typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : dflt;
  return Math.min(max, Math.max(min, n));
}

/** The layout react-grid-layout gets, with each widget's minimum size. */
export function toGrid(items: DashboardItem[], catalogue: Map<string, CatalogueEntry>): GridItem[] {
  return items.map((it) => {
    const min = catalogue.get(it.ref)?.widget.minSize;
    return { i: it.i, x: it.x, y: it.y, w: it.w, h: it.h, ...(min ? { minW: min.w, minH: min.h } : {}) };
  });
}

/** Applies a layout from react-grid-layout back to the items; returns null when nothing moved. */
export function applyGrid(items: DashboardItem[], grid: readonly GridItem[]): DashboardItem[] | null {
  const byId = new Map(grid.map((g) => [g.i, g]));
  let changed = false;
  const next = items.map((it) => {
    const g = byId.get(it.i);
    if (!g || (g.x === it.x && g.y === it.y && g.w === it.w && g.h === it.h)) return it;
    changed = true;
    return { ...it, x: g.x, y: g.y, w: g.w, h: g.h };
  });
  return changed ? next : null;
}

/**
 * Where a new w×h widget goes: the first gap, scanning rows top-down then left-right, so
 * adding a small widget fills the hole next to a medium one instead of opening a new row.
 */
export function findSlot(items: Array<Pick<DashboardItem, 'x' | 'y' | 'w' | 'h'>>, w: number, h: number, cols = COLS): { x: number; y: number } {
  const width = Math.min(w, cols);
  const bottom = items.reduce((m, it) => Math.max(m, it.y + it.h), 0);
  const free = (x: number, y: number) =>
    items.every((it) => x + width <= it.x || it.x + it.w <= x || y + h <= it.y || it.y + it.h <= y);
  for (let y = 0; y <= bottom; y++) {
    for (let x = 0; x + width <= cols; x++) if (free(x, y)) return { x, y };
  }
  return { x: 0, y: bottom };
}

export function newItem(entry: CatalogueEntry, items: DashboardItem[], id: string): DashboardItem {
  const size = SIZES[entry.widget.defaultSize] ?? SIZES.M;
  const w = Math.max(size.w, entry.widget.minSize?.w ?? 0);
  const h = Math.max(size.h, entry.widget.minSize?.h ?? 0);
  const { x, y } = findSlot(items, w, h);
  return {
    i: id, ref: entry.ref, x, y, w, h, options: {}, pluginVersion: entry.plugin.version, optionsVersion: entry.widget.optionsVersion ?? 1,
    // a widget whose figures need a long span starts with its own range (shown on the cell, changeable)
    ...(entry.widget.defaultTimeRange ? { timeRange: entry.widget.defaultTimeRange } : {}),
  };
}

/** The nearest preset name for a size, for the size menu and labels. */
export function sizeName(w: number, h: number): SizeName | null {
  for (const [k, s] of Object.entries(SIZES) as Array<[SizeName, (typeof SIZES)[SizeName]]>) if (s.w === w && s.h === h) return k;
  return null;
}

/** Items whose widget is still offered (plugin enabled, role allowed) vs. those set aside. */
export function partition(items: DashboardItem[], catalogue: Map<string, CatalogueEntry>) {
  const visible: DashboardItem[] = [];
  const hidden: DashboardItem[] = [];
  for (const it of items) (catalogue.has(it.ref) ? visible : hidden).push(it);
  return { visible, hidden };
}

/**
 * On a phone the grid is one column: widgets stack in reading order (top-down, then
 * left-right) and keep their height.
 */
export function stacked(items: DashboardItem[]): GridItem[] {
  let y = 0;
  return [...items]
    .sort((a, b) => a.y - b.y || a.x - b.x)
    .map((it) => {
      const g = { i: it.i, x: 0, y, w: 1, h: Math.max(it.h, 3), static: true };
      y += g.h;
      return g;
    });
}

/** Entries grouped by plugin (plugins in first-seen order, entries in theirs), then taken one per plugin in turn up to `max`. */
function inTurn(entries: CatalogueEntry[], max: number, taken: CatalogueEntry[] = []): CatalogueEntry[] {
  const byPlugin = new Map<string, CatalogueEntry[]>();
  for (const e of entries) if (!taken.includes(e)) byPlugin.set(e.plugin.id, [...(byPlugin.get(e.plugin.id) ?? []), e]);
  const queues = [...byPlugin.values()];
  const picked = [...taken];
  while (picked.length < max && queues.some((q) => q.length)) {
    for (const q of queues) if (q.length && picked.length < max) picked.push(q.shift()!);
  }
  return picked;
}

/**
 * The built-in default for a role when no one has saved one: the widgets their plugins
 * suggest for the role first, then, up to `max`, the other widgets. Both are taken in
 * turn from each plugin (each plugin's suggestions in the order it declares them), so one
 * plugin with many widgets does not crowd out the others: an Admin's 14 suggestions from 8
 * plugins give one from each, where taking them in load order left the last plugins' out.
 * They are laid out small and full-width ones first — a row of headline numbers reads best on
 * top — and large ones half-width in pairs: a 9-column widget alone on its row left a 3-column hole
 * beside every one of them.
 */
export function builtinDefault(catalogue: CatalogueEntry[], makeId: () => string, max = 8, role?: Role): DashboardDoc {
  const order: Record<SizeName, number> = { F: 0, L: 1, M: 2, S: 3 };
  const suggested = role ? inTurn(catalogue.filter((e) => e.widget.suggestedFor?.includes(role)), max) : [];
  const rest = [...catalogue].sort((a, b) => a.plugin.id.localeCompare(b.plugin.id) || order[a.widget.defaultSize] - order[b.widget.defaultSize] || a.ref.localeCompare(b.ref));
  const picked = inTurn(rest, max, suggested);
  // full-width rows right under the small ones: the one first-party full-width widget is a row of
  // headline numbers (KPIs), which at the bottom of a long grid nobody scrolls to
  const place: Record<SizeName, number> = { S: 0, F: 1, M: 2, L: 3 };
  picked.sort((a, b) => place[a.widget.defaultSize] - place[b.widget.defaultSize] || a.ref.localeCompare(b.ref));
  const items: DashboardItem[] = [];
  for (const e of picked) {
    const it = newItem(e, items, makeId());
    if (e.widget.defaultSize === 'L' && (e.widget.minSize?.w ?? 0) <= SIZES.M.w) {
      const { x, y } = findSlot(items, SIZES.M.w, it.h);
      Object.assign(it, { x, y, w: SIZES.M.w });
    }
    items.push(it);
  }
  return { version: 1, items };
}
