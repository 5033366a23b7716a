/**
 * Where `transfer`'s CPU goes, for knowledge-pieces.ts: the statement with the call codes in
 * three arrays per joined row (`whole`) and in one (`oneCut`, as the plugin now does), without
 * the codes (`noCodes`), the planning alone (`EXPLAIN PLAN` of the whole and of its pieces), the
 * sample alone and the span's hour rows alone. The answers are the raw rows (successes, not rates).
 */
import type { AnalyticsClient, TimeRange } from '@orrery/plugin-sdk';
import type { Watermarks } from '../../../plugins/knowledge/backend/queries.ts';
import { FIRST_CROSS_DEPARTMENT_REUSES } from '../../../plugins/knowledge/backend/artifacts.ts';
import { freshRowsSql } from '@orrery/plugin-sdk';

const HOUR_OF = (x: string) => `toDateTime(toStartOfHour(${x}), 'UTC')`;
const FRESH = `org_id = {org_id:String} AND event_type = 'agent_invocation' AND user_id != '' AND ${freshRowsSql('wm')}`;
const CODE = "toUInt32(toUnixTimestamp64Milli(timestamp) % 3600000 * 2 + (status = 'success'))";
const W = 'toIntervalWeek({weeks:UInt32})';
const spanFrom = HOUR_OF(`toDateTime64({from:String}, 3, 'UTC') - ${W}`);
const spanTo = `toDateTime64({to:String}, 3, 'UTC') + ${W} + INTERVAL 1 HOUR`;
const hours = `
    SELECT user_id, bucket, invocations, successes, call_codes AS codes
    FROM {db}.knowledge_invocation_hours
    WHERE org_id = {org_id:String} AND bucket >= ${spanFrom} AND bucket < ${spanTo}
    UNION ALL
    SELECT user_id, toDateTime(toStartOfHour(timestamp), 'UTC') AS bucket, count() AS invocations, countIf(status = 'success') AS successes,
           groupArray(${CODE}) AS codes
    FROM {db}.events
    WHERE ${FRESH} AND timestamp >= ${spanFrom} AND timestamp < ${spanTo}
    GROUP BY user_id, bucket`;
const sample = `
    SELECT row_number() OVER () AS sid, src, reuser, first, first - ${W} AS f_lo, first + ${W} AS f_hi,
           ${HOUR_OF('f_lo')} AS h_lo, ${HOUR_OF('first')} AS h_mid, ${HOUR_OF('f_hi')} AS h_hi,
           toUInt32(toUnixTimestamp64Milli(f_lo) % 3600000 * 2) AS o_lo, toUInt32(toUnixTimestamp64Milli(first) % 3600000 * 2) AS o_mid,
           toUInt32(toUnixTimestamp64Milli(f_hi) % 3600000 * 2) AS o_hi
    FROM (${FIRST_CROSS_DEPARTMENT_REUSES})
    WHERE first >= toDateTime64({from:String}, 3, 'UTC') AND first < toDateTime64({to:String}, 3, 'UTC')`;
const wholeOneCut = `SELECT src AS from_department_id, count() AS reusers,
            sum(b_inv) AS invocations_before, sum(b_ok) AS successes_before,
            sum(a_inv) AS invocations_after, sum(a_ok) AS successes_after,
            countIf(b_inv > 0 AND a_inv > 0) AS reusers_with_both
     FROM (
       SELECT any(src) AS src,
              sum(in_before * invocations + arrayCount(c -> c >= b_lo AND c < b_hi, cut)) AS b_inv,
              sum(in_before * successes + arrayCount(c -> c >= b_lo AND c < b_hi AND bitAnd(c, 1), cut)) AS b_ok,
              sum(in_after * invocations + arrayCount(c -> c >= a_lo AND c < a_hi, cut)) AS a_inv,
              sum(in_after * successes + arrayCount(c -> c >= a_lo AND c < a_hi AND bitAnd(c, 1), cut)) AS a_ok
       FROM (
         SELECT f.sid AS sid, f.src AS src,
                h.bucket > f.h_lo AND h.bucket < f.h_mid AS in_before, h.bucket > f.h_mid AND h.bucket < f.h_hi AS in_after,
                h.invocations AS invocations, h.successes AS successes,
                h.bucket = f.h_lo AS at_lo, h.bucket = f.h_mid AS at_mid, h.bucket = f.h_hi AS at_hi,
                if(at_lo, f.o_lo, if(at_mid, 0, 7200000)) AS b_lo, if(at_mid, f.o_mid, 7200000) AS b_hi,
                if(at_mid, f.o_mid, if(at_hi, 0, 7200000)) AS a_lo, if(at_hi, f.o_hi, 7200000) AS a_hi,
                if(at_lo OR at_mid OR at_hi, h.codes, []) AS cut
         FROM (${hours}) AS h
         RIGHT JOIN (${sample}) AS f ON h.user_id = f.reuser
       )
       GROUP BY sid
     )
     GROUP BY from_department_id
     ORDER BY reusers DESC, from_department_id`;
const whole = (withCodes: boolean) => `SELECT src AS from_department_id, count() AS reusers,
            sum(b_inv) AS invocations_before, sum(b_ok) AS successes_before,
            sum(a_inv) AS invocations_after, sum(a_ok) AS successes_after,
            countIf(b_inv > 0 AND a_inv > 0) AS reusers_with_both
     FROM (
       SELECT any(src) AS src,
              sum(in_before * invocations ${withCodes ? '+ arrayCount(c -> c >= o_lo, cut_lo) + arrayCount(c -> c < o_mid, cut_mid)' : ''}) AS b_inv,
              sum(in_before * successes ${withCodes ? '+ arrayCount(c -> c >= o_lo AND bitAnd(c, 1), cut_lo) + arrayCount(c -> c < o_mid AND bitAnd(c, 1), cut_mid)' : ''}) AS b_ok,
              sum(in_after * invocations ${withCodes ? '+ arrayCount(c -> c >= o_mid, cut_mid) + arrayCount(c -> c < o_hi, cut_hi)' : ''}) AS a_inv,
              sum(in_after * successes ${withCodes ? '+ arrayCount(c -> c >= o_mid AND bitAnd(c, 1), cut_mid) + arrayCount(c -> c < o_hi AND bitAnd(c, 1), cut_hi)' : ''}) AS a_ok
       FROM (
         SELECT f.sid AS sid, f.src AS src, f.o_lo AS o_lo, f.o_mid AS o_mid, f.o_hi AS o_hi,
                h.bucket > f.h_lo AND h.bucket < f.h_mid AS in_before, h.bucket > f.h_mid AND h.bucket < f.h_hi AS in_after,
                h.invocations AS invocations, h.successes AS successes
                ${withCodes ? ', if(h.bucket = f.h_lo, h.codes, []) AS cut_lo, if(h.bucket = f.h_mid, h.codes, []) AS cut_mid, if(h.bucket = f.h_hi, h.codes, []) AS cut_hi' : ''}
         FROM (${hours}) AS h
         RIGHT JOIN (${sample}) AS f ON h.user_id = f.reuser
       )
       GROUP BY sid
     )
     GROUP BY from_department_id
     ORDER BY reusers DESC, from_department_id`;

const run = (sql: string) => async (a: AnalyticsClient, range: TimeRange, wm: Watermarks) =>
  a.query(sql, { from: range.fromCh, to: range.toCh, weeks: 2, wm: wm.invocations.getTime(), awm: wm.artifacts.getTime() });

export const variants = {
  whole: run(whole(true)),
  oneCut: run(wholeOneCut),
  noCodes: run(whole(false)),
  plan: run(`EXPLAIN PLAN ${whole(true)}`),
  planNoCodes: run(`EXPLAIN PLAN ${whole(false)}`),
  planSample: run(`EXPLAIN PLAN SELECT count(), sum(o_lo) FROM (${sample})`),
  planHours: run(`EXPLAIN PLAN SELECT count(), sum(length(codes)), sum(invocations) FROM (${hours})`),
  sample: run(`SELECT count(), sum(o_lo) FROM (${sample})`),
  hours: run(`SELECT count(), sum(length(codes)), sum(invocations) FROM (${hours})`),
  firstReuses: run(`SELECT count() FROM (${FIRST_CROSS_DEPARTMENT_REUSES})`),
};
