/**
 * Retention (API.md → "Cohorts and retention"), computed in ClickHouse: one
 * query gives each cohort's size, one the retained counts per period after it.
 *
 *  - a cohort is a period (hour/day/week/month in `tz`, weeks from Monday) whose
 *    start is in [from, to) and has begun;
 *  - `first_time`: a user's cohort is the period of their first `start_event`
 *    ever (all stored data); `recurring`: every period they did `start_event`;
 *  - `retained[k]` (k ≥ 1): members with a `return_event` in period k after the
 *    cohort's (`exact`), or in period k or any later one (`on_or_after`);
 *    `retained[0]` = size; periods not yet begun are left out of the arrays.
 */
import { EVENT_TYPE_BY_NAME, badRequest, parseTimeRange, type TenantContext } from '@orrery/plugin-sdk';
import { QUARTER_MS, activitySets, quarterStartSql, type Source } from './rollup.ts';
import { PERIODS, STEP, cohortKeys, periodKeySql, periodStart, type Period } from './periods.ts';
import { MAX_MASK_PERIODS, maskPeriods, maskRetentionSql } from './maskRetention.ts';

export type Mode = 'first_time' | 'recurring';
export type Counting = 'exact' | 'on_or_after';
/** `calendar`: return period k is the k-th calendar period after the cohort's; `rolling`: the k-th window of the period's length after the user's own start */
export type Windows = 'calendar' | 'rolling';

/** length of a rolling window per period, in ms (months have no fixed length: no rolling months) */
export const ROLLING_MS: Partial<Record<Period, number>> = { hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000 };

export interface RetentionQuery {
  from?: string;
  to?: string;
  tz?: string;
  period?: Period;
  periods?: number;
  start_event?: string;
  return_event?: string;
  mode?: Mode;
  counting?: Counting;
  department_id?: string;
  breakdown?: 'department';
  cohort_id?: string;
  source?: Source;
  spend?: boolean;
  windows?: Windows;
}

export interface RetentionSpec {
  from: Date;
  to: Date;
  tz: string;
  period: Period;
  periods: number;
  startEvent: string;
  returnEvent: string;
  mode: Mode;
  counting: Counting;
  departmentId?: string;
  breakdown: boolean;
  /** only these users (a saved cohort's members); undefined = everyone */
  users?: string[];
  now?: Date;
  /** `raw` skips the activity rollup, `sets` its per-user masks (both for checking the fast path) */
  source?: Source;
  /** also the members' agent-invocation cost and tokens per period after the cohort's ("revenue cohorts") */
  spend?: boolean;
  /** default `calendar` */
  windows?: Windows;
}

export interface CohortRow {
  cohort: string;
  size: number;
  retained: number[];
  rates: number[];
  /** with `spend`: the members' cost and tokens in period k after the cohort's (k = 0 is the cohort's own period) */
  cost_usd?: number[];
  input_tokens?: number[];
  output_tokens?: number[];
}

export interface RetentionAnswer {
  period: Period;
  mode: Mode;
  counting: Counting;
  windows: Windows;
  from: string;
  to: string;
  tz: string;
  /** what was read: the activity rollup (plus raw events received since it was last brought up to date) or raw events */
  source: 'rollup' | 'raw';
  /** with the rollup: `masks` (one 64-bit mask per user, the fast path) or `sets` (quarter-hour arrays merged per user) */
  rollup_path?: 'masks' | 'sets';
  cohorts: CohortRow[];
  breakdown?: Array<{ department_id: string; cohorts: CohortRow[] }>;
}

export const MAX_PERIODS = 400;
export const MAX_COHORTS = 1000;

const eventType = (value: string | undefined, field: string) => {
  const v = value ?? 'any';
  if (v !== 'any' && !EVENT_TYPE_BY_NAME.has(v))
    throw badRequest(`${field}: "${v}" is neither "any" nor an event type`, { field, value: v });
  return v;
};

export const retentionQueryProperties = {
  from: { type: 'string', format: 'date-time', description: 'cohorts are the periods starting at or after this instant; default 30 days before `to`' },
  to: { type: 'string', format: 'date-time', description: 'cohorts are the periods starting before this instant (exclusive); default now' },
  tz: { type: 'string', maxLength: 64, description: 'IANA time zone of the periods; default UTC' },
  period: { type: 'string', enum: PERIODS, default: 'week', description: 'length of a cohort and of a return period; weeks start on Monday' },
  periods: { type: 'integer', minimum: 1, maximum: MAX_PERIODS, default: 8, description: 'how many periods each row counts, the cohort\'s own included (retained[0] … retained[periods-1])' },
  start_event: { type: 'string', minLength: 1, maxLength: 64, default: 'any', description: 'event type that puts a user in a cohort, or `any`' },
  return_event: { type: 'string', minLength: 1, maxLength: 64, default: 'any', description: 'event type that counts as a return, or `any`' },
  mode: { type: 'string', enum: ['first_time', 'recurring'], default: 'first_time' },
  counting: { type: 'string', enum: ['exact', 'on_or_after'], default: 'exact', description: '`on_or_after`: retained[k] counts members who came back in period k or any later one (unbounded)' },
  department_id: { type: 'string', minLength: 1, maxLength: 64, description: 'only events recorded in this department (both start and return)' },
  breakdown: { type: 'string', enum: ['department'], description: 'also answer per department of the start event' },
  spend: { type: 'boolean', default: false, description: "also each cohort's agent-invocation cost and tokens in each period after it (spend, or \"revenue\", cohorts)" },
  windows: {
    type: 'string',
    enum: ['calendar', 'rolling'],
    default: 'calendar',
    description:
      "`rolling`: return period k is the k-th window of 1 h / 24 h / 7 × 24 h after the user's own start event (hours since start, not calendar days); " +
      "k ≥ 1 counts returns at or after start + k × length and before start + (k + 1) × length. Cohorts stay calendar periods. Hour, day and week periods only; not with `spend`. Read from raw events.",
  },
  source: {
    type: 'string',
    enum: ['auto', 'sets', 'raw'],
    default: 'auto',
    description:
      '`raw`: read raw events even where the activity rollup (quarter-hour sets per user and month) could answer; `sets`: the rollup, merging the sets per user rather than ' +
      'one bit-mask per user (same figures; both for checking)',
  },
} as const;

export function parseRetention(q: RetentionQuery): RetentionSpec {
  const range = parseTimeRange(q, 30);
  const period = q.period ?? 'week';
  if (!PERIODS.includes(period)) throw badRequest(`period: "${period}" is not one of ${PERIODS.join(', ')}`, { field: 'period' });
  const periods = q.periods ?? 8;
  if (!Number.isInteger(periods) || periods < 1 || periods > MAX_PERIODS) throw badRequest(`periods must be an integer from 1 to ${MAX_PERIODS}`, { field: 'periods' });
  const windows = q.windows ?? 'calendar';
  if (windows === 'rolling' && !ROLLING_MS[period]) throw badRequest(`windows: rolling windows have a fixed length; period "${period}" has none (use hour, day or week)`, { field: 'windows', value: windows });
  if (windows === 'rolling' && q.spend) throw badRequest('windows: spend is counted per calendar period; ask for it without rolling windows', { field: 'windows', value: windows });
  return {
    windows,
    from: range.from,
    to: range.to,
    tz: range.tz,
    period,
    periods,
    startEvent: eventType(q.start_event, 'start_event'),
    returnEvent: eventType(q.return_event, 'return_event'),
    mode: q.mode ?? 'first_time',
    counting: q.counting ?? 'exact',
    departmentId: q.department_id,
    breakdown: q.breakdown === 'department',
    source: q.source ?? 'auto',
    spend: q.spend === true,
  };
}

const chTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

/** Computes the retention table; see the module comment for the definitions. */
export async function retention(ctx: TenantContext, spec: RetentionSpec): Promise<RetentionAnswer> {
  const now = spec.now ?? new Date();
  const { period, tz, periods } = spec;
  const step = STEP[period];
  const keys = cohortKeys(spec.from, spec.to, now, period, tz, MAX_COHORTS);
  if (keys.some(Number.isNaN))
    throw badRequest(`the range holds more than ${MAX_COHORTS} ${period} cohorts; use a longer period or a shorter range`, { field: 'from', max_cohorts: MAX_COHORTS });
  const answer: RetentionAnswer = {
    period,
    mode: spec.mode,
    counting: spec.counting,
    windows: spec.windows ?? 'calendar',
    from: spec.from.toISOString(),
    to: spec.to.toISOString(),
    tz,
    source: 'raw',
    cohorts: [],
  };
  const emptyRows = () => keys.map((k) => emptyRow(k, spec, now));
  if (!keys.length) {
    answer.cohorts = [];
    if (spec.breakdown) answer.breakdown = [];
    return answer;
  }
  const kmin = keys[0]!;
  const kmax = keys[keys.length - 1]!;
  const startFrom = periodStart(kmin, period, tz);
  const startTo = periodStart(kmax + step, period, tz);
  const returnTo = periodStart(kmax + step * periods, period, tz);

  const params: Record<string, unknown> = {
    tz,
    kmin,
    kmax,
    s_from: chTime(startFrom),
    s_to: chTime(startTo),
    r_to: chTime(returnTo),
    start_event: spec.startEvent,
    return_event: spec.returnEvent,
  };
  const common = ["org_id = {org_id:String}", "user_id != ''"];
  if (spec.departmentId) {
    common.push('department_id = {department_id:String}');
    params.department_id = spec.departmentId;
  }
  if (spec.users) {
    common.push('user_id IN {cohort_users:Array(String)}');
    params.cohort_users = spec.users;
  }
  const spanTo = Math.max(returnTo.getTime(), now.getTime());
  const rollingMs = spec.windows === 'rolling' ? ROLLING_MS[period] : undefined;
  const events = ctx.analytics.table('events');
  const startWhere = [...common, ...(spec.startEvent === 'any' ? [] : ['event_type = {start_event:String}'])];
  const b = spec.breakdown ? 'department_id' : "''";
  // rolling windows need each event's own time, and a first-time breakdown the department of
  // the very first event (two in one quarter-hour tie in the rollup): raw events answer those
  const rollupCan = !rollingMs && !(spec.breakdown && spec.mode === 'first_time');
  const sets = rollupCan
    ? await activitySets(ctx, tz, { from: new Date(startFrom.getTime() - 86_400_000), to: new Date(spanTo) }, spec.source ?? 'auto', { start: spec.startEvent, ret: spec.returnEvent, where: common }, params)
    : null;
  answer.source = sets ? 'rollup' : 'raw';
  // the fast path: a 64-bit mask per user where the question's periods fit one
  const masks = !!sets && !spec.breakdown && spec.source !== 'sets' && maskPeriods(keys.length, periods) <= MAX_MASK_PERIODS;
  if (sets) answer.rollup_path = masks ? 'masks' : 'sets';
  const starts =
    spec.mode === 'first_time'
      ? `SELECT user_id, argMin(${b}, timestamp) AS b, ${periodKeySql('min(timestamp)', period)} AS p
           FROM ${events} WHERE ${startWhere.join(' AND ')} AND timestamp < toDateTime64({s_to:String}, 3, 'UTC')
           GROUP BY user_id HAVING p >= {kmin:Int64} AND p <= {kmax:Int64}`
      : `SELECT DISTINCT user_id, ${b} AS b, ${periodKeySql('timestamp', period)} AS p
           FROM ${events} WHERE ${startWhere.join(' AND ')}
             AND timestamp >= toDateTime64({s_from:String}, 3, 'UTC') AND timestamp < toDateTime64({s_to:String}, 3, 'UTC')`;
  const later = `arrayMap(r -> intDiv(r - tupleElement(st, 2), ${step}), arrayFilter(r -> r > tupleElement(st, 2), rets))`;
  const offsets =
    spec.counting === 'exact'
      ? `arrayFilter(k -> k < ${periods}, ${later})`
      : `arrayMap(i -> toInt64(i), range(1, toUInt64(least(arrayMax(arrayConcat([toInt64(0)], ${later})), ${periods - 1}) + 1)))`;
  // one pass: per user, their cohort period(s) and the distinct periods they returned in;
  // then per cohort period the offsets k of those returns (k = 0 stands for membership)
  const perUser = sets ? rollupPerUser(spec, sets, b, { startFrom, startTo, returnTo }, params) : rawPerUser(spec, events, common, b);
  const tableSql = `SELECT tupleElement(st, 1) AS b, tupleElement(st, 2) AS p, arrayJoin(arrayConcat([toInt64(0)], ${offsets})) AS k, count() AS n
      FROM (${perUser}) ARRAY JOIN starts AS st
     GROUP BY b, p, k`;
  const spendSql = `SELECT s.b AS b, s.p AS p, intDiv(r.p - s.p, ${step}) AS k, sum(r.cost) AS cost, sum(r.inp) AS inp, sum(r.outp) AS outp
      FROM (${starts}) AS s INNER JOIN (
        SELECT user_id, ${periodKeySql('timestamp', period)} AS p, sum(cost_usd) AS cost, sum(input_tokens) AS inp, sum(output_tokens) AS outp
          FROM ${events}
         WHERE ${common.join(' AND ')} AND event_type = 'agent_invocation'
           AND timestamp >= toDateTime64({s_from:String}, 3, 'UTC') AND timestamp < toDateTime64({r_to:String}, 3, 'UTC')
         GROUP BY user_id, p) AS r ON s.user_id = r.user_id
     WHERE r.p >= s.p AND k < ${periods} GROUP BY b, p, k`;
  const [table, spent] = await Promise.all([
    ctx.analytics.query<{ b: string; p: number | string; k: number | string; n: number | string }>(
      rollingMs
        ? rollingSql(spec, events, common, startWhere, b, rollingMs, startTo, params)
        : masks
          ? maskRetentionSql({ period, periods, mode: spec.mode, counting: spec.counting, keys, span: { startFrom, startTo, returnTo } }, sets!, params)
          : tableSql,
      params,
    ),
    spec.spend ? ctx.analytics.query<{ b: string; p: number | string; k: number | string; cost: string | number; inp: string | number; outp: string | number }>(spendSql, params) : Promise.resolve([]),
  ]);
  const sizes = table.filter((r) => Number(r.k) === 0);
  const retained = table.filter((r) => Number(r.k) > 0);

  // rows per breakdown value ('' without a breakdown), then the overall table
  const byB = new Map<string, Map<number, CohortRow>>();
  const rowsOf = (bv: string) => {
    let m = byB.get(bv);
    if (!m) {
      const fresh = emptyRows();
      byB.set(bv, (m = new Map(keys.map((k, i) => [k, fresh[i]!]))));
    }
    return m;
  };
  for (const s of sizes) {
    const row = rowsOf(s.b).get(Number(s.p));
    if (row) row.size = Number(s.n);
  }
  for (const r of retained) {
    const row = rowsOf(r.b).get(Number(r.p));
    const k = Number(r.k);
    if (row && k < row.retained.length) row.retained[k] = Number(r.n);
  }
  if (!spec.breakdown) rowsOf('');
  if (spec.spend) {
    for (const m of [...byB.values()])
      for (const row of m.values()) {
        row.cost_usd = row.retained.map(() => 0);
        row.input_tokens = row.retained.map(() => 0);
        row.output_tokens = row.retained.map(() => 0);
      }
    for (const r of spent) {
      const row = rowsOf(r.b).get(Number(r.p));
      const k = Number(r.k);
      if (!row || k >= row.retained.length) continue;
      row.cost_usd ??= row.retained.map(() => 0);
      row.input_tokens ??= row.retained.map(() => 0);
      row.output_tokens ??= row.retained.map(() => 0);
      row.cost_usd[k] = Math.round(Number(r.cost) * 1e9) / 1e9;
      row.input_tokens[k] = Number(r.inp);
      row.output_tokens[k] = Number(r.outp);
    }
  }
  const finish = (rows: CohortRow[]) => {
    for (const row of rows) {
      if (row.retained.length) row.retained[0] = row.size;
      row.rates = row.retained.map((n) => (row.size ? n / row.size : 0));
    }
    return rows;
  };
  if (spec.breakdown) {
    answer.breakdown = [...byB.entries()]
      .sort(([a], [b2]) => a.localeCompare(b2))
      .map(([department_id, m]) => ({ department_id, cohorts: finish([...m.values()]) }));
    // a user counts once overall even when their start events span departments
    const overall = await retention(ctx, { ...spec, breakdown: false, now });
    answer.cohorts = overall.cohorts;
  } else {
    answer.cohorts = finish([...rowsOf('').values()]);
  }
  return answer;
}

/**
 * Per user, `starts` (their cohort periods as (breakdown value, period key)) and `rets` (the
 * distinct periods of their return events from the cohorts' first period on), from raw events.
 */
function rawPerUser(spec: RetentionSpec, events: string, common: string[], b: string): string {
  const { period } = spec;
  const isStart = spec.startEvent === 'any' ? '1' : 'event_type = {start_event:String}';
  const isReturn = [
    ...(spec.returnEvent === 'any' ? [] : ['event_type = {return_event:String}']),
    "timestamp >= toDateTime64({s_from:String}, 3, 'UTC')",
    ...(spec.counting === 'exact' ? ["timestamp < toDateTime64({r_to:String}, 3, 'UTC')"] : []),
  ].join(' AND ');
  const startCond =
    spec.mode === 'first_time'
      ? `${isStart} AND timestamp < toDateTime64({s_to:String}, 3, 'UTC')`
      : `${isStart} AND timestamp >= toDateTime64({s_from:String}, 3, 'UTC') AND timestamp < toDateTime64({s_to:String}, 3, 'UTC')`;
  const firstKey = periodKeySql(`minIf(timestamp, ${startCond})`, period);
  const startsOfUser =
    spec.mode === 'first_time'
      ? `if(countIf(${startCond}) > 0 AND ${firstKey} >= {kmin:Int64} AND ${firstKey} <= {kmax:Int64}, [(argMinIf(${b}, timestamp, ${startCond}), ${firstKey})], [])`
      : `groupUniqArrayIf((${b}, ${periodKeySql('timestamp', period)}), ${startCond})`;
  return `SELECT ${startsOfUser} AS starts, groupUniqArrayIf(${periodKeySql('timestamp', period)}, ${isReturn}) AS rets
            FROM ${events}
           WHERE ${common.join(' AND ')} AND ((${startCond}) OR (${isReturn}))
           GROUP BY user_id`;
}

/**
 * The same columns from the activity rollup's quarter-hour sets (`activitySets`): a quarter-hour
 * lies wholly inside one period of the zone, so the period of its start is the period of every
 * event in it, and the first start quarter-hour gives the period of the first start event.
 */
function rollupPerUser(spec: RetentionSpec, sets: string, b: string, span: { startFrom: Date; startTo: Date; returnTo: Date }, params: Record<string, unknown>): string {
  const { period } = spec;
  params.q_s_from = span.startFrom.getTime() / QUARTER_MS;
  params.q_s_to = span.startTo.getTime() / QUARTER_MS;
  params.q_r_to = span.returnTo.getTime() / QUARTER_MS;
  const key = (q: string) => periodKeySql(quarterStartSql(q), period);
  const first = 'minIf(arrayMin(s), notEmpty(s))';
  const startsOfUser =
    spec.mode === 'first_time'
      ? `if(countIf(notEmpty(s)) > 0 AND ${key(first)} >= {kmin:Int64} AND ${key(first)} <= {kmax:Int64}, [('', ${key(first)})], [])`
      : `arrayDistinct(groupArrayArray(arrayMap(q -> (${b}, ${key('q')}), arrayFilter(q -> q >= {q_s_from:UInt32} AND q < {q_s_to:UInt32}, s))))`;
  const inReturns = spec.counting === 'exact' ? 'q >= {q_s_from:UInt32} AND q < {q_r_to:UInt32}' : 'q >= {q_s_from:UInt32}';
  return `SELECT ${startsOfUser} AS starts, arrayDistinct(arrayMap(q -> ${key('q')}, arrayFilter(q -> ${inReturns}, groupArrayArray(r)))) AS rets
            FROM ${sets}
           GROUP BY user_id`;
}

/**
 * Retention over rolling windows: per user start (department, cohort period, start instant
 * t0), the returns at t ≥ t0 + L fall in window k = ⌊(t − t0) / L⌋. `first_time`: t0 is the
 * user's first start event ever; `recurring`: their first start event in each cohort period.
 */
function rollingSql(spec: RetentionSpec, events: string, common: string[], startWhere: string[], b: string, L: number, startTo: Date, params: Record<string, unknown>): string {
  const { period, periods } = spec;
  params.rolling_r_to = chTime(new Date(startTo.getTime() + periods * L));
  const ms = (col: string) => `toInt64(toUnixTimestamp64Milli(${col}))`;
  const inKeys = (key: string) => `${key} >= {kmin:Int64} AND ${key} <= {kmax:Int64}`;
  const starts =
    spec.mode === 'first_time'
      ? `SELECT user_id, [(argMin(${b}, timestamp), ${periodKeySql('min(timestamp)', period)}, ${ms('min(timestamp)')})] AS starts
           FROM ${events} WHERE ${startWhere.join(' AND ')} AND timestamp < toDateTime64({s_to:String}, 3, 'UTC')
          GROUP BY user_id HAVING ${inKeys(periodKeySql('min(timestamp)', period))}`
      : `SELECT user_id, groupArray((b, p, t0)) AS starts FROM (
           SELECT user_id, ${b} AS b, ${periodKeySql('timestamp', period)} AS p, ${ms('min(timestamp)')} AS t0
             FROM ${events} WHERE ${startWhere.join(' AND ')}
              AND timestamp >= toDateTime64({s_from:String}, 3, 'UTC') AND timestamp < toDateTime64({s_to:String}, 3, 'UTC')
            GROUP BY user_id, b, p)
          GROUP BY user_id`;
  const returnWhere = [
    ...common,
    ...(spec.returnEvent === 'any' ? [] : ['event_type = {return_event:String}']),
    "timestamp >= toDateTime64({s_from:String}, 3, 'UTC')",
    ...(spec.counting === 'exact' ? ["timestamp < toDateTime64({rolling_r_to:String}, 3, 'UTC')"] : []),
  ];
  const returns = `SELECT user_id, groupArray(${ms('timestamp')}) AS rets FROM ${events} WHERE ${returnWhere.join(' AND ')} GROUP BY user_id`;
  const later = `arrayDistinct(arrayMap(r -> intDiv(r - tupleElement(st, 3), ${L}), arrayFilter(r -> r >= tupleElement(st, 3) + ${L}, rets)))`;
  const offsets =
    spec.counting === 'exact'
      ? `arrayFilter(k -> k < ${periods}, ${later})`
      : `arrayMap(i -> toInt64(i), range(1, toUInt64(least(arrayMax(arrayConcat([toInt64(0)], ${later})), ${periods - 1}) + 1)))`;
  return `SELECT tupleElement(st, 1) AS b, tupleElement(st, 2) AS p, arrayJoin(arrayConcat([toInt64(0)], ${offsets})) AS k, count() AS n
      FROM (SELECT s.starts AS starts, r.rets AS rets FROM (${starts}) AS s LEFT JOIN (${returns}) AS r ON s.user_id = r.user_id)
      ARRAY JOIN starts AS st
     GROUP BY b, p, k`;
}

function emptyRow(key: number, spec: RetentionSpec, now: Date): CohortRow {
  const step = STEP[spec.period];
  let begun = 0;
  while (begun < spec.periods && periodStart(key + begun * step, spec.period, spec.tz) <= now) begun++;
  return { cohort: periodStart(key, spec.period, spec.tz).toISOString(), size: 0, retained: new Array(begun).fill(0), rates: new Array(begun).fill(0) };
}

/** Day-N (period-N) retention of successive cohorts: one point per cohort whose period N has begun. */
export function trendOf(answer: RetentionAnswer, n: number) {
  return answer.cohorts
    .filter((c) => c.retained.length > n)
    .map((c) => ({ cohort: c.cohort, size: c.size, retained: c.retained[n]!, rate: c.rates[n]! }));
}
