/**
 * The artifact rollup: `knowledge_artifact` events (`created` and `reused`) per org, artifact,
 * user and event department, per UTC hour (`knowledge_artifact_hours`) and, derived from it in
 * the same fold, per UTC month (`knowledge_artifact_months`).
 *
 * Why these measures: an artifact's author, department, type and agent are those of its first
 * `created` event, which may arrive in a later fold than its reuses (or an earlier creation may
 * arrive late). Nothing that depends on the author can be decided when folding; so the rollup
 * keeps what any author needs: the earliest creation per (artifact, user, department) with its
 * type and agent (`origin`), and the reuses per (artifact, user, department) with their first
 * time and every reuse time. A read picks the author over the merged rows and applies "by
 * others" then. The month table answers the all-time questions (authors, each person's first
 * reuse) with one row per key and month; the hour table answers reuses in a range with the
 * SDK's planner (whole hours from the rollup, the edges and the rows inserted after the
 * watermark raw), so answers stay exact.
 *
 * Declared with the SDK's `defineRollup`: the kernel folds it from its watermark on
 * `inserted_at`, off the insert path.
 */
import { defineRollup, freshRowsSql, HOUR_MS, planSegments, rollupDdl, type ChMigration, type TimeRange } from '@orrery/plugin-sdk';

/** later than any event: the "none" of a `min` (DateTime64(3) ends in 2299) */
export const NEVER = "toDateTime64('2299-12-31 23:59:59.999', 3, 'UTC')";
const KA = "event_type = 'knowledge_artifact' AND artifact_id != ''";

export const ARTIFACT_EVENTS = defineRollup({
  name: 'artifact_events',
  source: 'events',
  filter: `${KA} AND action IN ('created', 'reused')`,
  // rows per person: user-activity data, kept for the org's user-activity period
  retention: 'user_activity',
  dimensions: ['artifact_id', 'user_id', 'department_id'],
  // one value per artifact and per person: plain strings, not per-part dictionaries
  highCardinality: ['artifact_id', 'user_id'],
  measures: [
    // (time, type, agent) of the earliest `created` event; NEVER on rows of reuses only
    {
      name: 'origin',
      type: "SimpleAggregateFunction(min, Tuple(DateTime64(3, 'UTC'), String, String))",
      expr: `min(if(action = 'created', (timestamp, toString(artifact_type), toString(agent_name)), (${NEVER}, '', '')))`,
    },
    { name: 'reuses', type: 'SimpleAggregateFunction(sum, UInt64)', expr: "countIf(action = 'reused')" },
    { name: 'first_reuse', type: "SimpleAggregateFunction(min, DateTime64(3, 'UTC'))", expr: `min(if(action = 'reused', timestamp, ${NEVER}))` },
    { name: 'reuse_times', type: "SimpleAggregateFunction(groupArrayArray, Array(DateTime64(3, 'UTC')))", expr: "groupArrayArray(if(action = 'reused', [timestamp], []))" },
  ],
  tables: [
    { table: 'knowledge_artifact_hours', grain: 'hour', dims: ['artifact_id', 'user_id', 'department_id'] },
    { table: 'knowledge_artifact_months', grain: 'month', dims: ['artifact_id', 'user_id', 'department_id'], from: 'knowledge_artifact_hours' },
  ],
});
const HOURS = 'knowledge_artifact_hours';
const MONTHS = 'knowledge_artifact_months';

export const artifactMigration: ChMigration = { name: '0003_artifact_events', statements: rollupDdl(ARTIFACT_EVENTS) };

/** Bind `awm` (this rollup's watermark, ms) with these. */
const FRESH = `org_id = {org_id:String} AND ${KA} AND ${freshRowsSql('awm')}`;

/**
 * One row per created artifact — `artifact_id, author, author_dept, created_at, a_type, a_agent` —
 * from the month table and the `created` events inserted after the watermark: the author is the
 * user of the earliest creation whatever fold brought it.
 */
export const AUTHORS_FOLDED = `
  SELECT artifact_id,
         argMin((toString(user_id), toString(department_id), origin.2, origin.3), origin.1) AS o,
         o.1 AS author, o.2 AS author_dept, min(origin.1) AS created_at, o.3 AS a_type, o.4 AS a_agent
  FROM (
    SELECT artifact_id, user_id, department_id, origin FROM {db}.${MONTHS}
    WHERE org_id = {org_id:String} AND origin.1 < ${NEVER}
    UNION ALL
    SELECT artifact_id, user_id, department_id, (timestamp, toString(artifact_type), toString(agent_name)) AS origin FROM {db}.events
    WHERE ${FRESH} AND action = 'created'
  )
  GROUP BY artifact_id`;

/**
 * Each source department's first reuse by each person at any time — `src, reuser, first` — a
 * reuse by someone other than the artifact's author, on an event of another department than
 * the author's. One pass over the month table and the events inserted after the watermark:
 * per artifact, its author (the user of the earliest creation, as in `AUTHORS_FOLDED`) next to
 * every (reuser, department, first reuse) of it, so neither the table nor the fresh events are
 * read twice and no join with the authors is needed.
 */
export const FIRST_CROSS_DEPARTMENT_REUSES = `
  SELECT src, reuser, min(first) AS first FROM (
    SELECT o.1 AS author, o.2 AS src, arrayJoin(reuses_of) AS x, x.1 AS reuser, x.3 AS first
    FROM (
      SELECT argMinIf((user_id, department_id), created_at, created_at < ${NEVER}) AS o,
             groupArrayIf((user_id, department_id, first), reuses > 0) AS reuses_of
      FROM (
        SELECT artifact_id, toString(user_id) AS user_id, toString(department_id) AS department_id, origin.1 AS created_at, reuses, first_reuse AS first
        FROM {db}.${MONTHS}
        WHERE org_id = {org_id:String}
        UNION ALL
        SELECT artifact_id, user_id, toString(department_id), if(action = 'created', timestamp, ${NEVER}), toUInt64(action = 'reused'), timestamp
        FROM {db}.events
        WHERE ${FRESH} AND action IN ('created', 'reused')
      )
      GROUP BY artifact_id
      -- an artifact never created has no author
      HAVING countIf(created_at < ${NEVER}) > 0
    )
    WHERE x.1 != author AND x.2 != src
  )
  GROUP BY src, reuser`;

const ms = (p: string) => `fromUnixTimestamp64Milli({${p}:Int64}, 'UTC')`;

/**
 * The reuse events in [from, to), one row each — `artifact_id, user_id, department_id, t` —
 * planned by the SDK: whole hours from the hour table (plus the rows inserted after the
 * watermark), the edges raw. Every raw piece goes into one arm over the events table (their
 * conditions OR-ed): each arm over that wide table costs several ms of planning, whatever it
 * reads. Returns the SQL and its parameters (`awm` included).
 */
export function reusesInRange(range: TimeRange, watermark: Date): { sql: string; params: Record<string, unknown> } {
  const params: Record<string, unknown> = { awm: watermark.getTime() };
  const arms: string[] = [];
  const raw: string[] = [];
  planSegments({ from: range.from, to: range.to }, [{ stepMs: HOUR_MS }], { watermark }).forEach((s, i) => {
    params[`rs${i}_from`] = s.from.getTime();
    params[`rs${i}_to`] = s.to.getTime();
    const within = `bucket >= ${ms(`rs${i}_from`)} AND bucket < ${ms(`rs${i}_to`)}`;
    if (s.level)
      arms.push(`SELECT artifact_id, user_id, department_id, arrayJoin(reuse_times) AS t FROM {db}.${HOURS}
        WHERE org_id = {org_id:String} AND reuses > 0 AND ${within}`);
    else raw.push(`(timestamp >= ${ms(`rs${i}_from`)} AND timestamp < ${ms(`rs${i}_to`)}${s.insertedAfter ? ` AND ${freshRowsSql('awm')}` : ''})`);
  });
  if (raw.length)
    arms.push(`SELECT artifact_id, user_id, department_id, timestamp AS t FROM {db}.events
      WHERE org_id = {org_id:String} AND ${KA} AND action = 'reused' AND (${raw.join(' OR ')})`);
  return { sql: arms.length ? arms.join('\nUNION ALL\n') : "SELECT '' AS artifact_id, '' AS user_id, '' AS department_id, now64(3, 'UTC') AS t WHERE 0", params };
}
