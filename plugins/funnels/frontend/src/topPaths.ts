/**
 * The paths of a Sankey cut to what a widget can label: the `keep` busiest nodes of each level
 * (`1: …`, `2: …` as the next-events route names them) stay, the rest of a level becomes
 * `<level>: other`. Links are merged on the way, so every unit is still counted once.
 */
export interface PathLink { source: string; target: string; units: number }

const level = (node: string) => /^(\d+): /.exec(node)?.[1] ?? null;

export function topPaths(links: PathLink[], keep: number): PathLink[] {
  // units through each node: what enters it, or for the root what leaves it
  const through = new Map<string, number>();
  for (const l of links) through.set(l.target, (through.get(l.target) ?? 0) + l.units);
  const byLevel = new Map<string, string[]>();
  for (const node of through.keys()) {
    const lv = level(node);
    if (lv !== null) byLevel.set(lv, [...(byLevel.get(lv) ?? []), node]);
  }
  const kept = new Set<string>();
  for (const nodes of byLevel.values()) {
    nodes.sort((a, b) => through.get(b)! - through.get(a)! || a.localeCompare(b));
    for (const n of nodes.slice(0, keep)) kept.add(n);
  }
  const name = (node: string) => {
    const lv = level(node);
    return lv === null || kept.has(node) ? node : `${lv}: other`;
  };
  const merged = new Map<string, PathLink>();
  for (const l of links) {
    const source = name(l.source);
    const target = name(l.target);
    const key = `${source}\u0000${target}`;
    const m = merged.get(key);
    if (m) m.units += l.units;
    else merged.set(key, { source, target, units: l.units });
  }
  return [...merged.values()];
}
