import { describe, expect, it } from 'vitest';
import type { CatalogueEntry, PluginManifest, WidgetManifest } from '../lib/plugins.ts';
import { applyGrid, builtinDefault, findSlot, newItem, normalizeDoc, partition, SIZES, sizeName, stacked, toGrid, type DashboardItem } from './layout.ts';

const plugin: PluginManifest = { id: 'p', version: '2.1.0', title: 'P', description: '', enabled: true, routePrefix: 'p', remote: { name: 'p', entry: '/plugins/p/remoteEntry.js' }, widgets: [] };
const entry = (id: string, defaultSize: WidgetManifest['defaultSize'], minSize?: { w: number; h: number }): CatalogueEntry => ({
  plugin, widget: { id, title: id, description: '', defaultSize, roles: ['Admin'], ...(minSize ? { minSize } : {}) }, ref: `p/${id}`,
});
const item = (i: string, x: number, y: number, w: number, h: number, ref = 'p/a'): DashboardItem => ({ i, ref, x, y, w, h, options: {}, pluginVersion: '1.0.0', optionsVersion: 1 });

describe('size presets', () => {
  it('match the documented grid sizes', () => {
    expect(SIZES).toMatchObject({ S: { w: 3, h: 2 }, M: { w: 6, h: 4 }, L: { w: 9, h: 6 }, F: { w: 12, h: 4 } });
  });
  it('names a size only when it is exactly a preset', () => {
    expect(sizeName(6, 4)).toBe('M');
    expect(sizeName(12, 4)).toBe('F');
    expect(sizeName(5, 4)).toBeNull();
  });
});

describe('findSlot', () => {
  it('fills the gap beside a medium widget before opening a new row', () => {
    expect(findSlot([item('a', 0, 0, 6, 4)], 3, 2)).toEqual({ x: 6, y: 0 });
  });
  it('goes below when the row is full', () => {
    expect(findSlot([item('a', 0, 0, 12, 4)], 6, 4)).toEqual({ x: 0, y: 4 });
  });
  it('never overlaps an existing item', () => {
    const items = [item('a', 0, 0, 3, 2), item('b', 3, 0, 9, 6), item('c', 0, 2, 3, 2)];
    const { x, y } = findSlot(items, 3, 2);
    for (const it of items) {
      const overlap = x < it.x + it.w && it.x < x + 3 && y < it.y + it.h && it.y < y + 2;
      expect(overlap).toBe(false);
    }
  });
});

describe('newItem', () => {
  it('uses the default size, the minimum size and records the plugin version', () => {
    const it1 = newItem(entry('a', 'S', { w: 4, h: 3 }), [], 'x1');
    expect(it1).toMatchObject({ i: 'x1', ref: 'p/a', w: 4, h: 3, x: 0, y: 0, pluginVersion: '2.1.0', optionsVersion: 1 });
    expect(it1.timeRange).toBeUndefined();
  });

  it("starts a widget with its declared range instead of the dashboard's, and the built-in default keeps it", () => {
    const e = entry('r', 'M');
    const longSpan: CatalogueEntry = { ...e, widget: { ...e.widget, roles: ['Admin'], suggestedFor: ['Admin'], defaultTimeRange: '90d' } };
    expect(newItem(longSpan, [], 'x2').timeRange).toBe('90d');
    const doc = builtinDefault([longSpan, entry('s', 'S')], () => 'id', 8, 'Admin');
    expect(doc.items.find((i) => i.ref === 'p/r')?.timeRange).toBe('90d');
    expect(doc.items.find((i) => i.ref === 'p/s')?.timeRange).toBeUndefined();
  });
});

describe('grid mapping', () => {
  it('carries min sizes into the grid and applies moves back', () => {
    const cat = new Map([['p/a', entry('a', 'M', { w: 3, h: 3 })]]);
    const items = [item('1', 0, 0, 6, 4)];
    expect(toGrid(items, cat)).toEqual([{ i: '1', x: 0, y: 0, w: 6, h: 4, minW: 3, minH: 3 }]);
    expect(applyGrid(items, [{ i: '1', x: 0, y: 0, w: 6, h: 4 }])).toBeNull();
    expect(applyGrid(items, [{ i: '1', x: 3, y: 1, w: 9, h: 6 }])).toEqual([{ ...items[0], x: 3, y: 1, w: 9, h: 6 }]);
  });
  it('keeps items whose widget is gone, but hides them', () => {
    const cat = new Map([['p/a', entry('a', 'M')]]);
    const { visible, hidden } = partition([item('1', 0, 0, 6, 4), item('2', 6, 0, 6, 4, 'gone/w')], cat);
    expect(visible.map((i) => i.i)).toEqual(['1']);
    expect(hidden.map((i) => i.i)).toEqual(['2']);
  });
  it('stacks in reading order on a phone', () => {
    const g = stacked([item('b', 6, 0, 6, 4), item('c', 0, 4, 12, 4), item('a', 0, 0, 6, 4)]);
    expect(g.map((x) => [x.i, x.x, x.y, x.w])).toEqual([['a', 0, 0, 1], ['b', 0, 4, 1], ['c', 0, 8, 1]]);
  });
});

describe('normalizeDoc', () => {
  it('drops malformed and duplicate items and clamps positions into the grid', () => {
    const doc = normalizeDoc({ items: [{ i: 'a', ref: 'p/a', x: 11, y: -2, w: 6, h: 4 }, { i: 'a', ref: 'p/a' }, { ref: 'no-id' }, null] });
    expect(doc.items).toHaveLength(1);
    expect(doc.items[0]).toMatchObject({ x: 6, y: 0, w: 6, h: 4, options: {}, optionsVersion: 1 });
  });
  it('answers an empty document for garbage', () => {
    expect(normalizeDoc(null)).toEqual({ version: 1, items: [] });
    expect(normalizeDoc('x')).toEqual({ version: 1, items: [] });
  });
});

describe('builtinDefault', () => {
  it('takes widgets from every plugin in turn and lays large ones half-width in pairs', () => {
    let n = 0;
    const other: PluginManifest = { ...plugin, id: 'q', title: 'Q' };
    const big = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((id) => entry(id, 'L'));
    const small = { ...entry('hello', 'M'), plugin: other, ref: 'q/hello' };
    const doc = builtinDefault([...big, small], () => `id${n++}`, 8);
    expect(doc.items.map((i) => i.ref)).toContain('q/hello');
    const large = doc.items.filter((i) => i.ref.startsWith('p/'));
    expect(large.every((i) => i.w === 6)).toBe(true);
    // packed: the grid is no taller than the widgets' area needs, give or take the last row
    const area = doc.items.reduce((a, i) => a + i.w * i.h, 0);
    const bottom = Math.max(...doc.items.map((i) => i.y + i.h));
    expect(bottom).toBeLessThanOrEqual(Math.ceil(area / 12) + 6);
  });

  it('starts with the widgets suggested for the role, then fills up from every plugin', () => {
    let n = 0;
    const suggested = (id: string, roles: WidgetManifest['roles']): CatalogueEntry => ({ ...entry(id, 'M'), widget: { ...entry(id, 'M').widget, roles: ['Admin', 'Developer'], suggestedFor: roles } });
    const cat = [entry('a', 'S'), suggested('for-admin', ['Admin']), entry('b', 'S'), suggested('for-dev', ['Developer']), entry('c', 'S')];
    expect(builtinDefault(cat, () => `id${n++}`, 1, 'Admin').items.map((i) => i.ref)).toEqual(['p/for-admin']);
    // the rest is filled from the catalogue as before, without repeating the suggested one
    const admin = builtinDefault(cat, () => `id${n++}`, 5, 'Admin').items.map((i) => i.ref);
    expect(admin).toHaveLength(5);
    expect(new Set(admin).size).toBe(5);
    const dev = builtinDefault(cat, () => `id${n++}`, 1, 'Developer').items.map((i) => i.ref);
    expect(dev).toEqual(['p/for-dev']);
    // without a role nothing is preferred
    expect(builtinDefault(cat, () => `id${n++}`, 5).items).toHaveLength(5);
  });

  it('takes the suggested widgets from each plugin in turn, each plugin\'s in its own order', () => {
    let n = 0;
    // plugins with several suggestions come first in the catalogue; the last has one
    const plugins = ['first', 'second', 'third'].map((id): PluginManifest => ({ ...plugin, id, title: id }));
    const suggested = (p: PluginManifest, id: string): CatalogueEntry => ({ plugin: p, ref: `${p.id}/${id}`, widget: { ...entry(id, 'M').widget, suggestedFor: ['Admin'] } });
    const cat = [
      ...['a', 'b', 'c', 'd'].map((id) => suggested(plugins[0]!, id)),
      ...['e', 'f', 'g'].map((id) => suggested(plugins[1]!, id)),
      suggested(plugins[2]!, 'h'),
      entry('plain', 'S'),
    ];
    const refs = (max: number) => builtinDefault(cat, () => `id${n++}`, max, 'Admin').items.map((i) => i.ref).sort();
    // brute force: round k takes each plugin's k-th suggestion, plugins in catalogue order
    const reference = (max: number) => {
      const byPlugin = plugins.map((p) => cat.filter((e) => e.plugin.id === p.id));
      const out: string[] = [];
      for (let k = 0; out.length < max && k < 4; k++) for (const q of byPlugin) if (q[k] && out.length < max) out.push(q[k]!.ref);
      return out.sort();
    };
    for (let max = 1; max <= 8; max++) expect(refs(max)).toEqual(reference(max));
    expect(refs(3)).toEqual(['first/a', 'second/e', 'third/h']);
    // past the suggestions the rest of the catalogue fills up
    expect(refs(9)).toContain('p/plain');
  });

  it('lays small and full-width widgets out above medium and large ones', () => {
    let n = 0;
    const cat = [entry('large', 'L'), entry('medium', 'M'), entry('full', 'F'), entry('small', 'S')];
    const doc = builtinDefault(cat, () => `id${n++}`, 8);
    const top = (ref: string) => doc.items.find((i) => i.ref === ref)!.y;
    expect(top('p/small')).toBe(0);
    expect(top('p/full')).toBeGreaterThanOrEqual(top('p/small') + 2);
    expect(top('p/medium')).toBeGreaterThanOrEqual(top('p/full') + 4);
    expect(top('p/large')).toBeGreaterThanOrEqual(top('p/full') + 4);
  });

  it('packs up to max widgets without overlap', () => {
    let n = 0;
    const cat = ['S', 'S', 'M', 'L', 'F', 'M', 'S', 'S', 'M', 'L'].map((s, i) => entry(`w${i}`, s as WidgetManifest['defaultSize']));
    const doc = builtinDefault(cat, () => `id${n++}`, 8);
    expect(doc.items).toHaveLength(8);
    for (const a of doc.items) {
      expect(a.x + a.w).toBeLessThanOrEqual(12);
      for (const b of doc.items) {
        if (a === b) continue;
        expect(a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h).toBe(false);
      }
    }
  });
});

describe('the first-party plugins’ suggested dashboards', () => {
  it.each(['Admin', 'Manager', 'Developer'] as const)('leave no hole for the %s', async (role) => {
    // the real declarations, as GET /api/v1/plugins hands them to the portal
    const declared = await Promise.all(['adoption', 'agent-analytics', 'dashboards', 'user-activity'].map(async (id) => (await import(`../../../plugins/${id}/backend/index.ts`)).default));
    const catalogue: CatalogueEntry[] = declared.flatMap((p) => (p.frontend?.widgets ?? [])
      .filter((w: WidgetManifest) => w.roles.includes(role))
      .map((w: WidgetManifest) => ({ plugin: { ...plugin, id: p.id }, widget: w, ref: `${p.id}/${w.id}` })));
    let n = 0;
    const doc = builtinDefault(catalogue, () => `id${n++}`, 8, role);
    expect(doc.items).toHaveLength(8);
    // every grid cell above the last widget's top is covered: no empty column beside a widget
    const lastTop = Math.max(...doc.items.map((i) => i.y));
    const holes: string[] = [];
    for (let y = 0; y < lastTop; y++) {
      for (let x = 0; x < 12; x++) if (!doc.items.some((i) => x >= i.x && x < i.x + i.w && y >= i.y && y < i.y + i.h)) holes.push(`${x},${y}`);
    }
    expect(holes, doc.items.map((i) => `${i.ref} ${i.x},${i.y} ${i.w}×${i.h}`).join('\n')).toEqual([]);
  });
});
