/**
 * What an experiment is (API.md → Experiments), its JSON schema, and the checks
 * a schema cannot express: weights summing to 100, the control among the
 * variants, metrics naming real event types and fields of the catalogue.
 */
import { badRequest, EVENT_TYPE_BY_NAME, fieldsOf, ROLES, type JsonSchema } from '@orrery/plugin-sdk';
import type { Audience } from './assign.ts';

export const VARIANT_FIELDS = ['agent_version', 'prompt_template_version', 'model_used'] as const;
export type VariantField = (typeof VARIANT_FIELDS)[number];
export const METHODS = ['frequentist', 'sequential', 'bayesian'] as const;
export type Method = (typeof METHODS)[number];

/** `{field: value}` equals, `{field: [a, b]}` any of, `{field: {gte: 4}}` compares. */
export type WhereValue = string | number | boolean | Array<string | number> | { gt?: number; gte?: number; lt?: number; lte?: number; ne?: string | number };

export interface MetricDef {
  name: string;
  kind: 'proportion' | 'mean';
  /** events the metric reads; default `agent_invocation` (of the experiment's agent) */
  event_type?: string;
  /** proportion: which events count as a success */
  where?: Record<string, WhereValue>;
  /** mean: the numeric field (several are summed, e.g. input + output tokens) */
  field?: string | string[];
  /**
   * how a unit's events make its outcome. proportion: `share` of its events matching
   * (default) or `any` (1 when at least one matches: conversion); mean: `mean` of the field
   * over its events (default) or `sum`
   */
  aggregate?: 'share' | 'any' | 'mean' | 'sum';
  /** default: true for proportions, false for means (latency, cost, tokens) */
  higher_is_better?: boolean;
  /** a guardrail: a significant regression blocks "ship" */
  guardrail?: boolean;
}

export interface ExperimentDef {
  key: string;
  name: string;
  description?: string;
  agent_name?: string;
  /** a workflow under test (membership then comes from exposures) */
  workflow_id?: string;
  unit: 'user' | 'invocation';
  variant_field?: VariantField;
  variants: Array<{ key: string; weight: number }>;
  control: string;
  metrics: MetricDef[];
  method: Method;
  alpha: number;
  /** tuning constant of the mixture SPRT: total units at which decisions are usually made */
  sequential_tuning: number;
  /** no winner is called before every variant has this many units */
  min_units_per_variant: number;
  /** relative minimum detectable effect used for "time left" (0.05 = 5% of the control's value) */
  mde: number;
  power: number;
  /** CUPED with the same metric over `cuped_lookback_days` before each user's first exposure */
  cuped: boolean;
  cuped_lookback_days: number;
  start_at: string;
  end_at?: string | null;
  /** departments and/or roles (the directory's) the experiment is for; absent: everyone */
  audience?: Audience;
}

export const DEFAULTS = {
  method: 'frequentist' as Method,
  alpha: 0.05,
  sequential_tuning: 5000,
  min_units_per_variant: 100,
  mde: 0.05,
  power: 0.8,
  cuped: false,
  cuped_lookback_days: 14,
};

const keyString = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$' };
const whereSchema = {
  type: 'object',
  description: 'field → value (equals), list (any of) or `{gt|gte|lt|lte|ne: value}`; fields of the event type',
  additionalProperties: {
    anyOf: [
      { type: 'string' },
      { type: 'number' },
      { type: 'boolean' },
      { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'number' }] }, minItems: 1, maxItems: 100 },
      {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: { gt: { type: 'number' }, gte: { type: 'number' }, lt: { type: 'number' }, lte: { type: 'number' }, ne: { anyOf: [{ type: 'string' }, { type: 'number' }] } },
      },
    ],
  },
};

export const metricSchema: JsonSchema = {
  type: 'object',
  required: ['name', 'kind'],
  additionalProperties: false,
  properties: {
    name: { ...keyString, description: 'unique within the experiment; `?metric=` names it' },
    kind: { type: 'string', enum: ['proportion', 'mean'] },
    event_type: { type: 'string', description: 'event type read (default agent_invocation)' },
    where: whereSchema,
    field: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 5 }] },
    aggregate: { type: 'string', enum: ['share', 'any', 'mean', 'sum'] },
    higher_is_better: { type: 'boolean' },
    guardrail: { type: 'boolean' },
  },
};

const isoDate = { type: 'string', format: 'date-time' };

export const experimentProperties = {
  key: { ...keyString, description: 'unique per org; the assignment hash and the URLs use it' },
  name: { type: 'string', minLength: 1, maxLength: 200 },
  description: { type: 'string', maxLength: 2000 },
  agent_name: { type: 'string', minLength: 1, maxLength: 256 },
  workflow_id: { type: 'string', minLength: 1, maxLength: 256 },
  unit: { type: 'string', enum: ['user', 'invocation'] },
  variant_field: { type: 'string', enum: [...VARIANT_FIELDS] },
  variants: {
    type: 'array',
    minItems: 2,
    maxItems: 10,
    items: { type: 'object', required: ['key', 'weight'], additionalProperties: false, properties: { key: { type: 'string', minLength: 1, maxLength: 256 }, weight: { type: 'number', exclusiveMinimum: 0, maximum: 100 } } },
  },
  control: { type: 'string', minLength: 1, maxLength: 256 },
  metrics: { type: 'array', minItems: 1, maxItems: 20, items: metricSchema },
  method: { type: 'string', enum: [...METHODS], default: DEFAULTS.method },
  alpha: { type: 'number', exclusiveMinimum: 0, maximum: 0.5, default: DEFAULTS.alpha },
  sequential_tuning: { type: 'number', minimum: 10, maximum: 1e9, default: DEFAULTS.sequential_tuning },
  min_units_per_variant: { type: 'integer', minimum: 2, maximum: 1e8, default: DEFAULTS.min_units_per_variant },
  mde: { type: 'number', exclusiveMinimum: 0, maximum: 10, default: DEFAULTS.mde },
  power: { type: 'number', minimum: 0.5, maximum: 0.999, default: DEFAULTS.power },
  cuped: { type: 'boolean', default: DEFAULTS.cuped },
  cuped_lookback_days: { type: 'integer', minimum: 1, maximum: 90, default: DEFAULTS.cuped_lookback_days },
  start_at: isoDate,
  end_at: { type: ['string', 'null'], format: 'date-time' },
  audience: {
    type: 'object',
    additionalProperties: false,
    description: 'only units whose user is in one of these departments and has one of these roles (the directory’s, now); either left out does not narrow',
    properties: {
      departments: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 128 }, maxItems: 200, uniqueItems: true, description: 'department ids' },
      roles: { type: 'array', items: { type: 'string', enum: [...ROLES] }, maxItems: 3, uniqueItems: true },
    },
  },
} as const;

export const createBodySchema: JsonSchema = {
  type: 'object',
  required: ['key', 'name', 'unit', 'variants', 'control', 'metrics', 'start_at'],
  additionalProperties: false,
  properties: experimentProperties,
};

/** PUT: everything but the key (the assignment of every unit depends on it) */
const { key: _key, ...updatable } = experimentProperties;
export const updateBodySchema: JsonSchema = {
  type: 'object',
  required: ['name', 'unit', 'variants', 'control', 'metrics', 'start_at'],
  additionalProperties: false,
  properties: updatable,
};

const NUMERIC_KINDS = new Set(['count', 'int', 'amount', 'number']);

/** The checks beyond the schema; throws a 400 naming the field. */
export function validateExperiment(input: Omit<ExperimentDef, keyof typeof DEFAULTS> & Partial<ExperimentDef>): ExperimentDef {
  const def: ExperimentDef = { ...DEFAULTS, ...input } as ExperimentDef;
  // GET /experiments/audience-options is a route of its own
  if (def.key === 'audience-options') throw badRequest('"audience-options" is reserved', { field: 'key' });
  const keys = def.variants.map((v) => v.key);
  if (new Set(keys).size !== keys.length) throw badRequest('variant keys must be unique', { field: 'variants', keys });
  const total = def.variants.reduce((a, v) => a + v.weight, 0);
  if (Math.abs(total - 100) > 1e-9) throw badRequest(`variant weights must sum to 100, got ${total}`, { field: 'variants', sum: total });
  if (!keys.includes(def.control)) throw badRequest(`control "${def.control}" is not among the variants (${keys.join(', ')})`, { field: 'control', variants: keys });
  if (def.variant_field && !def.agent_name) throw badRequest('variant_field reads invocations of one agent: agent_name is required with it', { field: 'agent_name' });
  if (Number.isNaN(Date.parse(def.start_at))) throw badRequest(`start_at must be an ISO 8601 instant, got "${def.start_at}"`, { field: 'start_at' });
  if (def.end_at != null && !(Date.parse(def.end_at) > Date.parse(def.start_at))) throw badRequest('end_at must be after start_at', { field: 'end_at' });
  if (def.cuped && def.unit !== 'user') throw badRequest('CUPED needs a pre-exposure period: only with unit "user"', { field: 'cuped' });
  const names = new Set<string>();
  def.metrics.forEach((m, i) => {
    const at = `metrics[${i}]`;
    if (names.has(m.name)) throw badRequest(`metric name "${m.name}" is used twice`, { field: `${at}.name` });
    names.add(m.name);
    const type = m.event_type ?? 'agent_invocation';
    const spec = EVENT_TYPE_BY_NAME.get(type);
    if (!spec) throw badRequest(`unknown event type "${type}"`, { field: `${at}.event_type` });
    if (def.unit === 'invocation' && !('invocation_id' in fieldsOf(spec))) {
      throw badRequest(`with unit "invocation" a metric reads events that carry invocation_id; ${type} does not`, { field: `${at}.event_type` });
    }
    const fields = fieldsOf(spec);
    for (const [f, value] of Object.entries(m.where ?? {})) {
      const fs = fields[f];
      if (!fs) throw badRequest(`unknown field "${f}" of ${type}`, { field: `${at}.where.${f}` });
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        const numericOps = ['gt', 'gte', 'lt', 'lte'].filter((op) => op in value);
        if (numericOps.length && !NUMERIC_KINDS.has(fs.kind)) throw badRequest(`"${f}" is not numeric: ${numericOps.join(', ')} do not apply`, { field: `${at}.where.${f}` });
      }
    }
    if (m.kind === 'proportion') {
      if (!m.where || Object.keys(m.where).length === 0) throw badRequest('a proportion metric needs `where`: which events count as a success', { field: `${at}.where` });
      if (m.field !== undefined) throw badRequest('`field` is for mean metrics', { field: `${at}.field` });
      if (m.aggregate && !['share', 'any'].includes(m.aggregate)) throw badRequest('a proportion aggregates as share or any', { field: `${at}.aggregate` });
    } else {
      const list = m.field === undefined ? [] : Array.isArray(m.field) ? m.field : [m.field];
      if (list.length === 0) throw badRequest('a mean metric needs `field`: the numeric field averaged', { field: `${at}.field` });
      for (const f of list) {
        const fs = fields[f];
        if (!fs) throw badRequest(`unknown field "${f}" of ${type}`, { field: `${at}.field` });
        if (!NUMERIC_KINDS.has(fs.kind)) throw badRequest(`"${f}" of ${type} is not numeric`, { field: `${at}.field` });
      }
      if (m.aggregate && !['mean', 'sum'].includes(m.aggregate)) throw badRequest('a mean aggregates as mean or sum', { field: `${at}.aggregate` });
    }
  });
  return def;
}

export const higherIsBetter = (m: MetricDef) => m.higher_is_better ?? m.kind === 'proportion';
export const aggregateOf = (m: MetricDef) => m.aggregate ?? (m.kind === 'proportion' ? 'share' : 'mean');
