/**
 * The fast path of calendar retention from the activity rollup: one 64-bit mask per user.
 *
 * The question's periods, from the first cohort's to the last return period of the last
 * cohort, are numbered 0 … N−1 (N = cohorts + periods − 1 ≤ 63). Each rollup row (a user's
 * month and department, or a user's raw events after the watermark) is turned where it lies
 * into fixed-size values — its first start quarter-hour, a mask of the cohort periods it
 * started in, a mask of the periods it returned in (bit N: "after the last one", for
 * `on_or_after`) — and the per-user merge is then `min` and `groupBitOr` over plain numbers
 * instead of concatenating arrays of quarter-hours. The cohort arithmetic stays in
 * ClickHouse: per user their cohort index(es) c and, for each k, one bit test; `sumForEach`
 * per cohort returns only the cohorts × periods counts.
 *
 * Exact for the same reason as the array path: a quarter-hour lies wholly in one period of
 * the zone (the caller checked the zone's offsets), so the period of its start is the period
 * of every event in it. Masks are ORs and minima, so a user's rows in several months,
 * departments or unmerged parts — or a quarter-hour read both from the rollup and raw —
 * change nothing.
 *
 * Covers calendar windows without a breakdown, both modes and countings, any start and return
 * events, department scope and cohort members; the caller uses the array path beyond 63
 * periods and for breakdowns.
 */
import { QUARTER_MS, quarterStartSql } from './rollup.ts';
import { STEP, periodKeySql, type Period } from './periods.ts';

/** bits 0…62 for periods, bit 63 for "after the last" */
export const MAX_MASK_PERIODS = 63;

export interface MaskQuestion {
  period: Period;
  periods: number;
  mode: 'first_time' | 'recurring';
  counting: 'exact' | 'on_or_after';
  /** cohort keys, oldest first, consecutive */
  keys: number[];
  span: { startFrom: Date; startTo: Date; returnTo: Date };
}

/** how many mask bits the question's periods take (the array path answers above MAX_MASK_PERIODS) */
export const maskPeriods = (cohorts: number, periods: number) => cohorts + periods - 1;

/**
 * SQL giving rows `(b, p, k, n)` as the array path does (`b` empty, `p` the cohort key, `k` the
 * period after it, `n` the members: `k = 0` is the cohort's size) from `sets` (columns
 * `user_id, s, r`: start and return quarter-hours, see `activitySets`). Params it needs go in
 * `params` (`tz` and `kmin` are already there).
 */
export function maskRetentionSql(q: MaskQuestion, sets: string, params: Record<string, unknown>): string {
  const { period, periods, keys } = q;
  const step = STEP[period];
  const cohorts = keys.length;
  const n = maskPeriods(cohorts, periods);
  if (n > MAX_MASK_PERIODS) throw new Error(`${n} periods do not fit a 64-bit mask`);
  params.m_q_s_from = q.span.startFrom.getTime() / QUARTER_MS;
  params.m_q_s_to = q.span.startTo.getTime() / QUARTER_MS;
  params.m_q_r_to = q.span.returnTo.getTime() / QUARTER_MS;
  // the index of the period holding quarter-hour `x` (x inside the question's span)
  const index = (x: string) => `intDiv(${periodKeySql(quarterStartSql(x), period)} - {kmin:Int64}, ${step})`;
  const bit = (i: string) => `bitShiftLeft(toUInt64(1), ${i})`;
  const mask = (arr: string, cond: string, i: string) => `arrayReduce('groupBitOr', arrayMap(x -> ${bit(i)}, arrayFilter(x -> ${cond}, ${arr})))`;
  const inStarts = 'x >= {m_q_s_from:UInt32} AND x < {m_q_s_to:UInt32}';
  const returns =
    q.counting === 'exact'
      ? mask('r', 'x >= {m_q_s_from:UInt32} AND x < {m_q_r_to:UInt32}', index('x'))
      : mask('r', 'x >= {m_q_s_from:UInt32}', `if(x >= {m_q_r_to:UInt32}, ${n}, ${index('x')})`);
  const perRow =
    q.mode === 'first_time'
      ? `if(notEmpty(s), arrayMin(s), toUInt32(4294967295)) AS f, ${returns} AS rm`
      : `${mask('s', inStarts, index('x'))} AS sm, ${returns} AS rm`;
  const perUser = q.mode === 'first_time' ? 'min(f) AS f, groupBitOr(rm) AS rm' : 'groupBitOr(sm) AS sm, groupBitOr(rm) AS rm';
  // first_time: one cohort, the period of the first start ever when it lies in the cohorts' span
  const cohortsOf =
    q.mode === 'first_time'
      ? `if(f >= {m_q_s_from:UInt32} AND f < {m_q_s_to:UInt32}, [toUInt64(${index('f')})], [])`
      : `arrayFilter(c -> bitTest(sm, c), range(toUInt64(${cohorts})))`;
  // c + k ≤ N − 1 < 63, so every shift and bit test stays inside the mask
  const retainedAt = q.counting === 'exact' ? 'bitTest(rm, c + k)' : 'bitShiftRight(rm, c + k) != 0';
  return `SELECT '' AS b, {kmin:Int64} + toInt64(c) * ${step} AS p, toInt64(kk - 1) AS k, cnt AS n
      FROM (
        SELECT c, sumForEach(arrayMap(k -> toUInt64(k = 0 OR ${retainedAt}), range(toUInt64(${periods})))) AS counts
          FROM (SELECT ${perUser} FROM (SELECT user_id, ${perRow} FROM ${sets}) GROUP BY user_id)
          ARRAY JOIN ${cohortsOf} AS c
         GROUP BY c)
      ARRAY JOIN counts AS cnt, arrayEnumerate(counts) AS kk
     WHERE k = 0 OR cnt > 0`;
}
