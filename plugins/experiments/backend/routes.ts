/**
 * The routes under /api/v1/experiments (API.md → Experiments, plus list, read,
 * update, stop, exposures from offline clients and the power calculator).
 */
import { badRequest, ROLES, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { assignVariant, inAudience } from './assign.ts';
import { audienceUsers, checkAudience, hasAudience, peopleOf, userInAudience } from './audience.ts';
import { createBodySchema, experimentProperties, updateBodySchema, validateExperiment, type ExperimentDef } from './definition.ts';
import { analyseMetric, guardrailsOf, recommend, srmOf } from './results.ts';
import { EXPOSURES_TABLE, variantSums } from './sql.ts';
import { powerPlan } from './stats/tests.ts';
import { createExperiment, getExperiment, listExperiments, stopExperiment, updateExperiment, type StoredExperiment } from './store.ts';

export const READ = 'experiments.read';
export const WRITE = 'experiments.write';
export const ASSIGN = 'experiments.assign';
import { TOPIC } from '../widgets.ts';

/** ClickHouse's DateTime64(3) text form, in UTC */
const chTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

const num = { type: 'number' };
const numOrNull = { type: ['number', 'null'] };
const str = { type: 'string' };
const keyParams = { type: 'object', required: ['key'], properties: { key: { type: 'string', minLength: 1, maxLength: 100 } } };

/** the definition as answered: `where` is free-form here (validated on the way in) */
const definitionView = {
  type: 'object',
  properties: {
    ...experimentProperties,
    metrics: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: str,
          kind: str,
          event_type: str,
          where: { type: 'object', additionalProperties: true },
          field: { anyOf: [str, { type: 'array', items: str }] },
          aggregate: str,
          higher_is_better: { type: 'boolean' },
          guardrail: { type: 'boolean' },
        },
      },
    },
  },
};
const experimentView = {
  type: 'object',
  properties: {
    id: str,
    key: str,
    status: { type: 'string', enum: ['running', 'stopped'] },
    created_at: str,
    updated_at: str,
    stopped_at: { type: ['string', 'null'] },
    definition: definitionView,
  },
};
const view = (e: StoredExperiment) => ({ id: e.id, key: e.definition.key, status: e.status, created_at: e.created_at, updated_at: e.updated_at, stopped_at: e.stopped_at, definition: e.definition });

const resultsSchema = {
  type: 'object',
  properties: {
    experiment: { type: 'object', properties: { key: str, name: str, status: str, method: str, alpha: num, unit: str, start_at: str, end_at: { type: ['string', 'null'] }, control: str } },
    metric: { type: 'object', properties: { name: str, kind: str, higher_is_better: { type: 'boolean' }, guardrail: { type: 'boolean' } } },
    srm: { type: 'object', properties: { p_value: num, mismatch: { type: 'boolean' }, chi_square: num, expected: { type: 'array', items: num } } },
    excluded_units: { type: 'integer', description: 'units seen in more than one variant, left out of every figure' },
    variants: {
      type: 'array',
      items: { type: 'object', properties: { key: str, units: { type: 'integer' }, assigned: { type: 'integer' }, value: numOrNull, ci_low: numOrNull, ci_high: numOrNull } },
    },
    comparisons: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          variant: str,
          control: str,
          absolute_difference: num,
          relative_lift: numOrNull,
          ci_low: numOrNull,
          ci_high: numOrNull,
          p_value: numOrNull,
          p_value_adjusted: numOrNull,
          significant: { type: 'boolean' },
          chance_to_beat_control: numOrNull,
          expected_loss: numOrNull,
          credible_low: numOrNull,
          credible_high: numOrNull,
        },
      },
    },
    sequential: { type: 'array', items: { type: 'object', properties: { variant: str, p_value: numOrNull, ci_low: numOrNull, ci_high: numOrNull } } },
    guardrails: { type: 'array', items: { type: 'object', properties: { metric: str, variant: str, absolute_difference: num, p_value: numOrNull, regression: { type: 'boolean' } } } },
    cuped: { type: ['object', 'null'], properties: { theta: num, variance_reduction: num } },
    recommendation: {
      type: 'object',
      properties: { decision: { type: 'string', enum: ['ship', 'keep_control', 'keep_running', 'inconclusive'] }, text: str, variant: str, expected_days_left: numOrNull, units_needed_per_variant: numOrNull },
    },
  },
};

/** the analysis window: from start_at to the end (end_at, or when it was stopped) */
function windowOf(e: StoredExperiment) {
  const ends = [e.definition.end_at ? Date.parse(e.definition.end_at) : Infinity, e.stopped_at ? Date.parse(e.stopped_at) : Infinity];
  const end = Math.min(...ends);
  return { startMs: Date.parse(e.definition.start_at), endMs: Number.isFinite(end) ? end : Date.parse('2200-01-01T00:00:00Z') };
}

export async function computeResults(ctx: TenantContext, e: StoredExperiment, metricName: string | undefined, nowMs = Date.now()) {
  const def = e.definition;
  const metric = metricName === undefined ? (def.metrics.find((m) => !m.guardrail) ?? def.metrics[0]!) : def.metrics.find((m) => m.name === metricName);
  if (!metric) throw badRequest(`unknown metric "${metricName}"; the experiment has ${def.metrics.map((m) => m.name).join(', ')}`, { field: 'metric', metrics: def.metrics.map((m) => m.name) });
  const win = windowOf(e);
  const guards = def.metrics.filter((m) => m.guardrail && m.name !== metric.name);
  const audience = await audienceUsers(ctx.directory, def.audience);
  const sums = await variantSums(ctx.analytics, def, [metric, ...guards], win, audience);
  const analysis = analyseMetric(def, metric, sums.get(metric.name)!);
  const srm = srmOf(def, analysis);
  const guardrails = guards.flatMap((g) => guardrailsOf(g, analyseMetric(def, g, sums.get(g.name)!)));
  const recommendation = recommend({ def, metric, analysis, srm, guardrails, stopped: e.status === 'stopped', nowMs });
  return {
    experiment: { key: def.key, name: def.name, status: e.status, method: def.method, alpha: def.alpha, unit: def.unit, start_at: def.start_at, end_at: def.end_at ?? null, control: def.control },
    metric: { name: metric.name, kind: metric.kind, higher_is_better: metric.higher_is_better ?? metric.kind === 'proportion', guardrail: metric.guardrail ?? false },
    srm,
    excluded_units: analysis.excluded,
    variants: analysis.variants,
    comparisons: analysis.comparisons,
    ...(def.method === 'sequential' ? { sequential: analysis.sequential } : {}),
    guardrails,
    cuped: analysis.cuped,
    recommendation,
  };
}

export function registerRoutes(env: PluginEnv): void {
  env.route<unknown, unknown, ExperimentDef>({
    method: 'POST',
    path: '/',
    permission: WRITE,
    summary: 'Create an experiment',
    description:
      'Variants with weights summing to 100 and a control among them; metrics are proportions (`where`) or means (`field`) of a catalogue event type. ' +
      'Membership from `variant_field` on `agent_name`’s invocations at or after `start_at`, or from exposures recorded by the assignment route.',
    schema: { body: createBodySchema, response: { 200: { type: 'object', properties: { id: str, key: str } } } },
    async handler(req, ctx) {
      const def = validateExperiment(req.body);
      await checkAudience(ctx.directory, def.audience);
      const created = await createExperiment(ctx, def);
      await ctx.audit({ action: 'experiments.create', target: def.key, after: def });
      await ctx.bus.publish(TOPIC, { key: def.key, change: 'created' });
      return { id: created.id, key: def.key };
    },
  });

  env.route<{ status?: 'running' | 'stopped' }>({
    method: 'GET',
    path: '/',
    permission: READ,
    summary: 'List the experiments',
    schema: {
      querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: ['running', 'stopped'] } } },
      response: { 200: { type: 'object', properties: { experiments: { type: 'array', items: experimentView } } } },
    },
    async handler(req, ctx) {
      return { experiments: (await listExperiments(ctx, req.query.status)).map(view) };
    },
  });

  env.route<{ mde: number; baseline: number; kind: 'proportion' | 'mean'; standard_deviation?: number; alpha: number; power: number; weights?: number[]; units_per_day?: number }>({
    method: 'POST',
    path: '/power',
    permission: READ,
    summary: 'Power calculator: minimum detectable effect → units per variant → days at a given traffic',
    description: 'Two-sided Welch test; `mde` is relative to `baseline` (0.05 = 5%). A proportion’s variance is p(1 − p) at baseline and at baseline × (1 + mde); a mean needs `standard_deviation`.',
    schema: {
      body: {
        type: 'object',
        required: ['baseline', 'mde', 'kind'],
        additionalProperties: false,
        properties: {
          kind: { type: 'string', enum: ['proportion', 'mean'] },
          baseline: num,
          mde: { type: 'number', exclusiveMinimum: 0 },
          standard_deviation: { type: 'number', exclusiveMinimum: 0 },
          alpha: { type: 'number', exclusiveMinimum: 0, maximum: 0.5, default: 0.05 },
          power: { type: 'number', minimum: 0.5, maximum: 0.999, default: 0.8 },
          weights: { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 2, maxItems: 10 },
          units_per_day: { type: 'number', exclusiveMinimum: 0 },
        },
      },
      response: { 200: { type: 'object', properties: { units_per_variant: num, total_units: num, days: numOrNull, absolute_mde: num } } },
    },
    async handler(req) {
      const b = req.body;
      const mde = b.mde * Math.abs(b.baseline);
      if (!(mde > 0)) throw badRequest('baseline must not be 0: the effect is relative to it', { field: 'baseline' });
      let vc: number;
      let vt: number;
      if (b.kind === 'proportion') {
        if (!(b.baseline > 0 && b.baseline < 1)) throw badRequest('a proportion baseline lies in (0, 1)', { field: 'baseline' });
        const pt = Math.min(1, b.baseline + mde);
        vc = b.baseline * (1 - b.baseline);
        vt = pt * (1 - pt);
      } else {
        if (b.standard_deviation === undefined) throw badRequest('a mean needs standard_deviation', { field: 'standard_deviation' });
        vc = vt = b.standard_deviation ** 2;
      }
      const plan = powerPlan({ varianceControl: vc, varianceTreatment: vt, mde, alpha: b.alpha, power: b.power, weights: b.weights ?? [50, 50], unitsPerDay: b.units_per_day ?? null });
      return { ...plan, absolute_mde: mde };
    },
  });

  env.route({
    method: 'GET',
    path: '/audience-options',
    permission: READ,
    summary: 'What an audience can name: the org’s departments (id, name) and the roles',
    schema: {
      response: {
        200: {
          type: 'object',
          properties: { departments: { type: 'array', items: { type: 'object', properties: { id: str, name: str } } }, roles: { type: 'array', items: str } },
        },
      },
    },
    async handler(_req, ctx) {
      return { departments: (await ctx.directory.departments()).map((d) => ({ id: d.id, name: d.name })), roles: [...ROLES] };
    },
  });

  env.route<unknown, { key: string }>({
    method: 'GET',
    path: '/:key',
    permission: READ,
    summary: 'One experiment',
    schema: { params: keyParams, response: { 200: experimentView } },
    async handler(req, ctx) {
      return view(await getExperiment(ctx, req.params.key));
    },
  });

  env.route<unknown, { key: string }, Omit<ExperimentDef, 'key'>>({
    method: 'PUT',
    path: '/:key',
    permission: WRITE,
    summary: 'Replace an experiment’s definition (the key stays)',
    schema: { params: keyParams, body: updateBodySchema, response: { 200: experimentView } },
    async handler(req, ctx) {
      const before = await getExperiment(ctx, req.params.key);
      const def = validateExperiment({ ...req.body, key: req.params.key });
      await checkAudience(ctx.directory, def.audience);
      const after = await updateExperiment(ctx, req.params.key, def);
      await ctx.audit({ action: 'experiments.update', target: def.key, before: before.definition, after: def });
      await ctx.bus.publish(TOPIC, { key: def.key, change: 'updated' });
      return view(after);
    },
  });

  env.route<unknown, { key: string }>({
    method: 'POST',
    path: '/:key/stop',
    permission: WRITE,
    summary: 'Stop an experiment: results then cover start_at up to now, and assignment records no more exposures',
    schema: { params: keyParams, response: { 200: experimentView } },
    async handler(req, ctx) {
      const stopped = await stopExperiment(ctx, req.params.key);
      await ctx.audit({ action: 'experiments.stop', target: req.params.key });
      await ctx.bus.publish(TOPIC, { key: req.params.key, change: 'stopped' });
      return view(stopped);
    },
  });

  env.route<{ unit_id: string; record?: boolean; user_id?: string; department_id?: string }, { key: string }>({
    method: 'GET',
    path: '/:key/assignment',
    permission: ASSIGN,
    summary: 'The variant of a unit: deterministic for a key and unit, weighted, sticky',
    description:
      'SHA-256 of "<key>/<unit_id>", first 52 bits as a fraction of [0, 1), variants take consecutive slices sized by their weights (in declaration order). ' +
      'While the experiment runs the call records an exposure (unless `record=false`); clients that assign offline send theirs to `POST /{key}/exposures`.',
    schema: {
      params: keyParams,
      querystring: {
        type: 'object',
        required: ['unit_id'],
        additionalProperties: false,
        properties: {
          unit_id: { type: 'string', minLength: 1, maxLength: 256 },
          record: { type: 'boolean', default: true },
          user_id: { type: 'string', maxLength: 128, description: 'the user behind the unit (unit `invocation`)' },
          department_id: { type: 'string', maxLength: 128 },
        },
      },
      response: { 200: { type: 'object', properties: { variant: { type: ['string', 'null'] }, experiment: str, recorded: { type: 'boolean' }, in_audience: { type: 'boolean' } } } },
    },
    async handler(req, ctx) {
      const e = await getExperiment(ctx, req.params.key);
      const def = e.definition;
      if (hasAudience(def.audience)) {
        // the audience is of people: with unit `invocation` the caller names the user behind it
        const user = def.unit === 'user' ? req.query.unit_id : req.query.user_id;
        if (!user) throw badRequest('the experiment has an audience (departments or roles): user_id names the user behind the invocation', { field: 'user_id' });
        if (!(await userInAudience(ctx.directory, def.audience, user))) return { variant: null, experiment: def.key, recorded: false, in_audience: false };
      }
      const variant = assignVariant(def.key, req.query.unit_id, def.variants);
      const record = req.query.record !== false && e.status === 'running';
      if (record) {
        await ctx.analytics.insert(EXPOSURES_TABLE, [
          {
            experiment_key: e.definition.key,
            unit_id: req.query.unit_id,
            variant,
            timestamp: chTime(Date.now()),
            user_id: req.query.user_id ?? (e.definition.unit === 'user' ? req.query.unit_id : ''),
            department_id: req.query.department_id ?? '',
            source: 'api',
          },
        ]);
      }
      return { variant, experiment: e.definition.key, recorded: record, in_audience: true };
    },
  });

  env.route<unknown, { key: string }, { exposures: Array<{ unit_id: string; variant: string; timestamp: string; user_id?: string; department_id?: string }> }>({
    method: 'POST',
    path: '/:key/exposures',
    permission: ASSIGN,
    summary: 'Exposures assigned offline by a client (same hashing), up to 10,000 per call',
    schema: {
      params: keyParams,
      body: {
        type: 'object',
        required: ['exposures'],
        additionalProperties: false,
        properties: {
          exposures: {
            type: 'array',
            minItems: 1,
            maxItems: 10_000,
            items: {
              type: 'object',
              required: ['unit_id', 'variant', 'timestamp'],
              additionalProperties: false,
              properties: {
                unit_id: { type: 'string', minLength: 1, maxLength: 256 },
                variant: { type: 'string', minLength: 1, maxLength: 256 },
                timestamp: { type: 'string', format: 'date-time' },
                user_id: { type: 'string', maxLength: 128 },
                department_id: { type: 'string', maxLength: 128 },
              },
            },
          },
        },
      },
      response: { 200: { type: 'object', properties: { accepted: { type: 'integer' }, outside_audience: { type: 'integer', description: 'exposures of users outside the audience, not stored' } } } },
    },
    async handler(req, ctx) {
      const e = await getExperiment(ctx, req.params.key);
      const known = new Set(e.definition.variants.map((v) => v.key));
      const userOf = (x: { unit_id: string; user_id?: string }) => x.user_id ?? (e.definition.unit === 'user' ? x.unit_id : '');
      // the same rule as an offline client's (assign.ts inAudience), with the directory's people
      let keep = (_x: { unit_id: string; user_id?: string }) => true;
      const audience = e.definition.audience;
      if (hasAudience(audience)) {
        const ids = [...new Set(req.body.exposures.map(userOf).filter(Boolean))];
        const inside = new Set((await peopleOf(ctx.directory, audience, ids)).filter((p) => inAudience(audience, p)).map((p) => p.id));
        keep = (x) => inside.has(userOf(x));
      }
      req.body.exposures.forEach((x, i) => {
        if (!known.has(x.variant)) throw badRequest(`exposure ${i}: variant "${x.variant}" is not one of ${[...known].join(', ')}`, { field: `exposures[${i}].variant` });
      });
      const rows = req.body.exposures.filter((x) => keep(x)).map((x) => {
        return {
          experiment_key: e.definition.key,
          unit_id: x.unit_id,
          variant: x.variant,
          timestamp: chTime(Date.parse(x.timestamp)),
          user_id: userOf(x),
          department_id: x.department_id ?? '',
          source: 'client',
        };
      });
      if (rows.length) await ctx.analytics.insert(EXPOSURES_TABLE, rows);
      return { accepted: rows.length, outside_audience: req.body.exposures.length - rows.length };
    },
  });

  env.route<{ metric?: string }, { key: string }>({
    method: 'GET',
    path: '/:key/results',
    permission: READ,
    summary: 'Results of one metric: SRM, per-variant values, comparisons, sequential, guardrails and a recommendation',
    description:
      '`p_value` is two-sided, of the difference of the means with the unpooled standard error (Welch’s t-test; a proportion is the mean of 0/1 outcomes); ' +
      '`ci_low`/`ci_high` of a comparison bound the absolute difference at 1 − alpha; `p_value_adjusted` is Holm’s over the treatments. `sequential` (method sequential) ' +
      'is the mixture SPRT with the experiment’s tuning constant (5000 by default): always-valid p-values (Holm-adjusted) and confidence sequences. Bayesian fields use a ' +
      'normal posterior of the difference with a flat prior. SRM: chi-square of assigned units per variant against the weights, `mismatch` when p < 0.001. ' +
      'Units seen in more than one variant are left out and counted in `excluded_units`.',
    schema: {
      params: keyParams,
      querystring: { type: 'object', additionalProperties: false, properties: { metric: { type: 'string', minLength: 1, maxLength: 100 } } },
      response: { 200: resultsSchema },
    },
    async handler(req, ctx) {
      return computeResults(ctx, await getExperiment(ctx, req.params.key), req.query.metric);
    },
  });
}
