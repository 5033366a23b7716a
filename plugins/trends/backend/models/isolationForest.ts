/**
 * Isolation forest (Liu, Ting & Zhou, "Isolation Forest", ICDM 2008): anomalies are few and
 * different, so random axis-parallel cuts isolate them in fewer steps. Each tree is grown on
 * a subsample of ψ points (256, or all when fewer) to the height limit ⌈log₂ ψ⌉; a point's
 * score is s = 2^(−E[h(x)] / c(ψ)), with c(n) = 2H(n−1) − 2(n−1)/n the average path length
 * of an unsuccessful search in a binary search tree (H(i) ≈ ln i + γ) and unfinished paths
 * topped up by c(size of the leaf). s near 1: anomaly; below 0.5: ordinary.
 *
 * Cuts are uniform between a feature's min and max in the node, so the scale of a feature
 * does not matter (latency in ms next to an error rate in [0, 1] needs no normalising).
 * Seeded (mulberry32): the same data and seed give the same scores.
 */
import { mulberry32 } from './random.ts';

const EULER = 0.5772156649015329;

/** Average path length of an unsuccessful BST search among n points. */
export function cFactor(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER) - (2 * (n - 1)) / n;
}

type Node = { leaf: true; size: number } | { leaf: false; feature: number; split: number; left: Node; right: Node };

function grow(data: number[][], idx: number[], depth: number, limit: number, rand: () => number): Node {
  if (depth >= limit || idx.length <= 1) return { leaf: true, size: idx.length };
  const dims = data[0]!.length;
  // features that still vary in this node; a node where none does cannot be split
  const varying: Array<{ f: number; lo: number; hi: number }> = [];
  for (let f = 0; f < dims; f++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const i of idx) {
      const v = data[i]![f]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (hi > lo) varying.push({ f, lo, hi });
  }
  if (varying.length === 0) return { leaf: true, size: idx.length };
  const { f, lo, hi } = varying[Math.floor(rand() * varying.length)]!;
  const split = lo + rand() * (hi - lo);
  const left: number[] = [];
  const right: number[] = [];
  for (const i of idx) (data[i]![f]! < split ? left : right).push(i);
  return { leaf: false, feature: f, split, left: grow(data, left, depth + 1, limit, rand), right: grow(data, right, depth + 1, limit, rand) };
}

function pathLength(x: number[], node: Node, depth: number): number {
  let n = node;
  let d = depth;
  while (!n.leaf) {
    n = x[n.feature]! < n.split ? n.left : n.right;
    d++;
  }
  return d + cFactor(n.size);
}

export interface IsolationForestOptions {
  trees?: number;
  sampleSize?: number;
  seed?: number;
}

/** Anomaly scores in (0, 1] for each row of `data` (rows of equal length, finite numbers). */
export function isolationForestScores(data: number[][], opts: IsolationForestOptions = {}): number[] {
  const n = data.length;
  if (n === 0) return [];
  const trees = opts.trees ?? 100;
  const psi = Math.min(opts.sampleSize ?? 256, n);
  const rand = mulberry32(opts.seed ?? 42);
  const limit = Math.ceil(Math.log2(Math.max(2, psi)));
  const forest: Node[] = [];
  const all = Array.from({ length: n }, (_, i) => i);
  for (let t = 0; t < trees; t++) {
    // subsample without replacement (partial Fisher-Yates)
    const pool = all.slice();
    for (let i = 0; i < psi; i++) {
      const j = i + Math.floor(rand() * (n - i));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    forest.push(grow(data, pool.slice(0, psi), 0, limit, rand));
  }
  const c = cFactor(psi);
  return data.map((x) => {
    let s = 0;
    for (const tree of forest) s += pathLength(x, tree, 0);
    const eh = s / trees;
    return c > 0 ? Math.pow(2, -eh / c) : 0.5;
  });
}
