/**
 * `transfer` before and after the call codes, for knowledge-pieces.ts (same process, same data,
 * alternated): `previous` is the statement of commit 0f7f6ea, copied here, which reads the
 * (DateTime64, UInt8) pairs; `current` is the plugin's `transfer`. The fold writes no pairs any
 * more: the first call fills them from the aggregate states, as migration 0004 does.
 *
 *   echo '{"module":"'$PWD'/scripts/bench/knowledge-variants/transfer-codes.ts","runs":9}' > $PIECES_DIR/req-1.json
 */
import { freshRowsSql, type AnalyticsClient, type TimeRange } from '@orrery/plugin-sdk';
import { transfer, type Watermarks } from '../../../plugins/knowledge/backend/queries.ts';
import { FIRST_CROSS_DEPARTMENT_REUSES } from '../../../plugins/knowledge/backend/artifacts.ts';

const HOUR_OF = (x: string) => `toDateTime(toStartOfHour(${x}), 'UTC')`;
const FRESH = `org_id = {org_id:String} AND event_type = 'agent_invocation' AND user_id != '' AND ${freshRowsSql('wm')}`;
const rangeParams = (r: TimeRange) => ({ from: r.fromCh, to: r.toCh });
const n = (x: unknown) => Number(x ?? 0);
const ratio = (a: number, b: number) => (b === 0 ? null : a / b);

const filled = globalThis as { knowledgePairsFilled?: boolean };
async function fillPairs(a: AnalyticsClient) {
  if (filled.knowledgePairsFilled) return;
  await a.query('ALTER TABLE {db}.knowledge_invocation_hours UPDATE call_pairs = finalizeAggregation(calls) WHERE empty(call_pairs) AND invocations > 0 SETTINGS mutations_sync = 2');
  filled.knowledgePairsFilled = true;
}

function hourRowsPairs(fromSql: string, toSql: string): string {
  return `
    SELECT user_id, bucket, invocations, successes, call_pairs AS pairs
    FROM {db}.knowledge_invocation_hours
    WHERE org_id = {org_id:String} AND bucket >= ${fromSql} AND bucket < ${toSql}
    UNION ALL
    SELECT user_id, toDateTime(toStartOfHour(timestamp), 'UTC') AS bucket, count() AS invocations, countIf(status = 'success') AS successes,
           groupArray((timestamp, toUInt8(status = 'success'))) AS pairs
    FROM {db}.events
    WHERE ${FRESH} AND timestamp >= ${fromSql} AND timestamp < ${toSql}
    GROUP BY user_id, bucket`;
}

async function transferPairs(a: AnalyticsClient, range: TimeRange, weeks: number, wm: Watermarks) {
  const W = 'toIntervalWeek({weeks:UInt32})';
  // the sample, numbered, with its window bounds and the three hours they cut, computed once per sample row
  const sample = `
    SELECT row_number() OVER () AS sid, src, reuser, first, first - ${W} AS f_lo, first + ${W} AS f_hi,
           ${HOUR_OF('f_lo')} AS h_lo, ${HOUR_OF('first')} AS h_mid, ${HOUR_OF('f_hi')} AS h_hi
    FROM (${FIRST_CROSS_DEPARTMENT_REUSES})
    WHERE first >= toDateTime64({from:String}, 3, 'UTC') AND first < toDateTime64({to:String}, 3, 'UTC')`;
  const spanFrom = HOUR_OF(`toDateTime64({from:String}, 3, 'UTC') - ${W}`);
  const spanTo = `toDateTime64({to:String}, 3, 'UTC') + ${W} + INTERVAL 1 HOUR`;
  // the pairs of a cut hour that fall inside the window
  const cut = (lo: string, hi: string, ok: boolean) => `arrayCount(y -> ${ok ? 'y.2 = 1 AND ' : ''}y.1 >= ${lo} AND y.1 < ${hi}, cut)`;
  const rows = await a.query<Record<string, unknown>>(
    `SELECT src AS from_department_id, count() AS reusers,
            sum(b_inv) AS invocations_before, sum(b_ok) AS successes_before,
            sum(a_inv) AS invocations_after, sum(a_ok) AS successes_after,
            countIf(b_inv > 0 AND a_inv > 0) AS reusers_with_both
     FROM (
       SELECT any(src) AS src,
              sum(in_before * invocations + ${cut('f_lo', 'f_mid', false)}) AS b_inv, sum(in_before * successes + ${cut('f_lo', 'f_mid', true)}) AS b_ok,
              sum(in_after * invocations + ${cut('f_mid', 'f_hi', false)}) AS a_inv, sum(in_after * successes + ${cut('f_mid', 'f_hi', true)}) AS a_ok
       FROM (
         SELECT f.sid AS sid, f.src AS src, f.f_lo AS f_lo, f.first AS f_mid, f.f_hi AS f_hi,
                h.bucket > f.h_lo AND h.bucket < f.h_mid AS in_before, h.bucket > f.h_mid AND h.bucket < f.h_hi AS in_after,
                h.invocations AS invocations, h.successes AS successes,
                if(h.bucket = f.h_lo OR h.bucket = f.h_mid OR h.bucket = f.h_hi, h.pairs, []) AS cut
         -- the sample on the right: the small side is the one hashed; a person without invocations keeps their row
         FROM (${hourRowsPairs(spanFrom, spanTo)}) AS h
         RIGHT JOIN (${sample}) AS f ON h.user_id = f.reuser
       )
       -- by the sample row's number: grouping ~1 M joined rows by two strings cost more than the join
       GROUP BY sid
     )
     GROUP BY from_department_id
     ORDER BY reusers DESC, from_department_id`,
    { ...rangeParams(range), weeks, wm: wm.invocations.getTime(), awm: wm.artifacts.getTime() },
  );
  return rows.map((r) => {
    const bi = n(r.invocations_before), bo = n(r.successes_before), ai = n(r.invocations_after), ao = n(r.successes_after);
    const before = ratio(bo, bi), after = ratio(ao, ai);
    return {
      from_department_id: String(r.from_department_id),
      reusers: n(r.reusers),
      reusers_with_both: n(r.reusers_with_both),
      invocations_before: bi,
      invocations_after: ai,
      success_rate_before: before,
      success_rate_after: after,
      change: before === null || after === null ? null : after - before,
    };
  });
}

export const variants = {
  previous: async (a: AnalyticsClient, r: TimeRange, wm: Watermarks) => { await fillPairs(a); return transferPairs(a, r, 2, wm); },
  current: (a: AnalyticsClient, r: TimeRange, wm: Watermarks) => transfer(a, r, 2, wm),
};
