/**
 * The query parameters every route shares (time range, filters, comparison)
 * and the JSON schemas that validate and document them.
 */
import { parseTimeRange, timeRangeQuerySchema, type TimeRange } from '@orrery/plugin-sdk';
import { QUANTILES } from './rollups.ts';
import type { Filters, Measures } from './query.ts';

export interface CommonQuery {
  from?: string;
  to?: string;
  tz?: string;
  department_id?: string;
  user_id?: string;
  model?: string;
  version?: string;
  prompt_version?: string;
  status?: 'success' | 'failure';
  compare?: 'previous_period';
}

const str = (description: string) => ({ type: 'string', minLength: 1, maxLength: 200, description });

export const commonQueryProperties = {
  ...timeRangeQuerySchema,
  department_id: str('only invocations of this department'),
  user_id: str('only invocations of this user (always read from raw events: no rollup keeps users)'),
  model: str('only invocations on this model (`model_used`)'),
  version: str('only invocations of this agent version (`agent_version`)'),
  prompt_version: str('only invocations with this prompt template version'),
  status: { type: 'string', enum: ['success', 'failure'], description: 'only successful or failed invocations; latency quantiles then cover only those' },
  compare: { type: 'string', enum: ['previous_period'], description: 'also answer for the period of the same length just before `from`' },
} as const;

export const querySchema = (extra: Record<string, unknown> = {}, required: string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  properties: { ...commonQueryProperties, ...extra },
  ...(required.length ? { required } : {}),
});

export const agentParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 200, description: 'agent name (`agent_name`)' } },
};

export function parseCommon(q: CommonQuery): { range: TimeRange; filters: Filters; compare: boolean } {
  const range = parseTimeRange(q);
  const filters: Filters = {};
  if (q.department_id) filters.department_id = q.department_id;
  if (q.user_id) filters.user_id = q.user_id;
  if (q.model) filters.model_used = q.model;
  if (q.version) filters.agent_version = q.version;
  if (q.prompt_version) filters.prompt_template_version = q.prompt_version;
  if (q.status) filters.status = q.status;
  return { range, filters, compare: q.compare === 'previous_period' };
}

export const rangeView = (r: TimeRange) => ({ from: r.from.toISOString(), to: r.to.toISOString(), tz: r.tz });

/** Stated once, shown in every route's OpenAPI description (API.md asks for it). */
export const QUANTILE_NOTE =
  `Latency quantiles (${QUANTILES.map((x) => `p${x * 100}`).join(', ')}) are ClickHouse \`quantilesTDigest\` over \`execution_time_ms\` ` +
  'of successful and failed invocations alike (only those of the `status` filter when given). t-digest is approximate: ' +
  'the value returned lies within ±1% of rank of the exact quantile (e.g. a p95 between the exact p94 and p96); ' +
  'below ~2,000 invocations per group it interpolates between the two nearest observations. ' +
  'Counts, tokens, cost and active users (`uniqExact`) are exact. Buckets are the ISO start of each bucket, `to` is exclusive, weeks start on Monday.';

const num = { type: 'number' };
const numOrNull = { type: ['number', 'null'] };

/** Response schema of one metrics group. */
export const metricsProperties = {
  invocations: { type: 'integer' },
  successes: { type: 'integer' },
  failures: { type: 'integer' },
  success_rate: numOrNull,
  failure_rate: numOrNull,
  p50_ms: numOrNull,
  p75_ms: numOrNull,
  p95_ms: numOrNull,
  p99_ms: numOrNull,
  mean_ms: numOrNull,
  input_tokens: { type: 'integer' },
  output_tokens: { type: 'integer' },
  input_tokens_per_invocation: numOrNull,
  output_tokens_per_invocation: numOrNull,
  cost_usd: num,
  cost_per_invocation_usd: numOrNull,
  cost_per_success_usd: numOrNull,
  active_users: { type: ['integer', 'null'] },
  last_seen: { type: ['string', 'null'] },
} as const;

/** `measures=counts`: leave out latency percentiles and active users (answered null), most of a query's work */
export const measuresParam = { measures: { type: 'string', enum: ['all', 'counts'] satisfies Measures[], default: 'all' } } as const;

export const rangeSchema = { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' }, tz: { type: 'string' } } };

export const objectOf = (properties: Record<string, unknown>) => ({ type: 'object', properties });
export const arrayOf = (properties: Record<string, unknown>) => ({ type: 'array', items: { type: 'object', properties } });
