/**
 * One ClickHouse query per metric: variant membership per unit, the unit's
 * outcome (and pre-exposure covariate), then per-variant sums — so only a row
 * per variant leaves the store, never the events.
 *
 * Membership comes from the invocations' `variant_field` (units seen with
 * several values are set apart under EXCLUDED and counted) or from the
 * exposures recorded by assignment. A unit's outcome reads the metric's events
 * from its first exposure on (for unit `invocation`, the events carrying its
 * invocation_id).
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
  add(type: string, value: unknown): string {
    const name = `p${this.i++}`;
    this.values[name] = value;
    return `{${name}:${type}}`;
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

const OUTER = `SELECT variant_key AS variant, count() AS assigned, countIf(has_y) AS n, sumIf(y, has_y) AS s, sumIf(y * y, has_y) AS ss,
  sumIf(x, has_y) AS sx, sumIf(x * x, has_y) AS sxx, sumIf(x * y, has_y) AS sxy`;

/** Build and run the per-variant sums of one metric. */
export async function variantSums(analytics: AnalyticsClient, def: ExperimentDef, metric: MetricDef, win: Window): Promise<VariantSums[]> {
  const p = new Params();
  const events = analytics.table('events');
  const metricType = metric.event_type ?? 'agent_invocation';
  const variants = p.add('Array(String)', def.variants.map((v) => v.key));
  const start = p.add('Int64', win.startMs);
  const end = p.add('Int64', win.endMs);
  const ts = (x: string) => `fromUnixTimestamp64Milli(${x}, 'UTC')`;
  const excluded = p.add('String', EXCLUDED);
  const agentTyped = def.agent_name !== undefined && 'agent_name' in fieldsOf(EVENT_TYPE_BY_NAME.get(metricType)!);

  let sql: string;
  if (def.variant_field && def.unit === 'invocation' && metricType === 'agent_invocation' && !def.cuped) {
    // one scan: the invocation is both the exposure and the outcome
    const match = matchSql(metric, p, (f) => f);
    const value = valueSql(metric, (f) => f);
    const u = perUnit(metric, '1', match, value);
    sql = `${OUTER}
FROM (
  SELECT if(uniqExact(${def.variant_field}) = 1, any(toString(${def.variant_field})), ${excluded}) AS variant_key, ${u.y} AS y, ${u.has} AS has_y, 0 AS x
  FROM ${events}
  WHERE org_id = {org_id:String} AND event_type = 'agent_invocation' AND agent_name = ${p.add('String', def.agent_name)}
    AND timestamp >= ${ts(start)} AND timestamp < ${ts(end)} AND toString(${def.variant_field}) IN ${variants}
  GROUP BY if(invocation_id != '', invocation_id, event_id)
)
GROUP BY variant_key`;
  } else {
    const unitKey = def.unit === 'user' ? 'user_id' : `if(invocation_id != '', invocation_id, event_id)`;
    const membership = def.variant_field
      ? `SELECT ${unitKey} AS unit, any(toString(${def.variant_field})) AS unit_variant, uniqExact(${def.variant_field}) AS nv, min(timestamp) AS first_seen
         FROM ${events}
         WHERE org_id = {org_id:String} AND event_type = 'agent_invocation' AND agent_name = ${p.add('String', def.agent_name)}
           AND timestamp >= ${ts(start)} AND timestamp < ${ts(end)} AND toString(${def.variant_field}) IN ${variants} AND ${unitKey} != ''
         GROUP BY unit`
      : `SELECT unit_id AS unit, any(variant) AS unit_variant, uniqExact(variant) AS nv, min(timestamp) AS first_seen
         FROM ${analytics.table(EXPOSURES_TABLE)}
         WHERE org_id = {org_id:String} AND experiment_key = ${p.add('String', def.key)}
           AND timestamp >= ${ts(start)} AND timestamp < ${ts(end)} AND variant IN ${variants}
         GROUP BY unit_id`;
    const lookbackMs = def.cuped ? def.cuped_lookback_days * DAY_MS : 0;
    const outcomeFrom = p.add('Int64', win.startMs - lookbackMs);
    const lookback = p.add('Int64', lookbackMs);
    const joinKey = def.unit === 'user' ? 'user_id' : 'invocation_id';
    const match = matchSql(metric, p, (f) => `e.${f}`);
    const value = valueSql(metric, (f) => `e.${f}`);
    const after = `e.ts >= m.first_seen AND e.ts < ${ts(end)}`;
    const before = `e.ts >= m.first_seen - toIntervalMillisecond(${lookback}) AND e.ts < m.first_seen`;
    const y = perUnit(metric, after, match, value);
    const x = def.cuped ? perUnit(metric, before, match, value).y : '0';
    const cols = new Set<string>([...Object.keys(metric.where ?? {}), ...(metric.field === undefined ? [] : Array.isArray(metric.field) ? metric.field : [metric.field])]);
    sql = `${OUTER}
FROM (
  SELECT if(any(m.nv) = 1, any(m.unit_variant), ${excluded}) AS variant_key, ${y.y} AS y, ${y.has} AS has_y, ${x} AS x
  FROM (${membership}) AS m
  LEFT JOIN (
    SELECT ${joinKey} AS k, timestamp AS ts${[...cols].map((c) => `, ${c}`).join('')}
    FROM ${events}
    WHERE org_id = {org_id:String} AND event_type = ${p.add('String', metricType)}
      ${agentTyped ? `AND agent_name = ${p.add('String', def.agent_name)}` : ''}
      AND timestamp >= ${ts(outcomeFrom)} AND timestamp < ${ts(end)} AND ${joinKey} != ''
  ) AS e ON e.k = m.unit
  GROUP BY m.unit
)
GROUP BY variant_key`;
  }
  const rows = await analytics.query<Record<string, string | number>>(sql, p.values);
  return rows.map((r) => ({
    variant: String(r.variant),
    assigned: Number(r.assigned),
    n: Number(r.n),
    s: Number(r.s),
    ss: Number(r.ss),
    sx: Number(r.sx),
    sxx: Number(r.sxx),
    sxy: Number(r.sxy),
  }));
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
