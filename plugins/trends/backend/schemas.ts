/** JSON schemas of the routes' bodies and answers (fastify validates them and the OpenAPI document shows them). */
import { metricsQueryDefinitionSchema } from '@orrery/plugin-sdk';

const num = { type: 'number' } as const;
const numOrNull = { type: ['number', 'null'] } as const;

/** A metrics query with its range, as API.md → "Metrics" takes it; granularity and the group are checked by the route. */
export const seriesQuerySchema = {
  ...metricsQueryDefinitionSchema,
  description:
    'A metrics query (API.md → "Metrics") with `from`, `to` and a `granularity`; `group_by` names at most one field. ' +
    'With a group, the top-level answer is for the first group the query answers and `groups` holds every group (at most 20).',
  properties: {
    ...metricsQueryDefinitionSchema.properties,
    from: { type: 'string', format: 'date-time', description: 'ISO instant, inclusive' },
    to: { type: 'string', format: 'date-time', description: 'ISO instant, exclusive' },
  },
} as const;

const groupProp = { type: 'object', additionalProperties: { type: 'string' }, description: 'the group of the top-level answer ({} without group_by)' } as const;

export const smoothBody = {
  type: 'object',
  additionalProperties: false,
  required: ['query', 'method', 'window'],
  properties: {
    query: seriesQuerySchema,
    method: { type: 'string', enum: ['sma', 'ema', 'wma'] },
    window: { type: 'integer', minimum: 1, maximum: 1000, description: 'values per window (EMA: α = 2/(window+1))' },
  },
} as const;

const smoothedPoints = {
  type: 'array',
  items: { type: 'object', required: ['bucket', 'value', 'smoothed'], properties: { bucket: { type: 'string' }, value: numOrNull, smoothed: numOrNull } },
} as const;

export const smoothAnswer = {
  type: 'object',
  required: ['points'],
  properties: {
    points: smoothedPoints,
    group: groupProp,
    groups: { type: 'array', items: { type: 'object', required: ['group', 'points'], properties: { group: groupProp, points: smoothedPoints } } },
  },
} as const;

export const forecastBody = {
  type: 'object',
  additionalProperties: false,
  required: ['query', 'horizon'],
  properties: {
    query: seriesQuerySchema,
    horizon: { type: 'integer', minimum: 1, maximum: 1000, description: 'buckets to forecast past the end of the range' },
    interval: { type: 'number', minimum: 0.5, maximum: 0.999, default: 0.95, description: 'coverage of the prediction interval' },
  },
} as const;

const forecastCore = {
  history: { type: 'array', items: { type: 'object', required: ['bucket', 'value'], properties: { bucket: { type: 'string' }, value: numOrNull } } },
  forecast: {
    type: 'array',
    items: { type: 'object', required: ['bucket', 'value', 'lower', 'upper'], properties: { bucket: { type: 'string' }, value: num, lower: num, upper: num } },
  },
  model: { type: 'string', description: 'holt_winters_additive | holt_linear | seasonal_naive | mean | none (no values)' },
  seasonality: { type: 'object', required: ['period', 'strength'], properties: { period: { type: ['integer', 'null'] }, strength: num } },
  backtest: {
    type: 'object',
    required: ['mape', 'baseline', 'baseline_mape'],
    properties: { mape: numOrNull, baseline: { type: 'string', enum: ['seasonal_naive'] }, baseline_mape: numOrNull },
  },
} as const;

export const forecastAnswer = {
  type: 'object',
  required: ['history', 'forecast', 'model', 'seasonality', 'backtest'],
  properties: {
    ...forecastCore,
    group: groupProp,
    groups: { type: 'array', items: { type: 'object', required: ['group', ...Object.keys(forecastCore)], properties: { group: groupProp, ...forecastCore } } },
  },
} as const;

export const anomaliesBody = {
  type: 'object',
  additionalProperties: false,
  required: ['query'],
  properties: {
    query: seriesQuerySchema,
    sensitivity: { type: 'number', minimum: 0.5, maximum: 20, default: 3, description: 'robust z-score beyond which a bucket is an anomaly' },
  },
} as const;

const anomalyPoints = {
  type: 'array',
  items: {
    type: 'object',
    required: ['bucket', 'value', 'expected', 'lower', 'upper', 'anomaly', 'score'],
    properties: { bucket: { type: 'string' }, value: numOrNull, expected: numOrNull, lower: numOrNull, upper: numOrNull, anomaly: { type: 'boolean' }, score: numOrNull },
  },
} as const;

export const anomaliesAnswer = {
  type: 'object',
  required: ['points'],
  properties: {
    points: anomalyPoints,
    group: groupProp,
    groups: { type: 'array', items: { type: 'object', required: ['group', 'points'], properties: { group: groupProp, points: anomalyPoints } } },
  },
} as const;

export const agentAnomaliesBody = {
  type: 'object',
  additionalProperties: false,
  required: ['from', 'to'],
  properties: {
    from: { type: 'string', format: 'date-time', description: 'ISO instant, inclusive' },
    to: { type: 'string', format: 'date-time', description: 'ISO instant, exclusive' },
    department_id: { type: 'string', minLength: 1, maxLength: 128 },
    seed: { type: 'integer', minimum: 0, maximum: 4294967295, default: 42, description: 'the same data and seed give the same scores' },
    trees: { type: 'integer', minimum: 10, maximum: 1000, default: 200 },
    threshold: { type: 'number', minimum: 0.5, maximum: 1, default: 0.6, description: 'score at or above which an agent is an anomaly' },
    min_invocations: { type: 'integer', minimum: 1, maximum: 1000000, default: 5, description: 'agents with fewer invocations in the range are left out' },
  },
} as const;

export const agentAnomaliesAnswer = {
  type: 'object',
  required: ['agents', 'seed', 'trees', 'threshold'],
  properties: {
    agents: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'invocations', 'latency_ms', 'error_rate', 'cost_per_call', 'score', 'anomaly', 'deviations'],
        properties: {
          name: { type: 'string' },
          invocations: num,
          latency_ms: num,
          error_rate: num,
          cost_per_call: num,
          score: numOrNull,
          anomaly: { type: 'boolean' },
          deviations: {
            type: 'object',
            description: "robust z-score of each feature against the agents' median (which one makes the agent stand out)",
            properties: { latency_ms: num, error_rate: num, cost_per_call: num },
          },
        },
      },
    },
    seed: { type: 'integer' },
    trees: { type: 'integer' },
    threshold: num,
    note: { type: 'string' },
  },
} as const;

const windowValue = { type: 'object', required: ['from', 'to', 'value'], properties: { from: { type: 'string' }, to: { type: 'string' }, value: numOrNull } } as const;

export const growthBody = {
  type: 'object',
  additionalProperties: false,
  required: ['query'],
  properties: {
    query: {
      ...metricsQueryDefinitionSchema,
      description: 'A metrics query without a range or group; `to` (default now) is where the windows end.',
      properties: { ...metricsQueryDefinitionSchema.properties, to: { type: 'string', format: 'date-time', description: 'ISO instant, exclusive' } },
    },
  },
} as const;

export const growthAnswer = {
  type: 'object',
  required: ['at', 'rates'],
  properties: {
    at: { type: 'string' },
    rates: {
      type: 'array',
      items: {
        type: 'object',
        required: ['period', 'current', 'previous', 'change_pct'],
        properties: { period: { type: 'string', enum: ['day', 'week', 'month'] }, current: windowValue, previous: windowValue, change_pct: numOrNull },
      },
    },
  },
} as const;

export const compareBody = {
  type: 'object',
  additionalProperties: false,
  required: ['query'],
  properties: {
    query: seriesQuerySchema,
    compare: {
      anyOf: [
        { type: 'string', enum: ['previous_period', 'previous_year'] },
        {
          type: 'object',
          additionalProperties: false,
          required: ['from', 'to'],
          properties: { from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' } },
        },
      ],
    },
  },
} as const;

export const compareAnswer = {
  type: 'object',
  required: ['current', 'previous', 'change', 'change_pct', 'points'],
  properties: {
    current: windowValue,
    previous: windowValue,
    change: numOrNull,
    change_pct: numOrNull,
    points: {
      type: 'array',
      items: {
        type: 'object',
        required: ['bucket', 'value', 'previous_bucket', 'previous_value', 'change_pct'],
        properties: { bucket: { type: 'string' }, value: numOrNull, previous_bucket: { type: ['string', 'null'] }, previous_value: numOrNull, change_pct: numOrNull },
      },
    },
  },
} as const;
