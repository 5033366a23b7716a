/**
 * A funnel definition as `POST /api/v1/funnels/query` takes it (API.md), checked
 * against the SDK's event catalogue and turned into SQL conditions over the
 * events table. Every rejection names the field that caused it.
 */
import { EVENT_TYPE_BY_NAME, badRequest, fieldsOf, type EventTypeSpec, type FieldSpec } from '@orrery/plugin-sdk';

export type Scalar = string | number;
export type WhereValue = Scalar | Scalar[];

export interface StepInput {
  event_type: string;
  action?: string;
  where?: Record<string, WhereValue>;
}

export interface ExclusionInput extends StepInput {
  from_step: number;
  to_step: number;
}

export type FunnelOrder = 'ordered' | 'strict' | 'unordered';

export interface FunnelInput {
  steps: StepInput[];
  from: string;
  to: string;
  window_seconds?: number;
  order?: FunnelOrder;
  step_windows_seconds?: Array<number | null>;
  count_by?: 'user' | 'session';
  breakdown?: string;
  exclusions?: ExclusionInput[];
}

export const MAX_STEPS = 20;
export const MAX_EXCLUSIONS = 10;
export const DEFAULT_WINDOW_SECONDS = 14 * 86_400;

/** A checked funnel: times in ms, conditions as SQL with their parameters. */
export interface FunnelPlan {
  steps: string[];
  exclusions: Array<{ cond: string; from: number; to: number }>;
  /** event types named by steps and exclusions (narrows the scan through the sort key) */
  types: string[];
  params: Record<string, unknown>;
  fromMs: number;
  toMs: number;
  windowMs: number;
  /** per step (index 0 unused): ms allowed since the step before, or -1 */
  stepWindowsMs: number[];
  order: FunnelOrder;
  unit: 'user' | 'session';
  breakdown: string | null;
}

const NOT_FILTERABLE = new Set(['timestamp', 'payload']);
const NUMERIC = new Set(['count', 'int', 'amount', 'number']);

const scalarSchema = { anyOf: [{ type: 'string', maxLength: 256 }, { type: 'number' }] };
const whereSchema = {
  type: 'object',
  maxProperties: 20,
  additionalProperties: { anyOf: [scalarSchema, { type: 'array', minItems: 1, maxItems: 100, items: scalarSchema }] },
  description: 'field → value (equal to) or list of values (any of); fields are the event catalogue’s',
};
const stepProperties = {
  event_type: { type: 'string', minLength: 1, maxLength: 64, description: 'an event type of the catalogue' },
  action: { type: 'string', minLength: 1, maxLength: 64, description: 'shorthand for `where.action`' },
  where: whereSchema,
};

export const funnelBodySchema = {
  type: 'object',
  required: ['steps', 'from', 'to'],
  additionalProperties: false,
  properties: {
    steps: {
      type: 'array',
      minItems: 2,
      maxItems: MAX_STEPS,
      items: { type: 'object', required: ['event_type'], additionalProperties: false, properties: stepProperties },
    },
    from: { type: 'string', format: 'date-time', description: 'attempts start (step 0) at or after this instant' },
    to: { type: 'string', format: 'date-time', description: 'attempts start before this instant (exclusive); later steps may follow within the window' },
    window_seconds: { type: 'integer', exclusiveMinimum: 0, maximum: 366 * 86_400, default: DEFAULT_WINDOW_SECONDS, description: 'conversion window, inclusive, from the step-0 event' },
    order: { type: 'string', enum: ['ordered', 'strict', 'unordered'], default: 'ordered' },
    step_windows_seconds: {
      type: 'array',
      maxItems: MAX_STEPS,
      // one type list, not anyOf: should this schema ever check coerced input (a query string,
      // core/src/http/validators.ts), an anyOf's null branch would take 0 as null (no window)
      items: { type: ['integer', 'null'], exclusiveMinimum: 0 },
      description: 'per step k ≥ 1: the most seconds (inclusive) allowed since step k − 1; null = only the conversion window. Entry 0 is ignored',
    },
    count_by: { type: 'string', enum: ['user', 'session'], default: 'user' },
    breakdown: { type: 'string', minLength: 1, maxLength: 64, description: 'a field of the step-0 event type; each attempt is attributed to the value on its step-0 event' },
    exclusions: {
      type: 'array',
      maxItems: MAX_EXCLUSIONS,
      items: {
        type: 'object',
        required: ['event_type', 'from_step', 'to_step'],
        additionalProperties: false,
        properties: { ...stepProperties, from_step: { type: 'integer', minimum: 0 }, to_step: { type: 'integer', minimum: 1 } },
      },
    },
  },
} as const;

function typeSpec(name: string, field: string): EventTypeSpec {
  const spec = EVENT_TYPE_BY_NAME.get(name);
  if (!spec) throw badRequest(`${field}: unknown event type "${name}"`, { field, known: [...EVENT_TYPE_BY_NAME.keys()] });
  return spec;
}

/** SQL for one step or exclusion: event type, action and `where` with bound parameters. */
function condition(step: StepInput, field: string, key: string, params: Record<string, unknown>): string {
  const spec = typeSpec(step.event_type, `${field}.event_type`);
  const fields = fieldsOf(spec);
  const parts = [`event_type = {${key}_t:String}`];
  params[`${key}_t`] = spec.type;
  const where: Record<string, WhereValue> = { ...(step.where ?? {}) };
  if (step.action !== undefined) {
    if (where.action !== undefined && where.action !== step.action) throw badRequest(`${field}.action: differs from ${field}.where.action`, { field: `${field}.action` });
    where.action = step.action;
  }
  let n = 0;
  for (const [name, value] of Object.entries(where)) {
    const f = `${field}.where.${name}`;
    const fs: FieldSpec | undefined = fields[name];
    if (!fs || name === 'event_type' || name === 'org_id') throw badRequest(`${f}: "${name}" is not a field of ${spec.type}`, { field: f, fields: Object.keys(fields) });
    if (NOT_FILTERABLE.has(fs.kind) || name === 'timestamp') throw badRequest(`${f}: ${name} cannot be filtered on (kind ${fs.kind})`, { field: f });
    const values = Array.isArray(value) ? value : [value];
    const numeric = NUMERIC.has(fs.kind);
    for (const v of values) {
      if (numeric ? typeof v !== 'number' : typeof v !== 'string') throw badRequest(`${f}: expected ${numeric ? 'a number' : 'a string'}, got ${JSON.stringify(v)}`, { field: f });
    }
    if (fs.kind === 'enum' && fs.values) {
      const bad = values.find((v) => !fs.values!.includes(v as string));
      if (bad !== undefined) throw badRequest(`${f}: "${bad}" is not one of ${fs.values.join(', ')}`, { field: f, allowed: fs.values });
    }
    const p = `${key}_w${n++}`;
    const chType = numeric ? 'Float64' : 'String';
    if (fs.kind === 'labels') parts.push(`hasAny(${name}, {${p}:Array(String)})`);
    else if (numeric) parts.push(`toFloat64(${name}) IN {${p}:Array(Float64)}`);
    else parts.push(`${name} IN {${p}:Array(${chType})}`);
    params[p] = values;
  }
  return `(${parts.join(' AND ')})`;
}

/** Checks a body (already shape-validated by its JSON schema) and plans it. */
export function planFunnel(body: FunnelInput): FunnelPlan {
  if (!Array.isArray(body.steps) || body.steps.length < 2 || body.steps.length > MAX_STEPS) {
    throw badRequest(`steps: a funnel has 2 to ${MAX_STEPS} steps, got ${body.steps?.length ?? 0}`, { field: 'steps' });
  }
  const from = Date.parse(body.from);
  const to = Date.parse(body.to);
  if (Number.isNaN(from)) throw badRequest(`from: "${body.from}" is not an ISO 8601 instant`, { field: 'from' });
  if (Number.isNaN(to)) throw badRequest(`to: "${body.to}" is not an ISO 8601 instant`, { field: 'to' });
  if (from >= to) throw badRequest('from must be before to', { field: 'from', from: body.from, to: body.to });
  const windowSeconds = body.window_seconds ?? DEFAULT_WINDOW_SECONDS;
  if (!(windowSeconds > 0)) throw badRequest('window_seconds must be greater than 0', { field: 'window_seconds' });
  const order = body.order ?? 'ordered';
  const params: Record<string, unknown> = {};
  const steps = body.steps.map((s, i) => condition(s, `steps[${i}]`, `s${i}`, params));

  const sw = body.step_windows_seconds ?? [];
  if (sw.length > body.steps.length) throw badRequest(`step_windows_seconds: ${sw.length} entries for ${body.steps.length} steps`, { field: 'step_windows_seconds' });
  sw.forEach((w, i) => {
    if (w !== null && w !== undefined && !(w > 0)) throw badRequest(`step_windows_seconds[${i}] must be greater than 0`, { field: `step_windows_seconds[${i}]` });
  });
  const stepWindowsMs = body.steps.map((_, k) => (k > 0 && sw[k] != null ? (sw[k] as number) * 1000 : -1));
  if (order === 'unordered' && stepWindowsMs.some((w) => w >= 0)) {
    throw badRequest('step_windows_seconds: per-step windows need an order of steps (ordered or strict)', { field: 'step_windows_seconds' });
  }

  const exclusions = (body.exclusions ?? []).map((x, j) => {
    const f = `exclusions[${j}]`;
    if (order === 'unordered') throw badRequest(`${f}: exclusions need an order of steps (ordered or strict)`, { field: 'exclusions' });
    if (!(x.from_step >= 0 && x.to_step > x.from_step && x.to_step < body.steps.length)) {
      throw badRequest(`${f}: from_step must be before to_step, both steps of the funnel (0…${body.steps.length - 1})`, { field: `${f}.to_step` });
    }
    return { cond: condition(x, f, `x${j}`, params), from: x.from_step, to: x.to_step };
  });

  let breakdown: string | null = null;
  if (body.breakdown) {
    const fields = fieldsOf(typeSpec(body.steps[0]!.event_type, 'steps[0].event_type'));
    const fs = fields[body.breakdown];
    if (!fs || NOT_FILTERABLE.has(fs.kind) || fs.kind === 'text' || fs.kind === 'labels') {
      throw badRequest(`breakdown: "${body.breakdown}" is not a field of ${body.steps[0]!.event_type} that can be broken down by`, { field: 'breakdown' });
    }
    breakdown = body.breakdown;
  }
  const types = [...new Set([...body.steps, ...(body.exclusions ?? [])].map((s) => s.event_type))];
  return {
    steps,
    exclusions,
    types,
    params,
    fromMs: from,
    toMs: to,
    windowMs: windowSeconds * 1000,
    stepWindowsMs,
    order,
    unit: body.count_by ?? 'user',
    breakdown,
  };
}
