/**
 * Reading rollups without losing exactness at the edges of a time range.
 *
 * A plugin keeps rollups of aggregate-function states per minute, hour and
 * day (UTC buckets; declared with `defineRollup`, see rollupsDecl.ts). A question over `[from, to)` rarely starts on a
 * day boundary, so it is answered from several sources at once: whole days
 * from the day rollup, the leftover whole hours from the hour rollup, the
 * leftover minutes from the minute rollup and the sub-minute edges from raw
 * events. Each piece yields the same aggregate states, so the caller merges
 * them with one `UNION ALL` and `…Merge` functions and gets the figure the raw
 * events would give, at the cost of reading a few thousand rollup rows.
 *
 *   const levels = usableLevels(LEVELS, { granularity: 'day', tz, from, to });
 *   for (const seg of planSegments({ from, to }, levels)) {
 *     seg.level ? rollupArm(seg.level.table, seg) : rawArm(seg);
 *   }
 */
import { zoneOffsetMs, type Granularity } from './timeRange.ts';
import { currentRawHorizon } from './retention.ts';

export interface RollupLevel {
  /** bucket width of the rollup, in ms (buckets are aligned on the UTC epoch) */
  stepMs: number;
}

export interface Segment<L extends RollupLevel> {
  /** the rollup that answers this piece, or null for raw events */
  level: L | null;
  from: Date;
  to: Date;
  /**
   * on a raw piece planned with a watermark: only source rows inserted after it (the part of
   * a rollup piece's range that the rollup does not hold yet)
   */
  insertedAfter?: Date;
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/**
 * Splits `[from, to)` into pieces, coarsest rollup first: the biggest aligned
 * middle goes to the coarsest level, each leftover edge to the next finer
 * one, and whatever no level covers to raw events (`level: null`). At most
 * two pieces per level plus two raw edges.
 *
 * With the `watermark` of declared rollups (see rollupsDecl.ts), every rollup piece gets a
 * raw companion over the same range limited to rows inserted after the watermark, so the
 * answer counts every event once: in a rollup if it was folded, raw if not yet.
 *
 * With a `rawHorizon` (where the org's raw-event expiry has reached; inside `ctx.rollups.read`
 * the kernel's applies by itself) no raw piece starts before it: raw events older than that
 * are being expired, so whatever is left of them is incomplete. The part of the range before the
 * horizon is answered by rollups only, its edges widened outward to the finest level's buckets
 * (the answer covers whole minutes or hours there); without any level it is left out. Rows not
 * folded yet are still read raw (the companions): expiry deletes only folded rows.
 */
export function planSegments<L extends RollupLevel>(
  range: { from: Date; to: Date },
  levels: readonly L[],
  opts: { watermark?: Date; rawHorizon?: Date | null } = {},
): Segment<L>[] {
  const ordered = [...levels].sort((a, b) => b.stepMs - a.stepMs);
  const cover = (from: number, to: number, i: number): Segment<L>[] => {
    if (from >= to) return [];
    const level = ordered[i];
    if (!level) return [{ level: null, from: new Date(from), to: new Date(to) }];
    const start = Math.ceil(from / level.stepMs) * level.stepMs;
    const end = Math.floor(to / level.stepMs) * level.stepMs;
    if (start >= end) return cover(from, to, i + 1);
    return [...cover(from, start, i + 1), { level, from: new Date(start), to: new Date(end) }, ...cover(end, to, i + 1)];
  };
  const from = range.from.getTime(), to = range.to.getTime();
  const horizon = (opts.rawHorizon === undefined ? currentRawHorizon() : opts.rawHorizon)?.getTime();
  let segments: Segment<L>[];
  if (horizon === undefined || from >= horizon) segments = cover(from, to, 0);
  else {
    const finest = ordered.at(-1)?.stepMs;
    const oldTo = Math.min(to, horizon);
    // before the horizon only rollups answer: both edges move out to the finest bucket
    const oldEnd = finest ? Math.ceil(oldTo / finest) * finest : oldTo;
    const old = finest ? cover(Math.floor(from / finest) * finest, oldEnd, 0) : [];
    segments = [...old, ...cover(Math.max(oldEnd, horizon), to, 0)];
  }
  const w = opts.watermark;
  if (!w) return segments;
  return segments.flatMap((s) => (s.level ? [s, { level: null, from: s.from, to: s.to, insertedAfter: w }] : [s]));
}

const GRANULARITY_MS: Record<Granularity, number> = {
  minute: MINUTE_MS,
  hour: HOUR_MS,
  day: DAY_MS,
  week: DAY_MS,
  month: DAY_MS,
};

/**
 * The levels whose UTC buckets nest inside the requested buckets, so that
 * every rollup row falls into exactly one output bucket:
 *
 * - a level finer than the granularity's base unit (minute for minute series,
 *   hour for hourly, day for days, weeks and months), and
 * - a zone whose UTC offset stays a multiple of the level's width over the
 *   range. An hour rollup cannot make days in Asia/Kolkata (+05:30); a day
 *   rollup makes UTC days only.
 *
 * Without a granularity (totals over the range) every level qualifies.
 */
export function usableLevels<L extends RollupLevel>(
  levels: readonly L[],
  q: { granularity?: Granularity; tz: string; from: Date; to: Date },
): L[] {
  const offsets = zoneOffsets(q.tz, q.from, q.to);
  return levels.filter((l) => {
    if (!q.granularity) return true;
    if (l.stepMs > GRANULARITY_MS[q.granularity]) return false;
    return offsets.every((o) => o % l.stepMs === 0);
  });
}

/** The zone's distinct UTC offsets (ms) over `[from, to]`, sampled twice a day. */
export function zoneOffsets(tz: string, from: Date, to: Date): number[] {
  if (tz === 'UTC' || tz === 'Etc/UTC') return [0];
  const offsetAt = (ms: number) => zoneOffsetMs(new Date(ms), tz);
  const out = new Set<number>();
  // offsets change a few times a year and stay for months: twice a day cannot miss one
  for (let t = from.getTime(); t < to.getTime(); t += DAY_MS / 2) out.add(offsetAt(t));
  out.add(offsetAt(to.getTime()));
  return [...out];
}
