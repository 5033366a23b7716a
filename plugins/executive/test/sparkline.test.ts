/**
 * The KPI sparkline's pieces (`frontend/src/sparkline.ts`), over random series with gaps and
 * partial buckets: every segment between two present neighbours is drawn exactly once, dashed
 * exactly when it touches a partial bucket; nothing is drawn across a gap; a point with no
 * present neighbour is drawn alone. And which buckets are partial, against a range.
 */
import { describe, expect, it } from 'vitest';
import { rng } from '@orrery/backend-test-utils/random';
import { partialBuckets, sparkPieces } from '../frontend/src/sparkline.ts';

describe('KPI sparkline pieces', () => {
  it('draw each segment once, dashed exactly where a partial bucket ends it', () => {
    const rand = rng(11);
    for (let round = 0; round < 500; round++) {
      const n = 1 + Math.floor(rand() * 12);
      const values = Array.from({ length: n }, () => (rand() < 0.25 ? null : rand() * 100));
      const partial = Array.from({ length: n }, () => rand() < 0.3);
      const pieces = sparkPieces(values, partial);
      // the reference, segment by segment and point by point
      const want = new Map<string, boolean>();
      const alone = new Map<number, boolean>();
      for (let i = 0; i < n; i++) {
        if (values[i] === null) continue;
        if (i + 1 < n && values[i + 1] !== null) want.set(`${i}-${i + 1}`, partial[i] || partial[i + 1]!);
        const left = i > 0 && values[i - 1] !== null, right = i + 1 < n && values[i + 1] !== null;
        if (!left && !right) alone.set(i, partial[i]!);
      }
      const got = new Map<string, boolean>();
      const gotAlone = new Map<number, boolean>();
      for (const p of pieces) {
        if (p.points.length === 1) { gotAlone.set(p.points[0]!, p.dashed); continue; }
        for (let k = 1; k < p.points.length; k++) {
          const key = `${p.points[k - 1]}-${p.points[k]}`;
          expect(got.has(key), `segment ${key} drawn twice`).toBe(false);
          got.set(key, p.dashed);
        }
      }
      expect(got, JSON.stringify({ values, partial, pieces })).toEqual(want);
      expect(gotAlone).toEqual(alone);
      // consecutive pieces of one style are merged: two touching pieces differ in style
      for (let k = 1; k < pieces.length; k++) {
        const a = pieces[k - 1]!, b = pieces[k]!;
        if (a.points.at(-1) === b.points[0]) expect(a.dashed).not.toBe(b.dashed);
      }
    }
  });

  it('mark the buckets a range covers only in part', () => {
    const days = ['2026-12-01T00:00:00Z', '2026-12-02T00:00:00Z', '2026-12-03T00:00:00Z'];
    // a range from the middle of the first day to the middle of the last
    expect(partialBuckets(days, 'day', '2026-12-01T10:00:00Z', '2026-12-03T10:00:00Z')).toEqual([true, false, true]);
    // whole days
    expect(partialBuckets(days, 'day', '2026-12-01T00:00:00Z', '2026-12-04T00:00:00Z')).toEqual([false, false, false]);
    // hours, the last under way
    const hours = ['2026-12-01T10:00:00Z', '2026-12-01T11:00:00Z'];
    expect(partialBuckets(hours, 'hour', '2026-12-01T10:00:00Z', '2026-12-01T11:30:00Z')).toEqual([false, true]);
    // a week of buckets in a zone east of UTC: starts at 23:00 UTC the day before
    const weeks = ['2026-11-29T23:00:00Z', '2026-12-06T23:00:00Z'];
    expect(partialBuckets(weeks, 'week', '2026-11-29T23:00:00Z', '2026-12-10T00:00:00Z')).toEqual([false, true]);
  });
});
