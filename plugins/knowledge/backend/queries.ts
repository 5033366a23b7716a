/**
 * The plugin's ClickHouse SQL over `knowledge_artifact` events (and, for the
 * follow-up and transfer figures, `agent_invocation` events). Every query is
 * bound to the caller's org through `{org_id:String}`.
 *
 * An artifact's author, department, type and agent are those of its first
 * `created` event (`authors` below); an artifact never created has no author
 * and counts only in the plain action counts. "By others" means a reuse event
 * whose user is not the author.
 */
import { bucketIso, type AnalyticsClient, type TimeRange } from '@orrery/plugin-sdk';
import { scopeParams, scopeSql, type IndividualScope } from './privacy.ts';
import { hourRows, hourSuccessBounds, MS_IN_HOUR } from './invocations.ts';
import { AUTHORS_FOLDED, FIRST_CROSS_DEPARTMENT_REUSES, reusesInRange } from './artifacts.ts';

const KA = "event_type = 'knowledge_artifact' AND org_id = {org_id:String} AND artifact_id != ''";
const IN_RANGE = "timestamp >= toDateTime64({from:String}, 3, 'UTC') AND timestamp < toDateTime64({to:String}, 3, 'UTC')";

/** One row per created artifact: who made it, where, when, what and with which agent. */
export const AUTHORS = `
  SELECT artifact_id,
         argMin(user_id, timestamp) AS author,
         argMin(department_id, timestamp) AS author_dept,
         min(timestamp) AS created_at,
         argMin(artifact_type, timestamp) AS a_type,
         argMin(agent_name, timestamp) AS a_agent
  FROM {db}.events
  WHERE ${KA} AND action = 'created'
  GROUP BY artifact_id`;

/** Reuse events in [from, to). */
const REUSES_IN_RANGE = `
  SELECT artifact_id, user_id, department_id, timestamp, event_id
  FROM {db}.events
  WHERE ${KA} AND action = 'reused' AND ${IN_RANGE}`;

/** the UTC hour of a DateTime64 expression, as the invocation rollup's `bucket` (DateTime) */
const HOUR_OF = (x: string) => `toDateTime(toStartOfHour(${x}), 'UTC')`;
/** the number of the hour of a time (hours since 1970, UTC), 4 bytes */
const HOUR_NUM = (x: string) => `toUInt32(toRelativeHourNum(${x}, 'UTC'))`;

const rangeParams = (r: TimeRange) => ({ from: r.fromCh, to: r.toCh });
const n = (x: unknown) => Number(x ?? 0);
const ratio = (a: number, b: number) => (b === 0 ? null : a / b);

export interface Summary {
  created: number;
  annotated: number;
  reused: number;
  /** distinct people with knowledge events in [from, to) (of the department when filtered) */
  users: number;
  artifacts_created: number;
  reused_by_others: number;
  reused_cross_department: number;
  reuse_rate: number | null;
  cross_department_reuse_rate: number | null;
}

export async function summary(a: AnalyticsClient, range: TimeRange, departmentId?: string): Promise<Summary> {
  const params = { ...rangeParams(range), dept: departmentId ?? '' };
  const deptEvent = departmentId ? 'AND department_id = {dept:String}' : '';
  const deptAuthor = departmentId ? 'AND a.author_dept = {dept:String}' : '';
  const [counts, rates] = await Promise.all([
    a.query<Record<string, unknown>>(
      `SELECT countIf(action = 'created') AS created, countIf(action = 'annotated') AS annotated, countIf(action = 'reused') AS reused, uniqExact(user_id) AS users
       FROM {db}.events WHERE ${KA} AND ${IN_RANGE} ${deptEvent}`,
      params,
    ),
    // "at any later time": the reuses joined here are not bounded by `to`
    a.query<Record<string, unknown>>(
      `SELECT count() AS artifacts, countIf(by_other) AS by_other, countIf(cross_dept) AS cross_dept
       FROM (
         SELECT a.artifact_id AS artifact_id,
                countIf(r.user_id != a.author AND r.timestamp > a.created_at) > 0 AS by_other,
                countIf(r.user_id != a.author AND r.timestamp > a.created_at AND r.department_id != a.author_dept) > 0 AS cross_dept
         FROM (${AUTHORS}) AS a
         LEFT JOIN (SELECT artifact_id, user_id, department_id, timestamp FROM {db}.events WHERE ${KA} AND action = 'reused') AS r
           ON r.artifact_id = a.artifact_id
         WHERE a.created_at >= toDateTime64({from:String}, 3, 'UTC') AND a.created_at < toDateTime64({to:String}, 3, 'UTC') ${deptAuthor}
         GROUP BY a.artifact_id
       )`,
      params,
    ),
  ]);
  const c = counts[0] ?? {};
  const r = rates[0] ?? {};
  const artifacts = n(r.artifacts);
  return {
    created: n(c.created),
    annotated: n(c.annotated),
    reused: n(c.reused),
    users: n(c.users),
    artifacts_created: artifacts,
    reused_by_others: n(r.by_other),
    reused_cross_department: n(r.cross_dept),
    reuse_rate: ratio(n(r.by_other), artifacts),
    cross_department_reuse_rate: ratio(n(r.cross_dept), artifacts),
  };
}

export interface Expert {
  user_id: string;
  artifacts: number;
  reusers: number;
  reuses: number;
  departments_reached: number;
  /** the author's artifacts reused by the most people, as evidence */
  top_artifacts: Array<{ artifact_id: string; artifact_type: string; agent_name: string; reusers: number; reuses: number }>;
}

export async function experts(
  a: AnalyticsClient,
  range: TimeRange,
  f: { agentName?: string; artifactType?: string; departmentId?: string; scope: IndividualScope; limit: number },
): Promise<Expert[]> {
  const where = ['r.user_id != a.author'];
  if (f.agentName) where.push('a.a_agent = {agent:String}');
  if (f.artifactType) where.push('a.a_type = {atype:String}');
  if (f.departmentId) where.push('a.author_dept = {dept:String}');
  where.push(scopeSql(f.scope, 'a.author'));
  // per (author, artifact) first, so that each author carries the evidence: their most reused artifacts
  const rows = await a.query<Record<string, unknown>>(
    `SELECT user_id, count() AS artifacts,
            length(arrayDistinct(arrayFlatten(groupArray(reuser_set)))) AS reusers,
            sum(n) AS reuses,
            length(arrayDistinct(arrayFlatten(groupArray(dept_set)))) AS departments_reached,
            arraySlice(arraySort(x -> (-x.4, -x.5, x.1), groupArray((artifact_id, a_type, a_agent, length(reuser_set), n))), 1, 3) AS top
     FROM (
       SELECT a.author AS user_id, a.artifact_id AS artifact_id,
              any(a.a_type) AS a_type, any(a.a_agent) AS a_agent,
              groupUniqArray(r.user_id) AS reuser_set, count() AS n, groupUniqArray(r.department_id) AS dept_set
       FROM (${REUSES_IN_RANGE}) AS r
       INNER JOIN (${AUTHORS}) AS a ON r.artifact_id = a.artifact_id
       WHERE ${where.join(' AND ')}
       GROUP BY user_id, artifact_id
     )
     GROUP BY user_id
     ORDER BY reusers DESC, reuses DESC, user_id ASC
     LIMIT {limit:UInt32}`,
    { ...rangeParams(range), ...scopeParams(f.scope), agent: f.agentName ?? '', atype: f.artifactType ?? '', dept: f.departmentId ?? '', limit: f.limit },
  );
  return rows.map((r) => ({
    user_id: String(r.user_id),
    artifacts: n(r.artifacts),
    reusers: n(r.reusers),
    reuses: n(r.reuses),
    departments_reached: n(r.departments_reached),
    top_artifacts: (r.top as unknown[][]).map((t) => ({
      artifact_id: String(t[0]),
      artifact_type: String(t[1]),
      agent_name: String(t[2]),
      reusers: n(t[3]),
      reuses: n(t[4]),
    })),
  }));
}

export interface FlowLink {
  from_department_id: string;
  to_department_id: string;
  reuses: number;
  reusers: number;
  authors: number;
}

/** Reuse events in [from, to) by others: the author's department → the reuse event's department. */
export async function flow(a: AnalyticsClient, range: TimeRange, departmentId?: string): Promise<FlowLink[]> {
  const rows = await a.query<Record<string, unknown>>(
    `SELECT a.author_dept AS from_department_id, r.department_id AS to_department_id,
            count() AS reuses, uniqExact(r.user_id) AS reusers, uniqExact(a.author) AS authors
     FROM (${REUSES_IN_RANGE}) AS r
     INNER JOIN (${AUTHORS}) AS a ON r.artifact_id = a.artifact_id
     WHERE r.user_id != a.author ${departmentId ? 'AND (a.author_dept = {dept:String} OR r.department_id = {dept:String})' : ''}
     GROUP BY from_department_id, to_department_id
     ORDER BY reuses DESC, from_department_id, to_department_id`,
    { ...rangeParams(range), dept: departmentId ?? '' },
  );
  return rows.map((r) => ({
    from_department_id: String(r.from_department_id),
    to_department_id: String(r.to_department_id),
    reuses: n(r.reuses),
    reusers: n(r.reusers),
    authors: n(r.authors),
  }));
}

export type TimelineBy = 'none' | 'department' | 'agent' | 'artifact_type';
const BY_COLUMN: Record<Exclude<TimelineBy, 'none'>, string> = { department: 'department_id', agent: 'agent_name', artifact_type: 'artifact_type' };

/** Created / annotated / reused events per bucket (and per department, agent or type of the event). */
export async function timeline(a: AnalyticsClient, range: TimeRange, bucketSql: string, by: TimelineBy, departmentId?: string) {
  const group = by === 'none' ? "''" : BY_COLUMN[by];
  const rows = await a.query<Record<string, unknown>>(
    `SELECT toString(${bucketSql}) AS b, ${group} AS g,
            countIf(action = 'created') AS created, countIf(action = 'annotated') AS annotated, countIf(action = 'reused') AS reused,
            uniqExact(user_id) AS users
     FROM {db}.events WHERE ${KA} AND ${IN_RANGE} ${departmentId ? 'AND department_id = {dept:String}' : ''}
     GROUP BY b, g ORDER BY b, g`,
    { ...rangeParams(range), tz: range.tz, dept: departmentId ?? '' },
  );
  return rows.map((r) => ({
    bucket: new Date(bucketIso(String(r.b), range.tz)).toISOString(),
    group: String(r.g),
    created: n(r.created),
    annotated: n(r.annotated),
    reused: n(r.reused),
    users: n(r.users),
  }));
}

export type ValueSort = 'reusers' | 'departments' | 'successful_reuses' | 'reuses';

/** The watermarks of the plugin's two rollups, read together (`ctx.rollups.read` nested). */
export interface Watermarks {
  invocations: Date;
  artifacts: Date;
}

/**
 * The most valuable artifacts, over the reuse events in [from, to) by others: distinct
 * reusers, departments reached (distinct departments of those reuse events), and reuses
 * followed within an hour (after the reuse, up to and including one hour) by a successful
 * agent invocation of the reuser.
 *
 * Reuses come from the artifact rollup through the SDK's planner, authors from its month
 * table. A reuse at t in hour H is followed iff the reuser's last success in H is after t or
 * their first success in H + 1 is at most t + 1 hour (every success in H after t is within the
 * hour; every one in H + 1 is after t): the invocation rollup's success bounds of those two
 * hours decide it, exactly, without reading any invocation.
 *
 * Each reuser's hours come as three parallel arrays, looked up with `indexOf` (native, no
 * lambda: a lambda copies the reuse's time and hour once per element of the reuser's array,
 * which cost about as much as the rest of the query). The join copies those arrays into every
 * reuse row, which was most of the query's cost: they hold 4-byte values — the hour's number
 * and the first / last success as milliseconds into their hour — not DateTime64s (12 bytes an
 * hour instead of 20; about half the query's CPU). Exact: within hour H, the last success is
 * after t iff its milliseconds into H exceed t's; the first success in H + 1 is at most t + 1 h
 * iff its milliseconds into H + 1 are at most t's into H. A (user, hour) in more than one row
 * (parts not merged yet, rows inserted after the watermark) would hide all but its first row
 * from `indexOf`: for those reuses only (`countEqual` > 1) every row is looked at.
 */
export async function topArtifacts(a: AnalyticsClient, range: TimeRange, sort: ValueSort, limit: number, filter: { agentName?: string; artifactType?: string }, wm: Watermarks) {
  const where = ['r.user_id != a.author'];
  if (filter.agentName) where.push('a.a_agent = {agent:String}');
  if (filter.artifactType) where.push('a.a_type = {atype:String}');
  const order = { reusers: 'reusers', departments: 'departments_reached', successful_reuses: 'successful_reuses', reuses: 'reuses' }[sort];
  const reuses = reusesInRange(range, wm.artifacts);
  // every success bound of the hours the reuses look at (their own and the next)
  const bounds = hourSuccessBounds(HOUR_OF("toDateTime64({from:String}, 3, 'UTC')"), "toDateTime64({to:String}, 3, 'UTC') + INTERVAL 2 HOUR");
  const rows = await a.query<Record<string, unknown>>(
    `SELECT artifact_id, any(author) AS author, any(author_dept) AS author_dept, any(a_type) AS artifact_type, any(a_agent) AS agent_name,
            uniqExact(reuser) AS reusers, uniqExact(reuse_dept) AS departments_reached, count() AS reuses,
            countIf(followed) AS successful_reuses
     FROM (
       SELECT r.artifact_id AS artifact_id, a.author AS author, a.author_dept AS author_dept, a.a_type AS a_type, a.a_agent AS a_agent,
              r.user_id AS reuser, r.department_id AS reuse_dept,
              ${HOUR_NUM('r.t')} AS h, h + 1 AS h1, ${MS_IN_HOUR('r.t')} AS off,
              if(countEqual(s.hours, h) > 1 OR countEqual(s.hours, h1) > 1,
                 arrayExists((b, f, l) -> (b = h AND l > off) OR (b = h1 AND f <= off), s.hours, s.firsts, s.lasts),
                 ((indexOf(s.hours, h) AS i) > 0 AND s.lasts[i] > off) OR ((indexOf(s.hours, h1) AS j) > 0 AND s.firsts[j] <= off)) AS followed
       FROM (${reuses.sql}) AS r
       INNER JOIN (${AUTHORS_FOLDED}) AS a ON r.artifact_id = a.artifact_id
       LEFT JOIN (SELECT user_id, groupArray(${HOUR_NUM('bucket')}) AS hours, groupArray(${MS_IN_HOUR('first_success')}) AS firsts, groupArray(${MS_IN_HOUR('last_success')}) AS lasts
                  FROM (${bounds}) GROUP BY user_id) AS s
         ON s.user_id = r.user_id
       WHERE ${where.join(' AND ')}
     )
     GROUP BY artifact_id
     ORDER BY ${order} DESC, reuses DESC, artifact_id ASC
     LIMIT {limit:UInt32}`,
    { ...rangeParams(range), ...reuses.params, agent: filter.agentName ?? '', atype: filter.artifactType ?? '', limit, wm: wm.invocations.getTime() },
  );
  return rows.map((r) => ({
    artifact_id: String(r.artifact_id),
    author_id: String(r.author),
    department_id: String(r.author_dept),
    artifact_type: String(r.artifact_type),
    agent_name: String(r.agent_name),
    reusers: n(r.reusers),
    departments_reached: n(r.departments_reached),
    reuses: n(r.reuses),
    successful_reuses: n(r.successful_reuses),
  }));
}

/** Who reuses whose work: author → reuser edges over reuse events in [from, to) by others. */
export async function network(a: AnalyticsClient, range: TimeRange, limit: number, scope: IndividualScope) {
  const rows = await a.query<Record<string, unknown>>(
    `SELECT a.author AS author_id, r.user_id AS reuser_id, any(a.author_dept) AS author_department_id, any(r.department_id) AS reuser_department_id,
            count() AS reuses, uniqExact(r.artifact_id) AS artifacts
     FROM (${REUSES_IN_RANGE}) AS r
     INNER JOIN (${AUTHORS}) AS a ON r.artifact_id = a.artifact_id
     WHERE r.user_id != a.author AND ${scopeSql(scope, 'a.author')} AND ${scopeSql(scope, 'r.user_id')}
     GROUP BY author_id, reuser_id
     ORDER BY reuses DESC, author_id, reuser_id
     LIMIT {limit:UInt32}`,
    { ...rangeParams(range), ...scopeParams(scope), limit },
  );
  return rows.map((r) => ({
    author_id: String(r.author_id),
    reuser_id: String(r.reuser_id),
    author_department_id: String(r.author_department_id),
    reuser_department_id: String(r.reuser_department_id),
    reuses: n(r.reuses),
    artifacts: n(r.artifacts),
  }));
}

/** past every call code (an hour has 3,600,000 ms, so codes are below 7,200,000) */
const NO_CODE = 7_200_000;

/**
 * Transfer effectiveness per source department: for each reuser (outside the department)
 * whose first reuse of that department's work falls in [from, to), their agent invocations
 * in the `weeks` before that first reuse against the `weeks` after it.
 *
 * The sample (first cross-department reuse per source department and person, from one pass
 * over the artifact rollup's month table: `FIRST_CROSS_DEPARTMENT_REUSES`) is computed once,
 * with its window bounds and cut hours, and every (user, hour) row of the invocation rollup in
 * the span is joined to the sample rows of its user, in one pass: an hour strictly inside a
 * window adds its counts, one of the three hours the windows cut (at first - W, first,
 * first + W) adds its calls that fall inside. Each invocation falls in exactly one part, so
 * the answer stays exact.
 *
 * A cut hour's calls are codes (milliseconds into the hour × 2 + success), and each bound is
 * taken as its milliseconds into its own hour × 2 (`o_*`): in the hour of a window's start the
 * calls at or after it are those with code >= o; in the hour of its end, those before it have
 * code < o (a call at the bound's millisecond has code o or o + 1, so it falls on the start's
 * side); a success is an odd code. No call crosses hours, so these compares are exact.
 */
export async function transfer(a: AnalyticsClient, range: TimeRange, weeks: number, wm: Watermarks) {
  const W = 'toIntervalWeek({weeks:UInt32})';
  const cutAt = (x: string) => `${MS_IN_HOUR(x)} * 2`;
  // the sample, numbered, with its window bounds' hours and their codes, computed once per sample row
  const sample = `
    SELECT row_number() OVER () AS sid, src, first - ${W} AS f_lo, first + ${W} AS f_hi,
           ${HOUR_OF('f_lo')} AS h_lo, ${HOUR_OF('first')} AS h_mid, ${HOUR_OF('f_hi')} AS h_hi,
           ${cutAt('f_lo')} AS o_lo, ${cutAt('first')} AS o_mid, ${cutAt('f_hi')} AS o_hi, reuser
    FROM (${FIRST_CROSS_DEPARTMENT_REUSES})
    WHERE first >= toDateTime64({from:String}, 3, 'UTC') AND first < toDateTime64({to:String}, 3, 'UTC')`;
  const spanFrom = HOUR_OF(`toDateTime64({from:String}, 3, 'UTC') - ${W}`);
  const spanTo = `toDateTime64({to:String}, 3, 'UTC') + ${W} + INTERVAL 1 HOUR`;
  // the calls of a joined row's hour in [lo, hi) (successes only when `ok`): an empty array unless the hour is cut
  const calls = (lo: string, hi: string, ok: boolean) => `arrayCount(c -> c >= ${lo} AND c < ${hi}${ok ? ' AND bitAnd(c, 1)' : ''}, cut)`;
  const rows = await a.query<Record<string, unknown>>(
    `SELECT src AS from_department_id, count() AS reusers,
            sum(b_inv) AS invocations_before, sum(b_ok) AS successes_before,
            sum(a_inv) AS invocations_after, sum(a_ok) AS successes_after,
            countIf(b_inv > 0 AND a_inv > 0) AS reusers_with_both
     FROM (
       SELECT any(src) AS src,
              sum(in_before * invocations + ${calls('b_lo', 'b_hi', false)}) AS b_inv, sum(in_before * successes + ${calls('b_lo', 'b_hi', true)}) AS b_ok,
              sum(in_after * invocations + ${calls('a_lo', 'a_hi', false)}) AS a_inv, sum(in_after * successes + ${calls('a_lo', 'a_hi', true)}) AS a_ok
       FROM (
         SELECT f.sid AS sid, f.src AS src,
                h.bucket > f.h_lo AND h.bucket < f.h_mid AS in_before, h.bucket > f.h_mid AND h.bucket < f.h_hi AS in_after,
                h.invocations AS invocations, h.successes AS successes,
                h.bucket = f.h_lo AS at_lo, h.bucket = f.h_mid AS at_mid, h.bucket = f.h_hi AS at_hi,
                -- each window's [start, end) as codes in this row's hour: from the bound in the hour it cuts, the whole
                -- hour beyond it, nothing (${NO_CODE}, past every code) in the other hours
                if(at_lo, f.o_lo, if(at_mid, 0, ${NO_CODE})) AS b_lo, if(at_mid, f.o_mid, ${NO_CODE}) AS b_hi,
                if(at_mid, f.o_mid, if(at_hi, 0, ${NO_CODE})) AS a_lo, if(at_hi, f.o_hi, ${NO_CODE}) AS a_hi,
                -- one array, not one per cut hour: each array the join's rows carry is copied once more per row
                if(at_lo OR at_mid OR at_hi, h.codes, []) AS cut
         -- the sample on the right: the small side is the one hashed; a person without invocations keeps their row
         FROM (${hourRows(spanFrom, spanTo)}) AS h
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
