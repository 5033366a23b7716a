/**
 * The read path for invocation metrics. One function, `invocationMetrics`,
 * answers every dashboard question ("per agent", "per bucket", "per error
 * type", "per model of one agent"…): it picks the sources (rollups where they
 * hold the dimensions asked for, raw events elsewhere), writes one UNION ALL of
 * aggregate states over them, and merges.
 */
import {
  bucketExpr,
  bucketIso,
  freshRowsSql,
  planSegments,
  usableLevels,
  type AnalyticsClient,
  type Granularity,
  type TenantContext,
  type TimeRange,
} from '@orrery/plugin-sdk';
import { AGENT_INDEX_TABLE, INVOCATIONS, LEVELS, QUANTILES, RAW_COUNTS, RAW_STATES, type Dimension, type Level } from './rollups.ts';

/** Filters every route takes (API: `department_id`, `user_id`, `model`, `version`, `prompt_version`, `status`). */
export interface Filters {
  department_id?: string;
  user_id?: string;
  model_used?: string;
  agent_version?: string;
  prompt_template_version?: string;
  status?: 'success' | 'failure';
  error_type?: string;
}

const FILTER_COLUMNS = ['department_id', 'user_id', 'model_used', 'agent_version', 'prompt_template_version', 'status', 'error_type'] as const;

/** Metrics of one group (an agent, a bucket, a model…), as the routes answer them. */
export interface Metrics {
  invocations: number;
  successes: number;
  failures: number;
  /** null when there were no invocations */
  success_rate: number | null;
  failure_rate: number | null;
  p50_ms: number | null;
  p75_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  mean_ms: number | null;
  input_tokens: number;
  output_tokens: number;
  input_tokens_per_invocation: number | null;
  output_tokens_per_invocation: number | null;
  cost_usd: number;
  cost_per_invocation_usd: number | null;
  cost_per_success_usd: number | null;
  /** null when the question asked for counts only */
  active_users: number | null;
  last_seen: string | null;
}

export interface MetricsQuery {
  range: TimeRange;
  filters: Filters;
  /** one agent, or all */
  agent?: string;
  /** dimensions to group by (besides the bucket) */
  groupBy?: readonly Dimension[];
  /** a time series when given */
  granularity?: Granularity;
  /** `raw` skips the rollups (benchmarks and checks compare the two); default `rollups` */
  source?: 'rollups' | 'raw';
  /**
   * `counts`: invocations, outcomes, tokens, cost and mean latency only; the latency
   * percentiles and active users (t-digest and exact-set states, most of a query's work)
   * are left out and answered as null. Default `all`.
   */
  measures?: Measures;
}

export type Measures = 'all' | 'counts';

export type MetricsRow = Metrics & Partial<Record<Dimension, string>> & { bucket?: string };

interface RawRow {
  qid: number;
  bucket_start?: string;
  invocations: number;
  successes: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number | string;
  latency_sum: number;
  last_seen: string;
  q: number[];
  active_users: number;
  [dim: string]: unknown;
}

/** Metrics questions at the rollups' current watermark (what routes call). */
export const metricsBatch = (ctx: TenantContext, qs: readonly MetricsQuery[]) => ctx.rollups.read(INVOCATIONS.name, (w) => invocationMetricsBatch(ctx.analytics, qs, w));
export const metrics = (ctx: TenantContext, q: MetricsQuery) => ctx.rollups.read(INVOCATIONS.name, (w) => invocationMetrics(ctx.analytics, q, w));

/**
 * Runs one metrics question (see `invocationMetricsBatch`, which this wraps).
 */
export async function invocationMetrics(analytics: AnalyticsClient, q: MetricsQuery, watermark: Date): Promise<MetricsRow[]> {
  const [rows] = await invocationMetricsBatch(analytics, [q], watermark);
  return rows!;
}

/**
 * Runs several metrics questions in one round trip: one `UNION ALL` of the
 * questions, each row tagged with its question's index, so a route that needs
 * totals, a breakdown and a trend pays one query's parse, plan and hand-off.
 * Answers come back in order.
 *
 * The sources are chosen per piece of each range (see `planSegments` in the
 * SDK): a rollup qualifies when it has every dimension the question groups or
 * filters by and its buckets nest in the requested ones; `user_id` is in no
 * rollup, so a user filter reads raw events. All questions of a batch share
 * one time zone (a route has one `tz`).
 *
 * Each table is read once per group of questions that differ only in their
 * (disjoint) ranges: a period and the one before it are usually five pieces
 * each (raw edge, hours, days, hours, raw edge), and every read costs chDB a
 * few milliseconds of planning and opening parts however few rows it takes.
 * The demo dashboard's leaderboard went from ten reads to three: 26 → 20 ms.
 *
 * `watermark` is the rollups' (read under `ctx.rollups.read`): the rollup tables hold the
 * invocations inserted up to it, and each rollup piece is completed by the raw invocations
 * of its range inserted after it.
 */
export async function invocationMetricsBatch(analytics: AnalyticsClient, qs: readonly MetricsQuery[], watermark: Date): Promise<MetricsRow[][]> {
  if (qs.length === 0) return [];
  const tz = qs[0]!.range.tz;
  if (qs.some((q) => q.range.tz !== tz)) throw new Error('invocationMetricsBatch: every question of a batch must use one time zone');
  const params: Record<string, unknown> = { tz, watermark: watermark.getTime() };
  // every branch of a UNION ALL has the same columns: the union of the grouped dimensions
  const dims = [...new Set(qs.flatMap((q) => q.groupBy ?? []))];
  const branches = sameShapeGroups(qs).map((ids, g) => groupSql(ids.map((j) => [j, qs[j]!] as const), g, dims, params));
  const sql = `${branches.join('\n    UNION ALL\n    ')}
    SETTINGS prefer_column_name_to_alias = 1`; // the outer sums reuse the arms' column names

  const out: MetricsRow[][] = qs.map(() => []);
  for (const r of await analytics.query<RawRow>(sql, params)) {
    const q = qs[Number(r.qid)]!;
    if (Number(r.invocations) <= 0) continue;
    const row: MetricsRow = toMetrics(r, q.measures === 'counts');
    if (q.granularity) row.bucket = new Date(bucketIso(r.bucket_start!, tz)).toISOString();
    for (const d of q.groupBy ?? []) row[d] = String(r[d]);
    out[Number(r.qid)]!.push(row);
  }
  // the UNION ALL keeps each branch's order only within that branch's rows; sort again per question
  return out.map((rows, j) => (qs[j]!.granularity || qs[j]!.groupBy?.length ? rows.sort(byKeys(qs[j]!)) : rows));
}

/**
 * The questions, as groups (indices) that can share their reads: the same agent, filters,
 * grouping, granularity, measures and source, and ranges that do not overlap (a row is
 * given to one question of its group only).
 */
function sameShapeGroups(qs: readonly MetricsQuery[]): number[][] {
  const shape = (q: MetricsQuery) => JSON.stringify([q.agent ?? null, FILTER_COLUMNS.map((c) => q.filters[c] ?? null), q.groupBy ?? [], q.granularity ?? null, q.measures ?? 'all', q.source ?? 'rollups']);
  const overlaps = (a: TimeRange, b: TimeRange) => a.from < b.to && b.from < a.to;
  const groups: Array<{ shape: string; ids: number[] }> = [];
  qs.forEach((q, j) => {
    const s = shape(q);
    const g = groups.find((x) => x.shape === s && x.ids.every((i) => !overlaps(qs[i]!.range, q.range)));
    if (g) g.ids.push(j);
    else groups.push({ shape: s, ids: [j] });
  });
  return groups.map((g) => g.ids);
}

function byKeys(q: MetricsQuery) {
  const keys: Array<keyof MetricsRow> = [...(q.granularity ? ['bucket' as const] : []), ...(q.groupBy ?? [])];
  return (a: MetricsRow, b: MetricsRow) => {
    for (const k of keys) {
      const x = String(a[k] ?? ''), y = String(b[k] ?? '');
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  };
}

/** The pieces of one question's range and the source of each (see `planSegments`). */
function segmentsOf(q: MetricsQuery, watermark: Date) {
  const filterCols = FILTER_COLUMNS.filter((c) => q.filters[c] !== undefined);
  const needed = new Set<string>([...(q.groupBy ?? []), ...filterCols, 'status']);
  const holding = (q.source === 'raw' ? [] : LEVELS).filter(
    (l) => (!l.onlyFor || l.onlyFor === q.granularity) && [...needed].every((d) => (l.dims as readonly string[]).includes(d)),
  );
  // per bucket width, the table with the fewest dimensions that still answers (the first on a tie): fewest states to merge
  const narrowest = holding.filter(
    (l) => !holding.some((o) => o.stepMs === l.stepMs && (o.dims.length < l.dims.length || (o.dims.length === l.dims.length && holding.indexOf(o) < holding.indexOf(l)))),
  );
  const levels = usableLevels(narrowest, { granularity: q.granularity, tz: q.range.tz, from: q.range.from, to: q.range.to });
  return planSegments(q.range, levels, { watermark });
}

/**
 * The SQL of one group of same-shape questions (see `sameShapeGroups`): one read per source
 * table covering every piece of every question it answers, each row tagged with the
 * question whose piece holds it, merged per question as one branch with the batch's columns.
 */
function groupSql(group: ReadonlyArray<readonly [number, MetricsQuery]>, g: number, allDims: readonly Dimension[], params: Record<string, unknown>): string {
  const q = group[0]![1]; // every question of the group has this shape
  const groupBy = [...(q.groupBy ?? [])];
  const filterCols = FILTER_COLUMNS.filter((c) => q.filters[c] !== undefined);
  const p = `g${g}_`;
  const counts = q.measures === 'counts';
  const where: string[] = ['org_id = {org_id:String}'];
  if (q.agent !== undefined) {
    where.push(`agent_name = {${p}agent:String}`);
    params[`${p}agent`] = q.agent;
  }
  for (const c of filterCols) {
    where.push(`${c} = {${p}f_${c}:String}`);
    params[`${p}f_${c}`] = q.filters[c];
  }

  // the pieces of every question, by source (a rollup table, or raw events)
  const bySource = new Map<string, { level: Level | null; pieces: Piece[] }>();
  let n = 0;
  for (const [qid, question] of group) {
    for (const seg of segmentsOf(question, new Date(params.watermark as number))) {
      const param = `${p}s${n++}`;
      params[`${param}_from`] = seg.from.getTime();
      params[`${param}_to`] = seg.to.getTime();
      const key = seg.level?.table ?? '';
      if (!bySource.has(key)) bySource.set(key, { level: seg.level, pieces: [] });
      // a raw piece beside a rollup piece: only the invocations the rollups do not hold yet
      bySource.get(key)!.pieces.push({ qid, param, fresh: !!seg.insertedAfter });
    }
  }

  // `status` is projected by every arm so the outer query can count successes
  const cols = [...new Set([...groupBy, 'status'])];
  const arms = [...bySource.values()].map(({ level, pieces }) =>
    level ? rollupArm(level, pieces, cols, where, q.granularity, counts) : rawArm(pieces, cols, where, q.granularity, counts),
  );

  const keys = ['qid', ...(q.granularity ? ['bucket_start'] : []), ...groupBy];
  const dimCols = allDims.map((d) => (groupBy.includes(d) ? d : `'' AS ${d}`));
  return `SELECT qid, ${q.granularity ? 'toString(bucket_start)' : "''"} AS bucket_start, ${dimCols.map((c) => `${c}, `).join('')}
      sum(invocations) AS invocations,
      sumIf(invocations, status = 'success') AS successes,
      sum(input_tokens) AS input_tokens,
      sum(output_tokens) AS output_tokens,
      sum(cost_usd) AS cost_usd,
      sum(latency_sum) AS latency_sum,
      max(last_seen) AS last_seen,
      ${counts ? "CAST([], 'Array(Float64)') AS q" : `quantilesTDigestMerge(${QUANTILES.join(', ')})(latency) AS q`},
      ${counts ? 'toUInt64(0) AS active_users' : 'uniqExactMerge(users) AS active_users'}
    FROM (${arms.join('\n      UNION ALL\n      ')})
    GROUP BY ${keys.join(', ')}`;
}

type Piece = { qid: number; param: string; fresh?: boolean };

/**
 * Which question a row belongs to, and the condition that it is in one of the pieces:
 * `inPiece` writes one piece's time condition.
 */
function pieceSql(pieces: readonly Piece[], inPiece: (param: string, fresh: boolean) => string) {
  const qids = [...new Set(pieces.map((x) => x.qid))];
  const inQuestion = (qid: number) => pieces.filter((x) => x.qid === qid).map((x) => inPiece(x.param, !!x.fresh)).join(' OR ');
  // the last question needs no test: the WHERE keeps only rows of some piece
  const qid = qids.length === 1 ? `toUInt16(${qids[0]})` : `toUInt16(multiIf(${qids.slice(0, -1).map((id) => `${inQuestion(id)}, ${id}`).join(', ')}, ${qids.at(-1)}))`;
  return { qid, where: pieces.map((x) => inPiece(x.param, !!x.fresh)).join(' OR ') };
}

function rollupArm(level: Level, pieces: readonly Piece[], cols: string[], where: string[], granularity: Granularity | undefined, counts: boolean) {
  const bucket = granularity ? `${bucketExpr('bucket', granularity)} AS bucket_start, ` : '';
  const t = pieceSql(pieces, (s) => `(bucket >= toDateTime(intDiv({${s}_from:Int64}, 1000), 'UTC') AND bucket < toDateTime(intDiv({${s}_to:Int64}, 1000), 'UTC'))`);
  return `SELECT ${t.qid} AS qid, ${bucket}${cols.join(', ')}, invocations, input_tokens, output_tokens, cost_usd, latency_sum, last_seen${counts ? '' : ', latency, users'}
        FROM {db}.${level.table}
        WHERE ${where.join(' AND ')}
          AND (${t.where})`;
}

function rawArm(pieces: readonly Piece[], cols: string[], where: string[], granularity: Granularity | undefined, counts: boolean) {
  const bucket = granularity ? `${bucketExpr('timestamp', granularity)} AS bucket_start, ` : '';
  const keys = ['qid', ...(granularity ? ['bucket_start'] : []), ...cols];
  const t = pieceSql(
    pieces,
    (s, fresh) => `(timestamp >= fromUnixTimestamp64Milli({${s}_from:Int64}, 'UTC') AND timestamp < fromUnixTimestamp64Milli({${s}_to:Int64}, 'UTC')${fresh ? ` AND ${freshRowsSql('watermark')}` : ''})`,
  );
  return `SELECT ${t.qid} AS qid, ${bucket}${cols.join(', ')}, ${counts ? RAW_COUNTS : RAW_STATES}
        FROM {db}.events
        WHERE ${where.join(' AND ')} AND event_type = 'agent_invocation'
          AND (${t.where})
        GROUP BY ${keys.join(', ')}`;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
const round = (x: number | null, digits = 1) => (x === null || !Number.isFinite(x) ? null : Math.round(x * 10 ** digits) / 10 ** digits);

function toMetrics(r: RawRow, counts: boolean): Metrics {
  const invocations = Number(r.invocations);
  const successes = Number(r.successes);
  const cost = Number(r.cost_usd);
  const [p50, p75, p95, p99] = (r.q ?? []).map((x) => round(Number(x)));
  return {
    invocations,
    successes,
    failures: invocations - successes,
    success_rate: ratio(successes, invocations),
    failure_rate: ratio(invocations - successes, invocations),
    p50_ms: p50 ?? null,
    p75_ms: p75 ?? null,
    p95_ms: p95 ?? null,
    p99_ms: p99 ?? null,
    mean_ms: round(ratio(Number(r.latency_sum), invocations)),
    input_tokens: Number(r.input_tokens),
    output_tokens: Number(r.output_tokens),
    input_tokens_per_invocation: round(ratio(Number(r.input_tokens), invocations)),
    output_tokens_per_invocation: round(ratio(Number(r.output_tokens), invocations)),
    cost_usd: cost,
    cost_per_invocation_usd: round(ratio(cost, invocations), 9),
    cost_per_success_usd: round(ratio(cost, successes), 9),
    active_users: counts ? null : Number(r.active_users),
    last_seen: r.last_seen ? `${r.last_seen.replace(' ', 'T')}Z` : null,
  };
}

/** The range just before `range`, of the same length (`compare=previous_period`). */
export function previousPeriod(range: TimeRange): TimeRange {
  const len = range.to.getTime() - range.from.getTime();
  const from = new Date(range.from.getTime() - len);
  const to = range.from;
  const ch = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');
  return { from, to, fromCh: ch(from), toCh: ch(to), tz: range.tz };
}

/** Whether an agent has ever been seen in the org: in the day rollup, or among the invocations not folded yet. */
export function agentExists(ctx: TenantContext, agent: string): Promise<boolean> {
  return ctx.rollups.read(INVOCATIONS.name, async (w) => {
    const rows = await ctx.analytics.query(
      `SELECT 1 AS ok FROM (
         SELECT 1 FROM {db}.${AGENT_INDEX_TABLE} WHERE org_id = {org_id:String} AND agent_name = {agent:String} LIMIT 1
         UNION ALL
         SELECT 1 FROM {db}.events WHERE org_id = {org_id:String} AND event_type = 'agent_invocation' AND agent_name = {agent:String} AND ${freshRowsSql('watermark')} LIMIT 1
       ) LIMIT 1`,
      { agent, watermark: w.getTime() },
    );
    return rows.length > 0;
  });
}

/** SQL conditions and params for the filters, for the raw-event queries of the drill-down routes. */
export function rawFilterSql(filters: Filters, params: Record<string, unknown>): string {
  return FILTER_COLUMNS.filter((c) => filters[c] !== undefined)
    .map((c) => {
      params[`f_${c}`] = filters[c];
      return ` AND ${c} = {f_${c}:String}`;
    })
    .join('');
}
