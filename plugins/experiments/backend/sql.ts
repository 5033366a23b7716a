/**
 * One ClickHouse query per results call (the metric and its guardrails together):
 * variant membership per unit, the unit's
 * outcome (and pre-exposure covariate), then per-variant sums — so only a row
 * per variant leaves the store, never the events.
 *
 * Membership comes from the invocations' `variant_field` or from the exposures
 * recorded by assignment. With unit `user`, and with exposures, a unit seen in
 * several variants is set apart under EXCLUDED and counted. With unit
 * `invocation` and `variant_field`, each invocation event is a unit whose
 * variant is its own field (it cannot be in two). A unit's outcome reads the
 * metric's events from its first exposure on (for unit `invocation`, the
 * events carrying its invocation_id).
 */
import { EVENT_TYPE_BY_NAME, fieldsOf, type AnalyticsClient } from '@orrery/plugin-sdk';
import { aggregateOf, type ExperimentDef, type MetricDef, type WhereValue } from './definition.ts';

export const EXCLUDED = '\u0000excluded';
export const EXPOSURES_TABLE = 'experiment_exposures';
const NUMERIC_KINDS = new Set(['count', 'int', 'amount', 'number']);
const DAY_MS = 86_400_000;

export interface VariantSums {
  variant: string;
  /** units in the variant (all exposed units, whether or not the metric has events for them) */
  assigned: number;
  /** units with an outcome for this metric */
  n: number;
  s: number;
  ss: number;
  sx: number;
  sxx: number;
  sxy: number;
}

export interface Window {
  startMs: number;
  endMs: number;
}

class Params {
  readonly values: Record<string, unknown> = {};
  private i = 0;
  private readonly seen = new Map<string, string>();
  /** one placeholder per type and value, so equal conditions are equal text (and deduplicate) */
  add(type: string, value: unknown): string {
    const id = `${type}\u0000${JSON.stringify(value)}`;
    const known = this.seen.get(id);
    if (known) return known;
    const name = `p${this.i++}`;
    this.values[name] = value;
    const placeholder = `{${name}:${type}}`;
    this.seen.set(id, placeholder);
    return placeholder;
  }
}

/** SQL of "this event matches `where`", with the fields' types taken from the catalogue. */
function matchSql(metric: MetricDef, p: Params, col: (f: string) => string): string {
  const spec = EVENT_TYPE_BY_NAME.get(metric.event_type ?? 'agent_invocation')!;
  const fields = fieldsOf(spec);
  const parts: string[] = [];
  for (const [f, value] of Object.entries(metric.where ?? {}) as Array<[string, WhereValue]>) {
    const kind = fields[f]!.kind;
    const numeric = NUMERIC_KINDS.has(kind);
    const c = numeric ? `toFloat64(${col(f)})` : kind === 'labels' ? col(f) : `toString(${col(f)})`;
    const scalar = (v: string | number | boolean) => (numeric ? p.add('Float64', Number(v)) : p.add('String', String(v)));
    if (Array.isArray(value)) {
      if (kind === 'labels') parts.push(`hasAny(${c}, ${p.add('Array(String)', value.map(String))})`);
      else parts.push(`${c} IN ${numeric ? p.add('Array(Float64)', value.map(Number)) : p.add('Array(String)', value.map(String))}`);
    } else if (value !== null && typeof value === 'object') {
      const ops: Record<string, string> = { gt: '>', gte: '>=', lt: '<', lte: '<=', ne: '!=' };
      for (const [op, v] of Object.entries(value)) {
        if (kind === 'labels') parts.push(op === 'ne' ? `NOT has(${c}, ${scalar(v as string)})` : 'false');
        else parts.push(`${c} ${ops[op]} ${scalar(v as number)}`);
      }
    } else if (kind === 'labels') parts.push(`has(${c}, ${scalar(value)})`);
    else parts.push(`${c} = ${scalar(value)}`);
  }
  return parts.length ? parts.map((x) => `(${x})`).join(' AND ') : '1';
}

function valueSql(metric: MetricDef, col: (f: string) => string): string {
  const list = metric.field === undefined ? [] : Array.isArray(metric.field) ? metric.field : [metric.field];
  return list.map((f) => `toFloat64(${col(f)})`).join(' + ') || '0';
}

/** per-unit outcome over the rows where `cond` holds, and whether the unit has one */
function perUnit(metric: MetricDef, cond: string, match: string, value: string): { y: string; has: string } {
  switch (aggregateOf(metric)) {
    case 'any':
      return { y: `toFloat64(countIf((${cond}) AND (${match})) > 0)`, has: '1' };
    case 'sum':
      return { y: `sumIf(${value}, ${cond})`, has: '1' };
    case 'mean':
      return { y: `if(countIf(${cond}) > 0, sumIf(${value}, ${cond}) / countIf(${cond}), 0)`, has: `countIf(${cond}) > 0` };
    default:
      return { y: `if(countIf(${cond}) > 0, countIf((${cond}) AND (${match})) / countIf(${cond}), 0)`, has: `countIf(${cond}) > 0` };
  }
}

/** per-variant sums of every metric's columns y{i}, has{i}, x{i} */
function outerSql(count: number): string {
  const cols = Array.from({ length: count }, (_, i) =>
    `countIf(has${i}) AS n${i}, sumIf(y${i}, has${i}) AS s${i}, sumIf(y${i} * y${i}, has${i}) AS ss${i}, sumIf(x${i}, has${i}) AS sx${i}, sumIf(x${i} * x${i}, has${i}) AS sxx${i}, sumIf(x${i} * y${i}, has${i}) AS sxy${i}`,
  );
  return `SELECT variant_key AS variant, count() AS assigned, ${cols.join(',\n  ')}`;
}

const fieldList = (m: MetricDef) => (m.field === undefined ? [] : Array.isArray(m.field) ? m.field : [m.field]);

/**
 * Build and run the per-variant sums of several metrics of one experiment in one
 * query (they share the membership and the scan of the events).
 */
export async function variantSums(analytics: AnalyticsClient, def: ExperimentDef, metrics: MetricDef[], win: Window, audience: readonly string[] | null = null): Promise<Map<string, VariantSums[]>> {
  const p = new Params();
  // only units whose user is in the audience (null: everyone)
  const inAudience = (col: string) => (audience === null ? '' : ` AND ${col} IN ${p.add('Array(String)', [...audience])}`);
  const events = analytics.table('events');
  const variants = p.add('Array(String)', def.variants.map((v) => v.key));
  const start = p.add('Int64', win.startMs);
  const end = p.add('Int64', win.endMs);
  const ts = (x: string) => `fromUnixTimestamp64Milli(${x}, 'UTC')`;
  const excluded = p.add('String', EXCLUDED);
  const typeOf = (m: MetricDef) => m.event_type ?? 'agent_invocation';
  const agentTyped = (m: MetricDef) => def.agent_name !== undefined && 'agent_name' in fieldsOf(EVENT_TYPE_BY_NAME.get(typeOf(m))!);

  let sql: string;
  if (def.variant_field && def.unit === 'invocation' && metrics.every((m) => typeOf(m) === 'agent_invocation') && !def.cuped) {
    // the invocation is both the exposure and the outcome: each invocation event is a unit whose
    // variant is its own field, so it cannot be in two variants, and the sums are one pass over
    // the rows like a plain GROUP BY variant (grouping ~10^6 invocation ids would cost 5-10×)
    const perRow = metrics.map((m, i) => {
      const agg = aggregateOf(m);
      const y = agg === 'share' || agg === 'any' ? `toFloat64(${matchSql(m, p, (f) => f)})` : valueSql(m, (f) => f);
      return `${y} AS y${i}, 1 AS has${i}, 0 AS x${i}`;
    });
    sql = `${outerSql(metrics.length)}
FROM (
  SELECT toString(${def.variant_field}) AS variant_key, ${perRow.join(', ')}
  FROM ${events}
  WHERE org_id = {org_id:String} AND event_type = 'agent_invocation' AND agent_name = ${p.add('String', def.agent_name)}
    AND timestamp >= ${ts(start)} AND timestamp < ${ts(end)} AND toString(${def.variant_field}) IN ${variants}${inAudience('user_id')}
)
GROUP BY variant_key`;
  } else if (def.variant_field && def.unit === 'user') {
    sql = userFieldSql(def, metrics, p, { variants, start, end, excluded, events, audience: inAudience('user_id') });
  } else {
    const fieldFilter = `org_id = {org_id:String} AND event_type = 'agent_invocation' AND agent_name = ${p.add('String', def.agent_name)}
           AND timestamp >= ${ts(start)} AND timestamp < ${ts(end)} AND toString(${def.variant_field}) IN ${variants}${inAudience('user_id')}`;
    // unit: what is counted; jk: how its outcome events are found (a 64-bit hash of the key:
    // the join compares numbers, not strings; a collision needs ~2^32 keys)
    const membership = !def.variant_field
      ? `SELECT unit_id AS unit, cityHash64(unit_id) AS jk, any(variant) AS unit_variant, uniqExact(variant) AS nv, min(timestamp) AS first_seen
         FROM ${analytics.table(EXPOSURES_TABLE)}
         WHERE org_id = {org_id:String} AND experiment_key = ${p.add('String', def.key)}
           AND timestamp >= ${ts(start)} AND timestamp < ${ts(end)} AND variant IN ${variants}${inAudience('user_id')}
         GROUP BY unit_id`
      : def.unit === 'user'
        ? `SELECT user_id AS unit, cityHash64(user_id) AS jk, any(toString(${def.variant_field})) AS unit_variant, uniqExact(${def.variant_field}) AS nv, min(timestamp) AS first_seen
           FROM ${events} WHERE ${fieldFilter} AND user_id != ''
           GROUP BY user_id`
        : // each invocation event is a unit, as in the one-pass case above
          `SELECT event_id AS unit, cityHash64(if(invocation_id != '', invocation_id, event_id)) AS jk, toString(${def.variant_field}) AS unit_variant, 1 AS nv, timestamp AS first_seen
           FROM ${events} WHERE ${fieldFilter}`;
    const lookbackMs = def.cuped ? def.cuped_lookback_days * DAY_MS : 0;
    const outcomeFrom = p.add('Int64', win.startMs - lookbackMs);
    const lookback = p.add('Int64', lookbackMs);
    const joinKey = def.unit === 'user' ? 'user_id' : 'invocation_id';
    const agent = def.agent_name !== undefined ? p.add('String', def.agent_name) : "''";
    // which rows each metric reads: its event type (and the experiment's agent when the type names agents)
    const rowsOf = (m: MetricDef, prefix: string) => `${prefix}event_type = ${p.add('String', typeOf(m))}${agentTyped(m) ? ` AND ${prefix}agent_name = ${agent}` : ''}`;
    const after = `e.ts >= m.first_seen AND e.ts < ${ts(end)}`;
    const before = `e.ts >= m.first_seen - toIntervalMillisecond(${lookback}) AND e.ts < m.first_seen`;
    const perMetric = metrics.map((m, i) => {
      const mine = rowsOf(m, 'e.');
      const match = matchSql(m, p, (f) => `e.${f}`);
      const value = valueSql(m, (f) => `e.${f}`);
      const y = perUnit(m, `${mine} AND ${after}`, match, value);
      const x = def.cuped ? perUnit(m, `${mine} AND ${before}`, match, value).y : '0';
      return `${y.y} AS y${i}, ${y.has} AS has${i}, ${x} AS x${i}`;
    });
    const cols = new Set<string>(['event_type', 'agent_name', ...metrics.flatMap((m) => [...Object.keys(m.where ?? {}), ...fieldList(m)])]);
    cols.delete('timestamp');
    // the small side (membership) is the right side of the join: ClickHouse builds its hash table
    // from it (parallel_hash: one table per core, measured 1.6× faster than the default here)
    sql = `${outerSql(metrics.length)}
FROM (
  SELECT if(any(m.nv) = 1, any(m.unit_variant), ${excluded}) AS variant_key, ${perMetric.join(', ')}
  FROM (
    SELECT cityHash64(${joinKey}) AS k, timestamp AS ts${[...cols].map((c) => `, ${c}`).join('')}
    FROM ${events}
    WHERE org_id = {org_id:String} AND (${[...new Set(metrics.map((m) => `(${rowsOf(m, '')})`))].join(' OR ')})
      AND timestamp >= ${ts(outcomeFrom)} AND timestamp < ${ts(end)} AND ${joinKey} != ''
  ) AS e
  RIGHT JOIN (${membership}) AS m ON e.k = m.jk
  GROUP BY m.unit
)
GROUP BY variant_key
SETTINGS join_algorithm = 'parallel_hash'`;
  }
  const rows = await analytics.query<Record<string, string | number>>(sql, p.values);
  return new Map(
    metrics.map((m, i) => [
      m.name,
      rows.map((r) => ({
        variant: String(r.variant),
        assigned: Number(r.assigned),
        n: Number(r[`n${i}`]),
        s: Number(r[`s${i}`]),
        ss: Number(r[`ss${i}`]),
        sx: Number(r[`sx${i}`]),
        sxx: Number(r[`sxx${i}`]),
        sxy: Number(r[`sxy${i}`]),
      })),
    ]),
  );
}

/**
 * Unit `user` with membership from a field: the plan that splits the rows in two.
 * The membership rows (the agent's invocations in the window whose field is a variant)
 * are by definition at or after the user's first exposure, so their part of every
 * outcome is summed in the same GROUP BY that finds the membership — no join. Only the
 * other rows a metric reads (other versions, other event types, the CUPED lookback)
 * need the user's first exposure, and only they go through the join. On the bench's
 * 1 M invocations that halves the rows joined (all of them with CUPED: measured ~1.8×
 * faster than joining every row).
 */
function userFieldSql(def: ExperimentDef, metrics: MetricDef[], p: Params, a: { variants: string; start: string; end: string; excluded: string; events: string; audience: string }): string {
  const ts = (x: string) => `fromUnixTimestamp64Milli(${x}, 'UTC')`;
  const agent = p.add('String', def.agent_name);
  const field = def.variant_field!;
  const typeOf = (m: MetricDef) => m.event_type ?? 'agent_invocation';
  const agentTyped = (m: MetricDef) => 'agent_name' in fieldsOf(EVENT_TYPE_BY_NAME.get(typeOf(m))!);
  const rowsOf = (m: MetricDef) => `event_type = ${p.add('String', typeOf(m))}${agentTyped(m) ? ` AND agent_name = ${agent}` : ''}`;
  // membership rows are rows of the metric when it reads the experiment's agent's invocations
  const readsMembership = (m: MetricDef) => typeOf(m) === 'agent_invocation';
  const membershipRow = `event_type = 'agent_invocation' AND agent_name = ${agent} AND timestamp >= ${ts(a.start)} AND timestamp < ${ts(a.end)} AND toString(${field}) IN ${a.variants}`;
  const lookbackMs = def.cuped ? def.cuped_lookback_days * DAY_MS : 0;
  const lookback = p.add('Int64', lookbackMs);
  const from = def.cuped ? `${ts(a.start)} - toIntervalMillisecond(${lookback})` : ts(a.start);

  // per metric: the row's flags (r: read by the metric, q: matches `where`, w: the value)
  const rowCols = metrics.map((m, i) => `(${rowsOf(m)}) AS r${i}, (${matchSql(m, p, (f) => f)}) AS q${i}, ${valueSql(m, (f) => f)} AS w${i}`);
  // membership side: count, matches and sum over the membership rows (all "after")
  const memCols = metrics.map((m, i) =>
    readsMembership(m) ? `count() AS mc${i}, countIf(${matchSql(m, p, (f) => f)}) AS mq${i}, sum(${valueSql(m, (f) => f)}) AS mw${i}` : `0 AS mc${i}, 0 AS mq${i}, toFloat64(0) AS mw${i}`,
  );
  const after = `e.ts >= m.first_seen AND e.ts < ${ts(a.end)}`;
  const before = `e.ts >= m.first_seen - toIntervalMillisecond(${lookback}) AND e.ts < m.first_seen`;
  const joined = metrics.map((_, i) => `m.mc${i} AS mc${i}, m.mq${i} AS mq${i}, m.mw${i} AS mw${i}, e.r${i} AS r${i}, e.q${i} AS q${i}, e.w${i} AS w${i}`);
  const outcome = (m: MetricDef, c: string, q: string, w: string) => {
    switch (aggregateOf(m)) {
      case 'any':
        return { y: `toFloat64(${q} > 0)`, has: '1' };
      case 'sum':
        return { y: w, has: '1' };
      case 'mean':
        return { y: `if(${c} > 0, ${w} / ${c}, 0)`, has: `${c} > 0` };
      default:
        return { y: `if(${c} > 0, ${q} / ${c}, 0)`, has: `${c} > 0` };
    }
  };
  const perUnit = metrics.map((m, i) => {
    const c = `(any(mc${i}) + countIf(r${i} AND aft))`;
    const q = `(any(mq${i}) + countIf(r${i} AND aft AND q${i}))`;
    const w = `(any(mw${i}) + sumIf(w${i}, r${i} AND aft))`;
    const y = outcome(m, c, q, w);
    const x = def.cuped ? outcome(m, `countIf(r${i} AND bef)`, `countIf(r${i} AND bef AND q${i})`, `sumIf(w${i}, r${i} AND bef)`).y : '0';
    return `${y.y} AS y${i}, ${y.has} AS has${i}, ${x} AS x${i}`;
  });
  return `${outerSql(metrics.length)}
FROM (
  SELECT any(vk) AS variant_key, ${perUnit.join(', ')}
  FROM (
    SELECT m.jk AS jk, m.vk AS vk, ${after} AS aft, ${def.cuped ? before : '0'} AS bef, ${joined.join(', ')}
    FROM (
      SELECT cityHash64(user_id) AS k, timestamp AS ts, ${rowCols.join(', ')}
      FROM ${a.events}
      WHERE org_id = {org_id:String} AND (${[...new Set(metrics.map((m) => `(${rowsOf(m)})`))].join(' OR ')})
        AND timestamp >= ${from} AND timestamp < ${ts(a.end)} AND user_id != ''
        AND NOT (${membershipRow})
    ) AS e
    RIGHT JOIN (
      SELECT cityHash64(user_id) AS jk, if(min(${field}) = max(${field}), toString(min(${field})), ${a.excluded}) AS vk, min(timestamp) AS first_seen, ${memCols.join(', ')}
      FROM ${a.events}
      WHERE org_id = {org_id:String} AND ${membershipRow} AND user_id != ''${a.audience}
      GROUP BY jk
    ) AS m ON e.k = m.jk
  )
  GROUP BY jk
)
GROUP BY variant_key
SETTINGS join_algorithm = 'parallel_hash'`;
}

export const exposuresMigration = {
  name: '0001_experiment_exposures',
  statements: [
    `CREATE TABLE IF NOT EXISTS {db}.${EXPOSURES_TABLE}{cluster} (
      org_id LowCardinality(String),
      experiment_key String,
      unit_id String,
      variant String,
      timestamp DateTime64(3, 'UTC'),
      user_id String DEFAULT '',
      department_id LowCardinality(String) DEFAULT '',
      source LowCardinality(String) DEFAULT 'api'
    ) ENGINE = {engine:MergeTree}
    ORDER BY (org_id, experiment_key, unit_id, timestamp)`,
  ],
};
