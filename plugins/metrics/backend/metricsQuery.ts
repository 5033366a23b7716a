/**
 * The metrics query of API.md ("Metrics"): validated against the SDK's event
 * catalogue, compiled to tenant-bound ClickHouse SQL over the raw `events` table,
 * answered as one series per group. Quantiles are exact
 * (`quantileExactInclusive`: linear interpolation between the two nearest values).
 */
import {
  EVENT_TYPE_BY_NAME,
  HttpError,
  METRICS_GRANULARITIES,
  METRICS_MEASURES,
  bucketExpr,
  bucketIso,
  checkBuckets,
  fieldsOf,
  metricsQueryDefinitionSchema,
  validZone,
  zoneOffsetMs,
  type AnalyticsClient,
  type FieldSpec,
  type Granularity,
  type MetricsMeasure,
  type MetricsQueryDefinition,
  type MetricsSeries,
  type RollupReader,
} from '@orrery/plugin-sdk';
import { compilePlanned } from './planner.ts';
import { EVENTS_ROLLUP } from './rollups.ts';

export const MEASURES = METRICS_MEASURES;
export type Measure = MetricsMeasure;
export const GRANULARITIES: Granularity[] = [...METRICS_GRANULARITIES];

type WhereValue = string | number | boolean;
export type MetricsQuery = MetricsQueryDefinition;
export type Series = MetricsSeries;

const NUMERIC_KINDS = new Set(['count', 'int', 'amount', 'number']);
const GROUPABLE_KINDS = new Set(['id', 'label', 'enum']);
/** at most this many groups in one answer */
export const MAX_GROUPS = 1000;
/** at most this many points (groups × buckets) in one answer */
export const MAX_POINTS = 100_000;

/** JSON schema of a metrics query without `from`/`to` (alert rules, custom metrics); the catalogue checks run in `validateMetricsQuery`. */
export const metricsQuerySchema = metricsQueryDefinitionSchema;

/** How long one ClickHouse query of a metrics answer may run by default (seconds); the plugin's config sets it. */
export const DEFAULT_TIMEOUT_SECONDS = 15;

/** Runs SQL with the time-out; ClickHouse's TIMEOUT_EXCEEDED becomes a 504 `query_timeout`. */
async function timed<T>(analytics: AnalyticsClient, sql: string, params: Record<string, unknown>, timeoutSeconds: number, settings = ''): Promise<T[]> {
  try {
    return await analytics.query<T>(`${sql}\n SETTINGS max_execution_time = ${Math.max(timeoutSeconds, 0.000001).toFixed(6)}, timeout_overflow_mode = 'throw'${settings}`, params);
  } catch (e) {
    const m = String((e as Error)?.message ?? e);
    if (/TIMEOUT_EXCEEDED|Timeout exceeded|code: 159/i.test(m))
      throw new HttpError(504, 'query_timeout', `the query ran longer than ${timeoutSeconds} s; narrow the range, the filters or the grouping`, { timeout_seconds: timeoutSeconds });
    throw e;
  }
}

const bad = (field: string, message: string, extra: Record<string, unknown> = {}) => new HttpError(400, 'bad_request', message, { field, ...extra });

/**
 * Checks a query against the event catalogue; throws a 400 naming the field
 * (`prefix` is prepended, e.g. `query.`). Returns the field specs it uses.
 */
export function validateMetricsQuery(q: MetricsQuery, prefix = ''): Record<string, FieldSpec> {
  const spec = EVENT_TYPE_BY_NAME.get(q.event_type);
  if (!spec) throw bad(`${prefix}event_type`, `${prefix}event_type: unknown event type "${q.event_type}"`, { allowed: [...EVENT_TYPE_BY_NAME.keys()] });
  const fields = fieldsOf(spec);
  if (!MEASURES.includes(q.measure)) throw bad(`${prefix}measure`, `${prefix}measure: unknown measure "${q.measure}"`, { allowed: MEASURES });
  const needsField = !['count', 'users', 'rate'].includes(q.measure);
  if (needsField) {
    if (!q.field) throw bad(`${prefix}field`, `${prefix}field is required for measure "${q.measure}"`);
    const f = fields[q.field];
    if (!f) throw bad(`${prefix}field`, `${prefix}field: "${q.field}" is not a field of ${q.event_type}`);
    if (!NUMERIC_KINDS.has(f.kind)) throw bad(`${prefix}field`, `${prefix}field: "${q.field}" is not numeric (it is ${f.kind})`);
  } else if (q.field !== undefined && !fields[q.field]) {
    throw bad(`${prefix}field`, `${prefix}field: "${q.field}" is not a field of ${q.event_type}`);
  }
  if (q.measure === 'rate' && (!q.rate_where || !Object.keys(q.rate_where).length)) throw bad(`${prefix}rate_where`, `${prefix}rate_where is required for measure "rate"`);
  for (const [key, filters] of [['where', q.where], ['rate_where', q.rate_where]] as const) {
    for (const [name, value] of Object.entries(filters ?? {})) {
      const f = fields[name];
      if (!f) throw bad(`${prefix}${key}.${name}`, `${prefix}${key}.${name}: "${name}" is not a field of ${q.event_type}`);
      if (f.kind === 'payload' || f.kind === 'timestamp') throw bad(`${prefix}${key}.${name}`, `${prefix}${key}.${name}: ${f.kind} fields cannot be filtered on`);
      const values = Array.isArray(value) ? value : [value];
      if (NUMERIC_KINDS.has(f.kind) && values.some((v) => typeof v !== 'number')) throw bad(`${prefix}${key}.${name}`, `${prefix}${key}.${name}: expected numbers`);
      if (f.kind === 'enum' && f.values && values.some((v) => !f.values!.includes(String(v))))
        throw bad(`${prefix}${key}.${name}`, `${prefix}${key}.${name}: expected one of ${f.values.join(', ')}`, { allowed: f.values });
    }
  }
  const seen = new Set<string>();
  for (const [i, name] of (q.group_by ?? []).entries()) {
    const f = fields[name];
    if (!f) throw bad(`${prefix}group_by[${i}]`, `${prefix}group_by[${i}]: "${name}" is not a field of ${q.event_type}`);
    if (!GROUPABLE_KINDS.has(f.kind)) throw bad(`${prefix}group_by[${i}]`, `${prefix}group_by[${i}]: "${name}" (${f.kind}) cannot be grouped by`);
    if (seen.has(name)) throw bad(`${prefix}group_by[${i}]`, `${prefix}group_by[${i}]: "${name}" is listed twice`);
    seen.add(name);
  }
  if (q.tz !== undefined && !validZone(q.tz)) throw bad(`${prefix}tz`, `${prefix}tz: "${q.tz}" is not an IANA time zone`);
  if (q.granularity !== undefined && !GRANULARITIES.includes(q.granularity)) throw bad(`${prefix}granularity`, `${prefix}granularity: unknown "${q.granularity}"`);
  return fields;
}

/** ClickHouse literal time of an instant (`YYYY-MM-DD hh:mm:ss.sss`, UTC). */
const chTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

export function conditionSql(filters: Record<string, WhereValue | WhereValue[]>, fields: Record<string, FieldSpec>, params: Record<string, unknown>, tag: string) {
  const parts: string[] = [];
  let i = 0;
  for (const [name, value] of Object.entries(filters)) {
    const f = fields[name]!;
    const p = `${tag}${i++}`;
    const values = Array.isArray(value) ? value : [value];
    if (f.kind === 'labels') {
      params[p] = values.map(String);
      parts.push(`hasAny(${name}, {${p}:Array(String)})`);
    } else if (NUMERIC_KINDS.has(f.kind)) {
      params[p] = values.map(Number);
      parts.push(`toFloat64(${name}) IN {${p}:Array(Float64)}`);
    } else {
      params[p] = values.map(String);
      parts.push(`${name} IN {${p}:Array(String)}`);
    }
  }
  return parts;
}

function measureSql(q: MetricsQuery, rateCond: string): string {
  const f = q.field ? `toFloat64(${q.field})` : '';
  switch (q.measure) {
    case 'count':
      return 'toFloat64(count())';
    case 'users':
      return 'toFloat64(uniqExact(user_id))';
    case 'sum':
      return `sum(${f})`;
    case 'avg':
      return `if(count() = 0, NULL, avg(${f}))`;
    case 'min':
      return `if(count() = 0, NULL, min(${f}))`;
    case 'max':
      return `if(count() = 0, NULL, max(${f}))`;
    case 'rate':
      return `if(count() = 0, NULL, countIf(${rateCond}) / count())`;
    default: {
      const level = Number(q.measure.slice(1)) / 100;
      return `if(count() = 0, NULL, quantileExactInclusive(${level})(${f}))`;
    }
  }
}

export interface CompiledQuery {
  sql: string;
  params: Record<string, unknown>;
  groupBy: string[];
  /** ClickHouse settings the statement runs with (`, name = value…`), appended to the time-out's */
  settings?: string;
}

/**
 * SQL for `q` over [from, to). `{org_id:String}` is bound by the SDK's analytics
 * helper; `visibleDepartments` (null = all) narrows to the departments the
 * caller may see.
 */
export function compileMetricsQuery(q: MetricsQuery, range: { from: Date; to: Date }, events: string, visibleDepartments: string[] | null = null): CompiledQuery {
  const fields = validateMetricsQuery(q);
  const params: Record<string, unknown> = { event_type: q.event_type, from: chTime(range.from), to: chTime(range.to), tz: q.tz ?? 'UTC' };
  const where = ['org_id = {org_id:String}', 'event_type = {event_type:String}', "timestamp >= toDateTime64({from:String}, 3, 'UTC')", "timestamp < toDateTime64({to:String}, 3, 'UTC')"];
  where.push(...conditionSql(q.where ?? {}, fields, params, 'w'));
  if (q.department_id) {
    params.department_id = q.department_id;
    where.push('department_id = {department_id:String}');
  }
  if (visibleDepartments) {
    params.visible_departments = visibleDepartments;
    where.push('department_id IN {visible_departments:Array(String)}');
  }
  const rateCond = q.rate_where ? conditionSql(q.rate_where, fields, params, 'r').join(' AND ') : '1';
  const groupBy = q.group_by ?? [];
  const keys = groupBy.map((g, i) => `toString(${g}) AS g${i}`);
  const value = measureSql(q, rateCond);
  const dims = groupBy.map((_, i) => `g${i}`);
  let sql: string;
  if (q.granularity) {
    sql = `SELECT ${[...keys, `toUnixTimestamp(${bucketExpr('timestamp', q.granularity)}) AS bucket`, `${value} AS value`].join(', ')}
      FROM ${events} WHERE ${where.join(' AND ')}
      GROUP BY ${[...dims, 'bucket'].join(', ')} ORDER BY ${[...dims, 'bucket'].join(', ')}`;
  } else {
    sql = `SELECT ${[...keys, `${value} AS value`].join(', ')}
      FROM ${events} WHERE ${where.join(' AND ')}
      ${dims.length ? `GROUP BY ${dims.join(', ')} ORDER BY ${dims.join(', ')}` : ''}`;
  }
  return { sql, params, groupBy };
}

/** Start instants of every bucket of `granularity` (in zone `tz`) that overlaps [from, to). */
export function bucketStarts(from: Date, to: Date, granularity: Granularity, tz: string): string[] {
  // walk the zone's wall clock as if it were UTC, then turn each wall time back into an instant
  const wall = new Date(from.getTime() + zoneOffsetMs(from, tz));
  const y = wall.getUTCFullYear();
  const mo = wall.getUTCMonth();
  const d = wall.getUTCDate();
  let cursor: Date;
  switch (granularity) {
    case 'minute':
    case 'hour': {
      // in absolute time: a wall clock that falls back shows one hour twice, and both are buckets
      const step = granularity === 'minute' ? 60_000 : 3_600_000;
      const out: string[] = [];
      for (let t = from.getTime() - (((wall.getTime() % step) + step) % step); t < to.getTime(); t += step) out.push(new Date(t).toISOString());
      return out;
    }
    case 'day':
      cursor = new Date(Date.UTC(y, mo, d));
      break;
    case 'week':
      cursor = new Date(Date.UTC(y, mo, d - ((wall.getUTCDay() + 6) % 7)));
      break;
    case 'month':
      cursor = new Date(Date.UTC(y, mo, 1));
      break;
  }
  const out: string[] = [];
  for (;;) {
    const iso = new Date(bucketIso(chTime(cursor).slice(0, 19), tz)).toISOString();
    if (new Date(iso) >= to) break;
    if (out[out.length - 1] !== iso) out.push(iso);
    const c = cursor;
    cursor =
      granularity === 'day' ? new Date(Date.UTC(c.getUTCFullYear(), c.getUTCMonth(), c.getUTCDate() + 1))
      : granularity === 'week' ? new Date(Date.UTC(c.getUTCFullYear(), c.getUTCMonth(), c.getUTCDate() + 7))
      : new Date(Date.UTC(c.getUTCFullYear(), c.getUTCMonth() + 1, 1));
  }
  return out;
}

const zeroWhenEmpty = (m: Measure) => m === 'count' || m === 'users' || m === 'sum';
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/**
 * Runs a metrics query over [from, to) for the analytics client's org. Without
 * `granularity` each group has one value (`total`) and no points; with it, every
 * bucket of the range is present (0 or null when empty) and `total` is the value
 * over the whole range.
 */
export async function runMetricsQuery(
  analytics: AnalyticsClient,
  q: MetricsQuery,
  range: { from: Date; to: Date },
  visibleDepartments: string[] | null = null,
  timeoutSeconds = DEFAULT_TIMEOUT_SECONDS,
  opts: RunOptions = {},
): Promise<Series[]> {
  const events = analytics.table('events');
  const raw = (x: MetricsQuery) => compileMetricsQuery(x, range, events, visibleDepartments);
  if (!opts.rollups || opts.rollups === 'raw') return answer(analytics, q, range, timeoutSeconds, raw);
  const reader = opts.rollups;
  return reader.read(EVENTS_ROLLUP.name, (watermark) =>
    answer(analytics, q, range, timeoutSeconds, (x) => {
      const planned = compilePlanned(x, range, (t) => analytics.table(t), watermark, visibleDepartments);
      opts.onPlan?.(planned?.tables ?? ['events']);
      return planned ?? raw(x);
    }),
  );
}

export interface RunOptions {
  /** the plugin's rollup reader (`ctx.rollups`): read rollups where they answer exactly; `raw` or absent: raw events only */
  rollups?: RollupReader | 'raw';
  /** told the tables each ClickHouse query of the answer reads (tests and benchmarks check the plan) */
  onPlan?: (tables: string[]) => void;
}

/**
 * The bucketed query of an answer turned into one that also yields the totals per group, in
 * the same scan: `GROUP BY GROUPING SETS ((groups…, bucket), (groups…))`. Every measure's
 * aggregate is computed over each set from the rows themselves (an exact quantile or distinct
 * count of a group's total is not a sum of its buckets), so the totals equal the separate
 * totals query's. Both compilers end with `GROUP BY <groups, bucket> ORDER BY <groups, bucket>`;
 * null when the SQL has another shape, or when the answer reaches the limits (groups or points):
 * the caller then asks the totals first, as before, and answers the 400 naming the limit.
 */
export function groupingSetsSql(sql: string): string | null {
  const m = /GROUP BY ([\w, ]*\bbucket) ORDER BY ([\w, ]*\bbucket)\s*$/.exec(sql);
  if (!m || m[1] !== m[2]) return null;
  const keys = m[1]!.split(',').map((k) => k.trim());
  if (keys[keys.length - 1] !== 'bucket') return null;
  const groups = keys.slice(0, -1);
  const body = sql.slice(0, m.index).replace(/^\s*SELECT /, '');
  return `SELECT grouping(bucket) AS t__total, ${body}GROUP BY GROUPING SETS ((${keys.join(', ')}), (${groups.join(', ')})) ORDER BY t__total, ${keys.join(', ')}`;
}

async function oneScan(analytics: AnalyticsClient, compiled: CompiledQuery, timeoutSeconds: number): Promise<{ totals: Array<Record<string, unknown>>; buckets: Array<Record<string, unknown>> } | null> {
  const sql = groupingSetsSql(compiled.sql);
  if (!sql) return null;
  const cap = MAX_POINTS + MAX_GROUPS + 1;
  // `grouping(x)` is 1 on the rows where x is not grouped (the totals), as standard SQL says
  const rows = await timed<Record<string, unknown>>(analytics, sql, compiled.params, timeoutSeconds, `, force_grouping_standard_compatibility = 1, group_by_use_nulls = 0, max_result_rows = ${cap}, result_overflow_mode = 'break'${compiled.settings ?? ''}`);
  if (rows.length >= cap) return null;
  const totals = rows.filter((r) => Number(r.t__total) === 1);
  if (totals.length > MAX_GROUPS) return null;
  return { totals, buckets: rows.filter((r) => Number(r.t__total) === 0) };
}

async function answer(
  analytics: AnalyticsClient,
  q: MetricsQuery,
  range: { from: Date; to: Date },
  timeoutSeconds: number,
  compile: (q: MetricsQuery) => CompiledQuery,
): Promise<Series[]> {
  const whole = compile({ ...q, granularity: undefined });
  // with buckets, one scan answers the totals and the buckets together (grouping sets); an
  // answer too large for the limits falls back to asking the totals first, which names the limit
  const both = q.granularity ? await oneScan(analytics, compile(q), timeoutSeconds) : null;
  const totals = both?.totals ?? (await timed<Record<string, unknown>>(analytics, whole.sql, whole.params, timeoutSeconds, whole.settings));
  if (totals.length > MAX_GROUPS) throw bad('group_by', `the query has ${totals.length} groups; at most ${MAX_GROUPS} are answered`);
  const groupOf = (row: Record<string, unknown>) => Object.fromEntries(whole.groupBy.map((g, i) => [g, String(row[`g${i}`])]));
  const keyOf = (row: Record<string, unknown>) => JSON.stringify(whole.groupBy.map((_, i) => String(row[`g${i}`])));
  const series = new Map<string, Series>();
  for (const row of totals) {
    if (!whole.groupBy.length && row.value === null && !zeroWhenEmpty(q.measure)) {
      series.set('[]', { group: {}, total: null, points: [] });
      continue;
    }
    series.set(keyOf(row), { group: groupOf(row), total: num(row.value), points: [] });
  }
  if (!whole.groupBy.length && !series.size) series.set('[]', { group: {}, total: zeroWhenEmpty(q.measure) ? 0 : null, points: [] });
  if (q.granularity) {
    const tz = q.tz ?? 'UTC';
    checkBuckets({ from: range.from, to: range.to, fromCh: '', toCh: '', tz }, q.granularity);
    const starts = bucketStarts(range.from, range.to, q.granularity, tz);
    if (starts.length * series.size > MAX_POINTS)
      throw bad('granularity', `the answer would have ${starts.length * series.size} points (${series.size} groups × ${starts.length} buckets); at most ${MAX_POINTS}: use a coarser granularity, a shorter range or fewer groups`, { points: starts.length * series.size, max_points: MAX_POINTS });
    let rows = both?.buckets;
    if (!rows) {
      const compiled = compile(q);
      rows = await timed<Record<string, unknown>>(analytics, compiled.sql, compiled.params, timeoutSeconds, compiled.settings);
    }
    const byKey = new Map<string, Map<string, number | null>>();
    for (const row of rows) {
      const k = keyOf(row);
      if (!byKey.has(k)) byKey.set(k, new Map());
      byKey.get(k)!.set(new Date(Number(row.bucket) * 1000).toISOString(), num(row.value));
    }
    for (const [k, s] of series) {
      const values = byKey.get(k) ?? new Map();
      s.points = starts.map((bucket) => ({ bucket, value: values.has(bucket) ? values.get(bucket)! : zeroWhenEmpty(q.measure) ? 0 : null }));
    }
  }
  return [...series.values()];
}

/**
 * Many queries over the same range, event type, grouping and department scope in one
 * ClickHouse query: each query's filter becomes an `-If` condition on its own
 * aggregate, so the events are read once for all of them. Answers like
 * `runMetricsQuery` without granularity (one total per group). Alert rounds use it:
 * a thousand rules mostly share a few event types and windows.
 */
export async function runMetricsBatch(
  analytics: AnalyticsClient,
  queries: MetricsQuery[],
  range: { from: Date; to: Date },
  visibleDepartments: string[] | null = null,
  timeoutSeconds = DEFAULT_TIMEOUT_SECONDS,
  /** ClickHouse settings every statement of the batch runs with (`, name = value…`) */
  settings = '',
): Promise<Series[][]> {
  return (await runMetricsWindows(analytics, queries, [range], visibleDepartments, timeoutSeconds, settings))[0]!;
}

/**
 * `runMetricsBatch` over several ranges at once (e.g. a week and the week before it): still
 * one ClickHouse query per event type and grouping, which reads the ranges' events once and
 * gives each (query, range) its own `-If` aggregate whose condition adds the range. Answer
 * `[range][query]`, each exactly what `runMetricsBatch` answers for that range alone. Ranges
 * may touch, overlap or lie apart.
 */
export async function runMetricsWindows(
  analytics: AnalyticsClient,
  queries: MetricsQuery[],
  ranges: Array<{ from: Date; to: Date }>,
  visibleDepartments: string[] | null = null,
  timeoutSeconds = DEFAULT_TIMEOUT_SECONDS,
  /** ClickHouse settings every statement runs with (`, name = value…`) */
  settings = '',
): Promise<Series[][][]> {
  // The same question asked twice (a warning and a critical rule on one query, a template per
  // team, a KPI on two widgets) is one set of aggregates: answered once, its answer shared.
  // Granularity and time zone do not change a total, so they are not part of the question.
  const slot = new Map<string, number>();
  const distinct: MetricsQuery[] = [];
  const at = queries.map((q) => {
    const key = JSON.stringify({ ...q, granularity: undefined, tz: undefined });
    let i = slot.get(key);
    if (i === undefined) slot.set(key, (i = distinct.push(q) - 1));
    return i;
  });
  const answers = await windowsOfDistinct(analytics, distinct, ranges, visibleDepartments, timeoutSeconds, settings);
  return distinct.length < queries.length ? answers.map((perQuery) => at.map((i) => perQuery[i]!)) : answers;
}

/** `runMetricsWindows` for queries that are all different */
async function windowsOfDistinct(
  analytics: AnalyticsClient,
  queries: MetricsQuery[],
  ranges: Array<{ from: Date; to: Date }>,
  visibleDepartments: string[] | null,
  timeoutSeconds: number,
  settings: string,
): Promise<Series[][][]> {
  const out: Series[][][] = ranges.map(() => new Array(queries.length));
  const live = ranges.map((r, w) => ({ ...r, w })).filter((r) => r.to > r.from);
  // an empty range reads nothing: its answers are those of a range without events
  for (const r of ranges.map((x, w) => ({ ...x, w })).filter((x) => !(x.to > x.from)))
    queries.forEach((q, i) => (out[r.w]![i] = q.group_by?.length ? [] : [{ group: {}, total: zeroWhenEmpty(q.measure) ? 0 : null, points: [] }]));
  if (!live.length) return out;
  const batches = new Map<string, number[]>();
  queries.forEach((q, i) => {
    const key = JSON.stringify([q.event_type, q.group_by ?? []]);
    batches.set(key, [...(batches.get(key) ?? []), i]);
  });
  const events = analytics.table('events');
  const hull = { from: new Date(Math.min(...live.map((r) => r.from.getTime()))), to: new Date(Math.max(...live.map((r) => r.to.getTime()))) };
  const perStatement = Math.max(1, Math.floor(200 / live.length));
  for (const members of batches.values()) {
    for (let start = 0; start < members.length; start += perStatement) {
      const idx = members.slice(start, start + perStatement);
      const first = queries[idx[0]!]!;
      const groupBy = first.group_by ?? [];
      const params: Record<string, unknown> = { event_type: first.event_type, from: chTime(hull.from), to: chTime(hull.to) };
      const where = ['org_id = {org_id:String}', 'event_type = {event_type:String}', "timestamp >= toDateTime64({from:String}, 3, 'UTC')", "timestamp < toDateTime64({to:String}, 3, 'UTC')"];
      // one range: the WHERE is the range; several: each aggregate adds its own
      const inRange: string[] = live.map((r, j) => {
        if (live.length === 1) return '';
        params[`w${j}f`] = chTime(r.from);
        params[`w${j}t`] = chTime(r.to);
        return `timestamp >= toDateTime64({w${j}f:String}, 3, 'UTC') AND timestamp < toDateTime64({w${j}t:String}, 3, 'UTC')`;
      });
      if (live.length > 1) where.push(`(${inRange.map((c) => `(${c})`).join(' OR ')})`);
      if (visibleDepartments) {
        params.visible_departments = visibleDepartments;
        where.push('department_id IN {visible_departments:Array(String)}');
      }
      const cols: string[] = groupBy.map((g, i) => `toString(${g}) AS g${i}`);
      idx.forEach((qi, k) => {
        const q = queries[qi]!;
        const fields = validateMetricsQuery(q);
        const base = conditionSql(q.where ?? {}, fields, params, `q${k}w`);
        if (q.department_id) {
          params[`q${k}d`] = q.department_id;
          base.push(`department_id = {q${k}d:String}`);
        }
        const f = q.field ? `toFloat64(${q.field})` : '';
        const rate = q.rate_where ? conditionSql(q.rate_where, fields, params, `q${k}r`).join(' AND ') : '1';
        live.forEach((_, j) => {
          const parts = inRange[j] ? [...base, inRange[j]] : base;
          const c = parts.length ? parts.join(' AND ') : '1';
          const v =
            q.measure === 'count' ? `toFloat64(countIf(${c}))`
            : q.measure === 'users' ? `toFloat64(uniqExactIf(user_id, ${c}))`
            : q.measure === 'sum' ? `sumIf(${f}, ${c})`
            : q.measure === 'avg' ? `avgIf(${f}, ${c})`
            : q.measure === 'min' ? `minIf(${f}, ${c})`
            : q.measure === 'max' ? `maxIf(${f}, ${c})`
            : q.measure === 'rate' ? `countIf((${c}) AND (${rate})) / greatest(countIf(${c}), 1)`
            : `quantileExactInclusiveIf(${Number(q.measure.slice(1)) / 100})(${f}, ${c})`;
          const name = live.length === 1 ? `${k}` : `${k}_${j}`;
          cols.push(`${v} AS v${name}`, `countIf(${c}) AS n${name}`);
        });
      });
      const dims = groupBy.map((_, i) => `g${i}`);
      const sql = `SELECT ${cols.join(', ')} FROM ${events} WHERE ${where.join(' AND ')}${dims.length ? ` GROUP BY ${dims.join(', ')}` : ''}`;
      const rows = await timed<Record<string, unknown>>(analytics, sql, params, timeoutSeconds, settings);
      idx.forEach((qi, k) => {
        const q = queries[qi]!;
        live.forEach((r, j) => {
          const name = live.length === 1 ? `${k}` : `${k}_${j}`;
          const series: Series[] = [];
          for (const row of rows) {
            const n = Number(row[`n${name}`]);
            if (n === 0) {
              if (!dims.length) series.push({ group: {}, total: zeroWhenEmpty(q.measure) ? 0 : null, points: [] });
              continue;
            }
            series.push({ group: Object.fromEntries(groupBy.map((g, i) => [g, String(row[`g${i}`])])), total: num(row[`v${name}`]), points: [] });
          }
          if (!dims.length && !series.length) series.push({ group: {}, total: zeroWhenEmpty(q.measure) ? 0 : null, points: [] });
          if (series.length > MAX_GROUPS) throw bad('group_by', `the query has ${series.length} groups; at most ${MAX_GROUPS} are answered`);
          out[r.w]![qi] = series;
        });
      });
    }
  }
  return out;
}
