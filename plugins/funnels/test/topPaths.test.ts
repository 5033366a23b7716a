/**
 * The Paths widget's cut of a Sankey (`frontend/src/topPaths.ts`), over random two-level paths:
 * at most `keep` named nodes per level plus `other`, the busiest ones kept, and every unit still
 * counted once, checked against sums made here from the links as given.
 */
import { describe, expect, it } from 'vitest';
import { topPaths, type PathLink } from '../frontend/src/topPaths.ts';
import { rng } from './reference.ts';

function randomPaths(seed: number): PathLink[] {
  const r = rng(seed);
  const firsts = Array.from({ length: 3 + Math.floor(r() * 15) }, (_, i) => `1: e${i}`);
  const seconds = Array.from({ length: 2 + Math.floor(r() * 15) }, (_, i) => `2: f${i}`);
  const links = new Map<string, PathLink>();
  const add = (source: string, target: string, units: number) => {
    const l = links.get(`${source}|${target}`) ?? { source, target, units: 0 };
    l.units += units;
    links.set(`${source}|${target}`, l);
  };
  for (let u = 0; u < 200; u++) {
    const first = firsts[Math.floor(Math.pow(r(), 2) * firsts.length)]!;
    add('step 0', first, 1);
    if (r() < 0.8) add(first, seconds[Math.floor(Math.pow(r(), 2) * seconds.length)]!, 1);
  }
  return [...links.values()];
}

const sumBy = (links: PathLink[], key: (l: PathLink) => string) => {
  const m = new Map<string, number>();
  for (const l of links) m.set(key(l), (m.get(key(l)) ?? 0) + l.units);
  return m;
};

describe('topPaths', () => {
  it('keeps the busiest nodes of each level, folds the rest into other, and loses no unit', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const links = randomPaths(seed);
      const keep = 1 + (seed % 7);
      const cut = topPaths(links, keep);
      const total = (ls: PathLink[]) => ls.reduce((a, l) => a + l.units, 0);
      expect(total(cut), `seed ${seed}`).toBe(total(links));
      for (const lv of ['1', '2']) {
        const into = sumBy(links.filter((l) => l.target.startsWith(`${lv}: `)), (l) => l.target);
        const ranked = [...into].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
        const named = new Set(cut.flatMap((l) => [l.source, l.target]).filter((n) => n.startsWith(`${lv}: `) && n !== `${lv}: other`));
        expect([...named].sort(), `seed ${seed} level ${lv}`).toEqual(ranked.slice(0, keep).map(([n]) => n).sort());
        // other carries exactly the units of the nodes left out
        const otherIn = cut.filter((l) => l.target === `${lv}: other`).reduce((a, l) => a + l.units, 0);
        expect(otherIn).toBe(ranked.slice(keep).reduce((a, [, n]) => a + n, 0));
      }
      // no link twice
      expect(new Set(cut.map((l) => `${l.source}|${l.target}`)).size).toBe(cut.length);
    }
  });
});
