/**
 * Time series over a range that starts and ends inside a bucket (`charts/specs.ts`): over random
 * series with gaps and holes, random bucket widths and ranges, every segment between two drawn
 * neighbours is drawn exactly once, dotted exactly when one of its ends is a bucket the range
 * covers only in part (judged here by the covered length: more than none, less than all), and
 * every value answers a hover exactly once. Without a range nothing changes.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../random.ts';
import { toZonedWallTime } from './format.ts';
import { partialBucketFlags, timeSeriesSpec, withMissingBuckets } from './charts/specs.ts';

const HOUR = 3_600_000;

function randomCase(r: () => number) {
  const step = [HOUR, 24 * HOUR][Math.floor(r() * 2)]!;
  const start = Date.UTC(2026, 11, 1) + Math.floor(r() * 48) * HOUR;
  const n = 1 + Math.floor(r() * 14);
  const points: Array<{ t: string; v: number | null }> = [];
  for (let i = 0, k = 0; i < n; i++, k++) {
    if (r() < 0.15) k++; // a missing bucket: a hole the line breaks at
    points.push({ t: new Date(start + k * step).toISOString(), v: r() < 0.15 ? null : Math.round(r() * 100) });
  }
  const first = Date.parse(points[0]!.t), last = Date.parse(points[points.length - 1]!.t) + step;
  // the range's ends anywhere from a bucket before the first to one after the last
  const at = () => first - step + Math.floor(r() * ((last - first + 2 * step) / 60_000)) * 60_000;
  const [a, b] = [at(), at()].sort((x, y) => x - y);
  return { step, points, range: { from: new Date(a!).toISOString(), to: new Date(b! + 60_000).toISOString() } };
}

describe('time series over a range cut inside its buckets', () => {
  it('draws each segment once, dotted where it reaches a partial bucket, and hovers each value once', () => {
    const r = seededRandom(5);
    let dottedSeen = 0;
    for (let round = 0; round < 400; round++) {
      const { points, range } = randomCase(r);
      const spec = timeSeriesSpec({ series: [{ name: 's', points }] }, { locale: 'en-US', tz: 'UTC', range });
      // what is drawn, as the points after holes are made explicit (the chart's own step: the smallest)
      const smallest = points.slice(1).reduce((m, p, i) => Math.min(m, Date.parse(p.t) - Date.parse(points[i]!.t)), Infinity);
      const all = withMissingBuckets(points, Number.isFinite(smallest) ? smallest : null, 'gap');
      const stepUsed = Number.isFinite(smallest) ? smallest : null;
      const index = new Map(all.map((p, i) => [toZonedWallTime(p.t, 'UTC'), i]));
      const present = (i: number) => i >= 0 && i < all.length && all[i]!.v !== null;
      // the reference: a bucket is partial when the range covers more than none and less than all of it
      const partial = all.map((p) => {
        if (!stepUsed) return false;
        const s = Date.parse(p.t), e = s + stepUsed;
        const covered = Math.min(e, Date.parse(range.to)) - Math.max(s, Date.parse(range.from));
        return covered > 0 && covered < stepUsed;
      });
      expect(partialBucketFlags(all, stepUsed, range)).toEqual(partial);
      const want = new Map<string, boolean>();
      for (let i = 0; i + 1 < all.length; i++) if (present(i) && present(i + 1)) want.set(`${i}-${i + 1}`, partial[i]! || partial[i + 1]!);
      const got = new Map<string, boolean>();
      const hovered = new Map<number, number>();
      for (const trace of spec.data) {
        const dotted = (trace.line as { dash?: string }).dash === 'dot';
        const xs = trace.x as string[], ys = trace.y as Array<number | null>;
        const hoverinfo = trace.hoverinfo as string[] | undefined;
        for (let k = 0; k < xs.length; k++) {
          if (ys[k] === null) continue;
          const i = index.get(xs[k]!)!;
          if (!hoverinfo || hoverinfo[k] !== 'skip') hovered.set(i, (hovered.get(i) ?? 0) + 1);
          if (k + 1 < xs.length && ys[k + 1] !== null) {
            const key = `${i}-${index.get(xs[k + 1]!)}`;
            expect(got.has(key), `${key} drawn twice`).toBe(false);
            got.set(key, dotted);
          }
        }
      }
      expect(got, JSON.stringify({ points, range })).toEqual(want);
      for (let i = 0; i < all.length; i++) if (present(i)) expect(hovered.get(i), `value ${i} hovered`).toBe(1);
      dottedSeen += [...got.values()].filter(Boolean).length;
      // the table and the drill-down keep the series as given
      expect(spec.table.rows.length).toBe(new Set(points.map((p) => p.t)).size);
    }
    expect(dottedSeen).toBeGreaterThan(50);
  });

  it('changes nothing without a range, for bars, and for stacked areas', () => {
    const points = [0, 1, 2].map((i) => ({ t: new Date(Date.UTC(2026, 11, 1, 10) + i * HOUR).toISOString(), v: i + 1 }));
    const range = { from: '2026-12-01T10:30:00.000Z', to: '2026-12-01T12:30:00.000Z' };
    const plain = timeSeriesSpec({ series: [{ name: 's', points }] }, { locale: 'en-US', tz: 'UTC' });
    expect(plain.data).toHaveLength(1);
    expect(timeSeriesSpec({ series: [{ name: 's', points }] }, { locale: 'en-US', tz: 'UTC', range }).data).toHaveLength(2);
    expect(timeSeriesSpec({ series: [{ name: 's', points }], kind: 'bar' }, { locale: 'en-US', tz: 'UTC', range }).data).toHaveLength(1);
    expect(timeSeriesSpec({ series: [{ name: 's', points }], kind: 'area', stacked: true }, { locale: 'en-US', tz: 'UTC', range }).data).toHaveLength(1);
    // calendar days name whole days
    const days = ['2026-12-01', '2026-12-02'].map((t, i) => ({ t, v: i }));
    expect(timeSeriesSpec({ series: [{ name: 's', points: days }] }, { locale: 'en-US', tz: 'UTC', range }).data).toHaveLength(1);
  });
});
