/**
 * The planner and the raw horizon, property-based: random ranges, level sets and horizons; the
 * pieces must tile the answered range exactly once, with no raw piece before the horizon.
 */
import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, MINUTE_MS, planSegments, type RollupLevel } from './rollups.ts';
import { DEFAULT_RETENTION, currentRawHorizon, dayHorizon, horizonsAt, retentionProblems, withRawHorizon } from './retention.ts';

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SETS: RollupLevel[][] = [[], [{ stepMs: DAY_MS }], [{ stepMs: DAY_MS }, { stepMs: HOUR_MS }], [{ stepMs: DAY_MS }, { stepMs: HOUR_MS }, { stepMs: MINUTE_MS }], [{ stepMs: HOUR_MS }]];
const BASE = Date.UTC(2026, 0, 1);

describe('planSegments with a raw horizon', () => {
  it('tiles the widened range once, reads no raw events before the horizon, keeps the companions', () => {
    const r = rng(42);
    for (let i = 0; i < 3000; i++) {
      const levels = SETS[Math.floor(r() * SETS.length)]!;
      const from = BASE + Math.floor(r() * 60 * DAY_MS);
      const to = from + 1 + Math.floor(r() ** 2 * 40 * DAY_MS);
      const horizon = new Date(BASE + Math.floor(r() * 70) * DAY_MS);
      const watermark = r() < 0.5 ? new Date(BASE + Math.floor(r() * 70 * DAY_MS)) : undefined;
      const segs = planSegments({ from: new Date(from), to: new Date(to) }, levels, { rawHorizon: horizon, watermark });
      const h = horizon.getTime();
      const finest = Math.min(...levels.map((l) => l.stepMs));
      // brute force: what the answer must cover
      let lo = from, hi = to;
      if (from < h) lo = levels.length ? Math.floor(from / finest) * finest : Math.min(h, to);
      if (to < h && levels.length) hi = Math.ceil(to / finest) * finest;
      if (!levels.length && to <= h) hi = lo;
      const main = segs.filter((s) => !s.insertedAfter);
      const ctx = JSON.stringify({ levels: levels.map((l) => l.stepMs), from, to, h });
      let at = lo;
      for (const s of main) {
        expect(s.from.getTime(), ctx).toBe(at);
        at = s.to.getTime();
        if (!s.level) expect(s.from.getTime(), `raw piece before the horizon ${ctx}`).toBeGreaterThanOrEqual(h);
        else {
          expect(s.from.getTime() % s.level.stepMs, ctx).toBe(0);
          expect(s.to.getTime() % s.level.stepMs, ctx).toBe(0);
        }
      }
      expect(at, ctx).toBe(Math.max(hi, lo));
      // every rollup piece has its companion over the same range, and only rollup pieces do
      const companions = segs.filter((s) => s.insertedAfter);
      expect(companions.length, ctx).toBe(watermark ? main.filter((s) => s.level).length : 0);
    }
  });

  it('without a horizon, plans exactly as before (ranges after the horizon too)', () => {
    const r = rng(7);
    const levels = SETS[3]!;
    for (let i = 0; i < 500; i++) {
      const from = BASE + Math.floor(r() * 60 * DAY_MS);
      const range = { from: new Date(from), to: new Date(from + 1 + Math.floor(r() * 10 * DAY_MS)) };
      const plain = planSegments(range, levels);
      expect(planSegments(range, levels, { rawHorizon: new Date(BASE - DAY_MS) })).toEqual(plain);
      expect(planSegments(range, levels, { rawHorizon: null })).toEqual(plain);
    }
  });

  it('takes the horizon of the enclosing withRawHorizon, and an explicit one over it', () => {
    const range = { from: new Date(BASE + 30_500), to: new Date(BASE + 3 * DAY_MS) };
    const levels = SETS[3]!;
    expect(currentRawHorizon()).toBeNull();
    const inside = withRawHorizon(new Date(BASE + DAY_MS), () => planSegments(range, levels));
    expect(inside[0]!.from.getTime()).toBe(BASE);
    expect(inside.every((s) => s.level || s.from.getTime() >= BASE + DAY_MS)).toBe(true);
    const explicit = withRawHorizon(new Date(BASE + DAY_MS), () => planSegments(range, levels, { rawHorizon: null }));
    expect(explicit).toEqual(planSegments(range, levels));
  });
});

describe('retention policy', () => {
  it('horizons are UTC day starts, days back from today', () => {
    const now = new Date(Date.UTC(2026, 11, 4, 21, 7, 3));
    const h = horizonsAt(DEFAULT_RETENTION, now);
    expect(h.rawEventsFrom.toISOString()).toBe(new Date(Date.UTC(2026, 11, 4) - 90 * DAY_MS).toISOString());
    expect(h.aggregatesFrom.getTime()).toBe(Date.UTC(2026, 11, 4) - 730 * DAY_MS);
    expect(h.userActivityFrom.getTime()).toBe(dayHorizon(now, 365).getTime());
  });

  it('refuses rollups that would not outlive raw events', () => {
    expect(retentionProblems(DEFAULT_RETENTION)).toEqual([]);
    expect(retentionProblems({ raw_events_days: 90, aggregates_days: 89, user_activity_days: 90 }).map((p) => p.field)).toEqual(['aggregates_days']);
    expect(retentionProblems({ raw_events_days: 90, aggregates_days: 90, user_activity_days: 30 }).map((p) => p.field)).toEqual(['user_activity_days']);
  });
});
