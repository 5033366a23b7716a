/**
 * The pieces a KPI's sparkline is drawn with. A bucket that the range only partly covers (the
 * day still under way, or the first day entered after its start) holds only part of a period's
 * counts: a line drawn to it solid reads as a fall that did not happen. The segments that touch
 * such a bucket are drawn dashed, as incomplete periods are in product analytics charts.
 */

import { partialBucketFlags } from '@orrery/plugin-sdk/frontend';

export type Grain = 'hour' | 'day' | 'week';
const GRAIN_MS: Record<Grain, number> = { hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000 };

/** Whether each bucket lies only partly inside [from, to): the chart kit's rule, with the grain as the bucket's width. */
export function partialBuckets(buckets: string[], grain: Grain, from: string, to: string): boolean[] {
  return partialBucketFlags(buckets.map((t) => ({ t })), GRAIN_MS[grain], { from, to });
}

export interface SparkPiece {
  /** indexes of the points, in order; one index: a point with no neighbour to join */
  points: number[];
  dashed: boolean;
}

/**
 * The polylines of a line over `values`: a missing value breaks the line; a segment is dashed
 * when either end is a partial bucket; consecutive segments of the same style make one piece.
 */
export function sparkPieces(values: Array<number | null>, partial: boolean[]): SparkPiece[] {
  const pieces: SparkPiece[] = [];
  let current: SparkPiece | null = null;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null) { current = null; continue; }
    const joined = i > 0 && values[i - 1] !== null;
    if (!joined) {
      const alone = i + 1 >= values.length || values[i + 1] === null;
      if (alone) pieces.push({ points: [i], dashed: !!partial[i] });
      current = null;
      continue;
    }
    const dashed = !!(partial[i - 1] || partial[i]);
    if (current && current.dashed === dashed) current.points.push(i);
    else pieces.push((current = { points: [i - 1, i], dashed }));
  }
  return pieces;
}
