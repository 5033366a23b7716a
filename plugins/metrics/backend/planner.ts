/**
 * The rollup planner of the metrics query: where the plugin's rollup (rollups.ts) holds a
 * question exactly, its range is cut with the SDK's `planSegments` — whole hours or days
 * from the rollup tables, the edges and whatever the fold has not reached yet (rows inserted
 * after the watermark) from raw events — and every piece yields the same partial aggregates
 * (events, matching events, user-set state, sum, min, max), merged in one outer query.
 * Otherwise (exact quantiles, filters or groups on columns the rollup does not keep, a
 * field it does not sum) the caller compiles the question over raw events alone.
 *
 * The output has the raw compiler's columns (`g0…`, `bucket` as epoch seconds, `value`),
 * so runMetricsQuery turns either into the same answer.
 */
import { bucketExpr, freshRowsSql, planSegments, usableLevels, type FieldSpec, type Segment } from '@orrery/plugin-sdk';
import { conditionSql, validateMetricsQuery, type CompiledQuery, type MetricsQuery } from './metricsQuery.ts';
import { DIMENSIONS, LEVELS, ROLLED_FIELDS, maxCol, minCol, sumCol, type Level } from './rollups.ts';

const DIMS = new Set<string>(DIMENSIONS);
const FIELDS = new Set<string>(ROLLED_FIELDS);

/** The dimensions a rollup table must hold to answer `q`, or null when no rollup can answer it. */
export function neededDimensions(q: MetricsQuery, visibleDepartments: string[] | null): Set<string> | null {
  if (/^p\d\d$/.test(q.measure)) return null; // exact quantiles need every value
  if (['sum', 'avg', 'min', 'max'].includes(q.measure) && !FIELDS.has(q.field ?? '')) return null;
  const needed = new Set<string>(['event_type']);
  for (const name of [...(q.group_by ?? []), ...Object.keys(q.where ?? {}), ...Object.keys(q.rate_where ?? {})]) {
    if (!DIMS.has(name)) return null;
    needed.add(name);
  }
  if (q.department_id || visibleDepartments) needed.add('department_id');
  return needed;
}

/** Per bucket width, the table with the fewest dimensions that holds `needed` (the first on a tie). */
export function holdingLevels(needed: Set<string>, levels: readonly Level[] = LEVELS): Level[] {
  const holding = levels.filter((l) => [...needed].every((d) => (l.dims as readonly string[]).includes(d)));
  return holding.filter((l) => !holding.some((o) => o.stepMs === l.stepMs && (o.dims.length < l.dims.length || (o.dims.length === l.dims.length && holding.indexOf(o) < holding.indexOf(l)))));
}

/** The pieces of `range` and the source of each; null when no rollup piece would be read. */
export function planMetricsQuery(q: MetricsQuery, range: { from: Date; to: Date }, watermark: Date, visibleDepartments: string[] | null): Segment<Level>[] | null {
  const needed = neededDimensions(q, visibleDepartments);
  // nothing folded yet (a new store, or the fold job not run): every piece would be read raw anyway
  if (!needed || watermark.getTime() <= 0) return null;
  const levels = usableLevels(holdingLevels(needed), { granularity: q.granularity, tz: q.tz ?? 'UTC', from: range.from, to: range.to });
  const segments = planSegments(range, levels, { watermark });
  return segments.some((s) => s.level) ? segments : null;
}

/**
 * SQL for `q` over [from, to) from rollups and raw events (see the file's comment), or
 * null when no rollup answers any piece of it. `analytics.table` names the tables; the
 * SDK's helper binds `{org_id:String}`.
 */
export function compilePlanned(
  q: MetricsQuery,
  range: { from: Date; to: Date },
  table: (name: string) => string,
  watermark: Date,
  visibleDepartments: string[] | null,
): (CompiledQuery & { tables: string[] }) | null {
  const fields: Record<string, FieldSpec> = validateMetricsQuery(q);
  const segments = planMetricsQuery(q, range, watermark, visibleDepartments);
  if (!segments) return null;
  const params: Record<string, unknown> = { event_type: q.event_type, tz: q.tz ?? 'UTC', watermark: watermark.getTime() };
  const where = ['org_id = {org_id:String}', 'event_type = {event_type:String}', ...conditionSql(q.where ?? {}, fields, params, 'w')];
  if (q.department_id) {
    params.department_id = q.department_id;
    where.push('department_id = {department_id:String}');
  }
  if (visibleDepartments) {
    params.visible_departments = visibleDepartments;
    where.push('department_id IN {visible_departments:Array(String)}');
  }
  const rate = q.rate_where ? conditionSql(q.rate_where, fields, params, 'r').join(' AND ') : '0';
  const groupBy = q.group_by ?? [];
  const keys = groupBy.map((g, i) => `toString(${g}) AS g${i}`);
  const dims = groupBy.map((_, i) => `g${i}`);
  const withUsers = q.measure === 'users';
  const f = q.field && FIELDS.has(q.field) && ['sum', 'avg', 'min', 'max'].includes(q.measure) ? q.field : null;

  // the pieces, by source: a rollup table, raw events (the edges), or raw events inserted after
  // the watermark (the rollup pieces' companions) — the last apart from the edges, so that its
  // `inserted_at` condition is ANDed with the whole arm and the skip index on it drops every
  // granule the fold has taken, instead of scanning the range for the few fresh rows
  const bySource = new Map<string, { table: string; fresh: boolean; pieces: string[] }>();
  segments.forEach((s, i) => {
    params[`s${i}_from`] = s.from.getTime();
    params[`s${i}_to`] = s.to.getTime();
    const fresh = !!s.insertedAfter;
    const key = `${s.level?.table ?? ''}|${fresh}`;
    if (!bySource.has(key)) bySource.set(key, { table: s.level?.table ?? '', fresh, pieces: [] });
    bySource.get(key)!.pieces.push(`s${i}`);
  });

  const arms = [...bySource.values()].map(({ table: source, fresh, pieces }) => {
    const rollup = source !== '';
    const bucket = q.granularity ? [`toUnixTimestamp(${bucketExpr(rollup ? 'bucket' : 'timestamp', q.granularity)}) AS b_ts`] : [];
    const cols = [
      ...keys,
      ...bucket,
      rollup ? 'sum(n) AS a_n' : 'count() AS a_n',
      rollup ? `sumIf(n, ${rate}) AS a_rn` : `countIf(${rate}) AS a_rn`,
      ...(withUsers ? [rollup ? 'uniqExactMergeState(users) AS a_users' : 'uniqExactState(user_id) AS a_users'] : []),
      ...(f
        ? rollup
          ? [`sum(${sumCol(f)}) AS a_s`, `min(${minCol(f)}) AS a_mn`, `max(${maxCol(f)}) AS a_mx`]
          : [`sum(toFloat64(${f})) AS a_s`, `min(toFloat64(${f})) AS a_mn`, `max(toFloat64(${f})) AS a_mx`]
        : []),
    ];
    const time = pieces
      .map((param) =>
        rollup
          ? `(bucket >= toDateTime(intDiv({${param}_from:Int64}, 1000), 'UTC') AND bucket < toDateTime(intDiv({${param}_to:Int64}, 1000), 'UTC'))`
          : `(timestamp >= fromUnixTimestamp64Milli({${param}_from:Int64}, 'UTC') AND timestamp < fromUnixTimestamp64Milli({${param}_to:Int64}, 'UTC'))`,
      )
      .join(' OR ');
    const armKeys = [...dims, ...(q.granularity ? ['b_ts'] : [])];
    return `SELECT ${cols.join(', ')}
        FROM ${table(rollup ? source : 'events')}
        WHERE ${where.join(' AND ')}${fresh ? ` AND ${freshRowsSql('watermark')}` : ''} AND (${time})
        ${armKeys.length ? `GROUP BY ${armKeys.join(', ')}` : ''}`;
  });

  const value = {
    count: 'toFloat64(sum(a_n))',
    users: 'toFloat64(uniqExactMerge(a_users))',
    sum: 'sum(a_s)',
    avg: 'if(sum(a_n) = 0, NULL, sum(a_s) / sum(a_n))',
    min: 'if(sum(a_n) = 0, NULL, minIf(a_mn, a_n > 0))',
    max: 'if(sum(a_n) = 0, NULL, maxIf(a_mx, a_n > 0))',
    rate: 'if(sum(a_n) = 0, NULL, sum(a_rn) / sum(a_n))',
  }[q.measure as 'count'];
  const outKeys = [...dims, ...(q.granularity ? ['bucket'] : [])];
  const sql = `SELECT ${[...dims, ...(q.granularity ? ['b_ts AS bucket'] : []), `${value} AS value`].join(', ')}
      FROM (${arms.join('\n      UNION ALL\n      ')})
      ${outKeys.length ? `GROUP BY ${outKeys.join(', ')} ORDER BY ${outKeys.join(', ')}` : ''}`;
  // One thread: every arm reads a few thousand rows (rollup rows, the edges' granules, the
  // fresh rows the skip index leaves), so a second thread only adds its set-up and hand-over —
  // a fifth of the statement's CPU in metrics-explain.ts — and on a busy machine CPU is the wait.
  return { sql, params, groupBy, settings: ', max_threads = 1', tables: [...new Set([...bySource.values()].map((v) => v.table || 'events'))] };
}
