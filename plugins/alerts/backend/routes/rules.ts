/** Alert rules: CRUD, pause, the rule with its state and instances, acknowledgement, preview. */
import { randomUUID } from 'node:crypto';
import { HttpError, alertTemplatesRef, badRequest, metricsQueryDefinitionSchema as metricsQuerySchema, metricsQueryRef, notFound, type MetricsQueryDefinition as MetricsQuery, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { breaches, conditionProblem, type AlertState, type Condition } from '../stateMachine.ts';
import { observe, trendsService } from '../engine.ts';
import { publishPlatformEvent } from '../platformEvents.ts';
import { idAnswer, idParams, labelsSchema, listOf, okAnswer, open, iso } from '../schemas.ts';
import { READ, WRITE } from '../permissions.ts';
import { buildTemplate, TEMPLATES, type RuleTemplate } from '../templates.ts';
import { signalSourceSchema, type SignalSource } from '../signals.ts';
import { ANOMALY_GRANULARITIES, CONDITION_KINDS, bandCondition, kindProblem } from '../conditions.ts';

export const MIN_INTERVAL_SECONDS = 10;

const seriesAnswer = open({
  series: {
    type: 'array',
    items: open({ group: open(), total: { type: ['number', 'null'] }, points: { type: 'array', items: open({ bucket: { type: 'string' }, value: { type: ['number', 'null'] } }) } }),
  },
});

const conditionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['op'],
  properties: {
    kind: {
      type: 'string',
      enum: CONDITION_KINDS,
      description:
        'threshold (default): the value; change: the value minus the previous window\'s; change_percent: that change in % of the previous window\'s; ' +
        'anomaly: the last complete bucket against the trends plugin\'s expected band (gt above it, lt below it, outside either way)',
    },
    granularity: { type: 'string', enum: [...ANOMALY_GRANULARITIES], description: 'anomaly: the bucket size the band is learnt over' },
    sensitivity: { type: 'number', exclusiveMinimum: 0, maximum: 100, description: 'anomaly: robust z-score beyond which a bucket is unusual (default 3)' },
    op: { type: 'string', enum: ['gt', 'gte', 'lt', 'lte', 'outside', 'inside'] },
    threshold: { type: 'number', description: 'required except for anomaly conditions' },
    threshold2: { type: 'number', description: 'upper bound for outside/inside' },
    recovery_threshold: { type: 'number', description: 'hysteresis: a firing instance recovers only past this value' },
    recovery_threshold2: { type: 'number', description: 'hysteresis of the upper bound (outside/inside)' },
  },
};

/** A metric another plugin offers (`metricSourceRef`), e.g. `{source: 'executive', metric: 'budget_used_ratio'}`: one value, no groups. */
export const sourceQuerySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['source', 'metric'],
  properties: {
    source: { type: 'string', minLength: 1, maxLength: 100 },
    metric: { type: 'string', minLength: 1, maxLength: 100 },
    department_id: { type: 'string', minLength: 1, maxLength: 128 },
  },
} as const;
export type RuleQuery = MetricsQuery | { source: string; metric: string; department_id?: string };
export const isSourceQuery = (q: RuleQuery): q is Extract<RuleQuery, { source: string }> => typeof (q as { source?: unknown }).source === 'string';

export const ruleBodySchema = {
  type: 'object',
  additionalProperties: false,
  // `query` or `source`: checked in the handler so the answer names the field
  required: ['name', 'window_seconds', 'condition', 'interval_seconds'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    query: { anyOf: [metricsQuerySchema, sourceQuerySchema], description: 'a metrics query without from/to, or a metric source `{source, metric, department_id?}`' },
    source: signalSourceSchema,
    window_seconds: { type: 'integer', minimum: 1, maximum: 90 * 86_400, description: 'the query is evaluated over [now − window, now)' },
    condition: conditionSchema,
    // the minimum is checked in the handler so the answer names it like every other field
    interval_seconds: { type: 'integer', maximum: 86_400, description: `how often the rule is evaluated; at least ${MIN_INTERVAL_SECONDS}` },
    for_seconds: { type: 'integer', minimum: 0, maximum: 7 * 86_400, default: 0 },
    keep_firing_for_seconds: { type: 'integer', minimum: 0, maximum: 7 * 86_400, default: 0 },
    no_data: { type: 'string', enum: ['nodata', 'ok', 'alerting', 'keep_last'], default: 'nodata' },
    on_error: { type: 'string', enum: ['error', 'ok', 'alerting', 'keep_last'], default: 'error' },
    labels: labelsSchema,
    annotations: { ...labelsSchema, description: 'templates: {{ $labels.name }}, {{ $value }}' },
    flapping: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['window_seconds', 'max_changes'],
      properties: { window_seconds: { type: 'integer', minimum: 10, maximum: 86_400 }, max_changes: { type: 'integer', minimum: 2, maximum: 100 } },
      description: 'an instance that fires/resolves `max_changes` times within `window_seconds` is flapping: its notifications hold until it settles',
    },
    contact_point_id: { type: ['string', 'null'], format: 'uuid' },
    paused: { type: 'boolean', default: false },
  },
};

export interface RuleBody {
  name: string;
  /** a metrics query or a metric source; null/absent when `source` names a signal */
  query?: RuleQuery | null;
  source?: SignalSource | null;
  window_seconds: number;
  condition: Condition;
  interval_seconds: number;
  for_seconds: number;
  keep_firing_for_seconds: number;
  no_data: string;
  on_error: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  flapping?: { window_seconds: number; max_changes: number } | null;
  contact_point_id?: string | null;
  paused?: boolean;
}

/** Checks what the JSON schema cannot: the query against the catalogue, the interval floor, the condition, the contact point. */
export async function checkRule(ctx: TenantContext, b: RuleBody) {
  if (b.interval_seconds === undefined || b.interval_seconds < MIN_INTERVAL_SECONDS)
    throw badRequest(`interval_seconds must be at least ${MIN_INTERVAL_SECONDS} (got ${b.interval_seconds})`, { field: 'interval_seconds', minimum: MIN_INTERVAL_SECONDS });
  if (b.source && b.query) throw badRequest('query: a rule has a query or a source, not both', { field: 'query' });
  if (!b.source && !b.query) throw badRequest("query: a rule needs a metrics query (or a signal `source`)", { field: 'query' });
  if (b.source && (b.condition.kind ?? 'threshold') !== 'threshold')
    throw badRequest('condition.kind: a signal rule compares the signal\'s value (kind threshold)', { field: 'condition.kind' });
  const metrics = await ctx.services.get(metricsQueryRef);
  if (b.query && isSourceQuery(b.query)) {
    // the metrics service knows the sources on for the org: one read names what is wrong
    const now = Date.now();
    try {
      await metrics.run({ ...b.query, from: new Date(now - 1000).toISOString(), to: new Date(now).toISOString() });
    } catch (e) {
      const field = (e as HttpError).details && typeof (e as HttpError).details === 'object' ? ((e as HttpError).details as { field?: string }).field : undefined;
      if (e instanceof HttpError && e.statusCode === 400 && field) throw badRequest(`query.${e.message}`, { ...(e.details as object), field: `query.${field}` });
      throw e;
    }
  } else if (b.query) metrics.validate(b.query, 'query.');
  const p = kindProblem(b.condition, b.window_seconds) ?? (b.condition.kind === 'anomaly' ? null : conditionProblem(b.condition));
  if (p) throw badRequest(p.message, { field: p.field });
  if (b.condition.kind === 'anomaly') await trendsService(ctx);
  if (b.contact_point_id && !(await ctx.db.table('alert_contact_points').where({ id: b.contact_point_id }).first()))
    throw badRequest(`contact_point_id: no contact point ${b.contact_point_id}`, { field: 'contact_point_id' });
  if ('alertname' in (b.labels ?? {})) throw badRequest('labels.alertname is set from the rule name', { field: 'labels.alertname' });
}

const stateOrder: AlertState[] = ['error', 'firing', 'nodata', 'recovering', 'pending', 'normal'];
/** The rule's state: the most urgent of its instances' (Grafana shows the same). */
export const ruleState = (instances: Array<{ state: AlertState }>): AlertState =>
  stateOrder.find((s) => instances.some((i) => i.state === s)) ?? 'normal';

const instanceView = (i: any) => ({
  fingerprint: i.fingerprint,
  labels: i.labels,
  annotations: i.annotations,
  state: i.state,
  status: i.routed_status,
  value: i.value,
  flapping: !!i.machine?.flapping,
  state_since: i.machine?.since ? new Date(i.machine.since).toISOString() : null,
  starts_at: iso(i.starts_at),
  ends_at: iso(i.ends_at),
  acked_at: iso(i.acked_at),
  acked_by: i.acked_by,
});

export const ruleView = (r: any, instances: any[], run: any = null) => ({
  id: r.id,
  name: r.name,
  query: r.query,
  source: r.source ?? null,
  window_seconds: r.window_seconds,
  condition: r.condition,
  interval_seconds: r.interval_seconds,
  for_seconds: r.for_seconds,
  keep_firing_for_seconds: r.keep_firing_for_seconds,
  no_data: r.no_data,
  on_error: r.on_error,
  labels: r.labels,
  annotations: r.annotations,
  flapping: r.flapping,
  contact_point_id: r.contact_point_id,
  paused: r.paused,
  state: r.paused ? 'paused' : ruleState(instances),
  last_eval_at: iso(run?.last_eval_at ?? null),
  last_eval_ms: run?.last_eval_ms ?? null,
  last_error: run?.last_error ?? null,
  next_eval_at: iso(r.next_eval_at),
  instances: instances.map(instanceView),
});

const instanceSchema = open({
  fingerprint: { type: 'string' },
  labels: open(),
  annotations: open(),
  state: { type: 'string' },
  status: { type: 'string' },
  value: { type: ['number', 'null'] },
  flapping: { type: 'boolean' },
  state_since: { type: ['string', 'null'] },
  starts_at: { type: ['string', 'null'] },
  ends_at: { type: ['string', 'null'] },
  acked_at: { type: ['string', 'null'] },
  acked_by: { type: ['string', 'null'] },
});
export const ruleSchema = open({
  id: { type: 'string' },
  name: { type: 'string' },
  state: { type: 'string', enum: ['normal', 'pending', 'firing', 'recovering', 'nodata', 'error', 'paused'] },
  paused: { type: 'boolean' },
  instances: { type: 'array', items: instanceSchema },
});

async function getRule(ctx: TenantContext, id: string) {
  const r = await ctx.db.table('alert_rules').where({ id }).whereNull('deleted_at').first();
  if (!r) throw notFound(`no alert rule ${id}`, { field: 'id' });
  return r;
}

function rowOf(b: RuleBody) {
  return {
    name: b.name,
    query: b.query ? JSON.stringify(b.query) : null,
    source: b.source ? JSON.stringify(b.source) : null,
    window_seconds: b.window_seconds,
    condition: JSON.stringify(b.condition),
    interval_seconds: b.interval_seconds,
    for_seconds: b.for_seconds ?? 0,
    keep_firing_for_seconds: b.keep_firing_for_seconds ?? 0,
    no_data: b.no_data ?? 'nodata',
    on_error: b.on_error ?? 'error',
    labels: JSON.stringify(b.labels ?? {}),
    annotations: JSON.stringify(b.annotations ?? {}),
    flapping: b.flapping ? JSON.stringify(b.flapping) : null,
    contact_point_id: b.contact_point_id ?? null,
    paused: b.paused ?? false,
  };
}

export async function createRule(ctx: TenantContext, b: RuleBody): Promise<string> {
  await checkRule(ctx, b);
  const id = randomUUID();
  const scope = await ctx.visibleUserDepartments();
  await ctx.db.table('alert_rules').insert({ id, ...rowOf(b), department_scope: scope ? JSON.stringify(scope) : null, next_eval_at: new Date(), created_by: ctx.caller?.userId ?? null });
  await ctx.audit({ action: 'alerts.rule.create', target: id, after: { name: b.name } });
  return id;
}

export function registerRuleRoutes(env: PluginEnv) {
  env.route<unknown, unknown, RuleBody>({
    method: 'POST',
    path: '/rules',
    permission: WRITE,
    summary: 'Create an alert rule over a metrics query',
    description:
      '`query` is a metrics query (API.md "Metrics") without from/to, evaluated every `interval_seconds` (≥ 10) over the last `window_seconds`; ' +
      'one instance per group value. States: normal → pending (`for_seconds`) → firing → recovering (`keep_firing_for_seconds`) → normal; ' +
      '`no_data` and `on_error` choose what a missing value or a failed query means. `condition.recovery_threshold` adds hysteresis; `flapping` holds notifications of an instance that keeps changing.',
    schema: { body: ruleBodySchema, response: { 200: idAnswer } },
    async handler(req, ctx) {
      return { id: await createRule(ctx, req.body) };
    },
  });
  env.route<{ state?: string }>({
    method: 'GET',
    path: '/rules',
    permission: READ,
    summary: 'List alert rules with their state and instances',
    schema: { querystring: { type: 'object', additionalProperties: false, properties: { state: { type: 'string', enum: ['normal', 'pending', 'firing', 'recovering', 'nodata', 'error', 'paused'] } } }, response: { 200: listOf('rules', ruleSchema) } },
    async handler(req, ctx) {
      const rules = await ctx.db.table('alert_rules').whereNull('deleted_at').orderBy('name');
      const instances = await ctx.db.table('alert_instances').select('*');
      const byRule = new Map<string, any[]>();
      for (const i of instances) (byRule.get(i.rule_id) ?? byRule.set(i.rule_id, []).get(i.rule_id)!).push(i);
      const runs = new Map<string, any>((await ctx.db.table('alert_rule_runs').select('*')).map((x: any) => [x.rule_id, x]));
      const out = rules.map((r: any) => ruleView(r, byRule.get(r.id) ?? [], runs.get(r.id)));
      return { rules: req.query.state ? out.filter((r: any) => r.state === req.query.state) : out };
    },
  });
  env.route<unknown, { id: string }>({
    method: 'GET',
    path: '/rules/:id',
    permission: READ,
    summary: 'One alert rule with its state and instances',
    schema: { params: idParams, response: { 200: ruleSchema } },
    async handler(req, ctx) {
      const r = await getRule(ctx, req.params.id);
      return ruleView(r, await ctx.db.table('alert_instances').where({ rule_id: r.id }).orderBy('fingerprint'), await ctx.db.table('alert_rule_runs').where({ rule_id: r.id }).first());
    },
  });
  env.route<unknown, { id: string }, RuleBody>({
    method: 'PUT',
    path: '/rules/:id',
    permission: WRITE,
    summary: 'Replace an alert rule (its instances keep their state; it is evaluated again at once)',
    schema: { params: idParams, body: ruleBodySchema, response: { 200: idAnswer } },
    async handler(req, ctx) {
      const before = await getRule(ctx, req.params.id);
      await checkRule(ctx, req.body);
      await ctx.db.table('alert_rules').where({ id: before.id }).update({ ...rowOf(req.body), next_eval_at: new Date(), updated_at: new Date() });
      await ctx.audit({ action: 'alerts.rule.update', target: before.id, before: { name: before.name }, after: { name: req.body.name } });
      return { id: before.id };
    },
  });
  env.route<unknown, { id: string }>({
    method: 'DELETE',
    path: '/rules/:id',
    permission: WRITE,
    summary: 'Delete an alert rule; its firing instances are resolved in their groups',
    schema: { params: idParams, response: { 200: okAnswer } },
    async handler(req, ctx) {
      const r = await getRule(ctx, req.params.id);
      const now = new Date();
      // resolve what fired so the receivers hear the end of it, then forget the rule
      const firing = await ctx.db.table('alert_instances').where({ rule_id: r.id, routed_status: 'firing' });
      await ctx.db.table('alert_instances').where({ rule_id: r.id, routed_status: 'firing' }).update({ routed_status: 'resolved', state: 'normal', ends_at: now });
      for (const i of firing) await publishPlatformEvent(ctx, 'alert.resolved', { rule_id: r.id, rule_name: r.name, fingerprint: i.fingerprint, labels: i.labels, value: i.value, state: 'deleted' });
      // kept (marked deleted) until its resolves went out through the rule's own route; the dispatcher then removes it
      await ctx.db.table('alert_rules').where({ id: r.id }).update({ deleted_at: now, paused: true });
      await ctx.db.table('alert_rule_runs').where({ rule_id: r.id }).delete();
      await ctx.db.table('alert_history').insert({ rule_id: r.id, kind: 'state', to_state: 'deleted', at: now, detail: JSON.stringify({ name: r.name }) });
      await ctx.audit({ action: 'alerts.rule.delete', target: r.id, before: { name: r.name } });
      return { ok: true };
    },
  });
  env.route<unknown, { id: string }, { paused: boolean }>({
    method: 'POST',
    path: '/rules/:id/pause',
    permission: WRITE,
    summary: 'Pause or resume a rule (a paused rule is not evaluated; its instances keep their state)',
    schema: { params: idParams, body: { type: 'object', additionalProperties: false, properties: { paused: { type: 'boolean', default: true } } }, response: { 200: ruleSchema } },
    async handler(req, ctx) {
      const r = await getRule(ctx, req.params.id);
      await ctx.db.table('alert_rules').where({ id: r.id }).update({ paused: req.body.paused ?? true, next_eval_at: new Date() });
      await ctx.audit({ action: req.body.paused === false ? 'alerts.rule.resume' : 'alerts.rule.pause', target: r.id });
      return ruleView(await getRule(ctx, r.id), await ctx.db.table('alert_instances').where({ rule_id: r.id }));
    },
  });
  env.route<unknown, { id: string; fingerprint: string }>({
    method: 'POST',
    path: '/rules/:id/instances/:fingerprint/ack',
    permission: WRITE,
    summary: 'Acknowledge a firing instance: no repeats and no escalation until it resolves',
    schema: {
      params: { type: 'object', required: ['id', 'fingerprint'], properties: { id: { type: 'string', format: 'uuid' }, fingerprint: { type: 'string', pattern: '^[0-9a-f]{16}$' } } },
      response: { 200: instanceSchema },
    },
    async handler(req, ctx) {
      const r = await getRule(ctx, req.params.id);
      const i = await ctx.db.table('alert_instances').where({ rule_id: r.id, fingerprint: req.params.fingerprint }).first();
      if (!i) throw notFound(`rule ${r.id} has no instance ${req.params.fingerprint}`, { field: 'fingerprint' });
      if (i.routed_status !== 'firing') throw new HttpError(409, 'conflict', `instance ${i.fingerprint} is not firing`, { field: 'fingerprint', state: i.state });
      const at = new Date();
      await ctx.db.table('alert_instances').where({ rule_id: r.id, fingerprint: i.fingerprint }).update({ acked_at: at, acked_by: ctx.caller?.userId ?? null });
      await ctx.db.table('alert_history').insert({ rule_id: r.id, fingerprint: i.fingerprint, kind: 'ack', to_state: i.state, at, detail: JSON.stringify({ by: ctx.caller?.userId ?? null }) });
      return instanceView({ ...i, acked_at: at, acked_by: ctx.caller?.userId ?? null });
    },
  });
  env.route({
    method: 'GET',
    path: '/templates',
    permission: READ,
    summary: 'Rule templates: the built-in ones for the PRD alert conditions and those other plugins contribute, with their parameters and the rule each makes by default',
    schema: { response: { 200: listOf('templates', open({ key: { type: 'string' }, title: { type: 'string' }, description: { type: 'string' }, params: open(), rule: open() })) } },
    async handler(_req, ctx) {
      return {
        templates: (await allTemplates(ctx)).map((t) => ({
          key: t.key,
          title: t.title,
          description: t.description,
          params: t.params,
          rule: { name: t.title, ...buildTemplate(t) },
        })),
      };
    },
  });
  env.route<unknown, { key: string }, { name?: string; params?: Record<string, number>; contact_point_id?: string; labels?: Record<string, string> }>({
    method: 'POST',
    path: '/templates/:key',
    permission: WRITE,
    summary: 'Create a rule from a built-in template',
    schema: {
      // built-in keys and those other plugins contribute (`<plugin>.<key>`, alertTemplatesRef)
      params: { type: 'object', required: ['key'], properties: { key: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[a-z0-9][a-z0-9.-]*$' } } },
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200 },
          params: { type: 'object', maxProperties: 10, additionalProperties: { type: 'number' } },
          contact_point_id: { type: 'string', format: 'uuid' },
          labels: labelsSchema,
        },
      },
      response: { 200: idAnswer },
    },
    async handler(req, ctx) {
      const templates = await allTemplates(ctx);
      const t = templates.find((x) => x.key === req.params.key);
      if (!t) throw notFound(`no rule template "${req.params.key}"; there are ${templates.map((x) => x.key).join(', ')}`, { field: 'key' });
      for (const k of Object.keys(req.body.params ?? {})) if (!(k in t.params)) throw badRequest(`params.${k}: template ${t.key} has no such parameter`, { field: `params.${k}`, allowed: Object.keys(t.params) });
      const built = buildTemplate(t, req.body.params);
      return {
        id: await createRule(ctx, { ...built, name: req.body.name ?? t.title, labels: { ...built.labels, ...req.body.labels }, contact_point_id: req.body.contact_point_id ?? null } as RuleBody),
      };
    },
  });
  env.route<unknown, unknown, MetricsQuery & { from: string; to: string }>({
    method: 'POST',
    path: '/query',
    permission: READ,
    summary: "A metrics query over [from, to): the series the rule editor draws its threshold over",
    description:
      'The metrics query of API.md ("Metrics"), answered `{series: [{group, total, points: [{bucket, value}]}]}`. count/users/sum are exact; ' +
      'pXX are exact quantiles with linear interpolation between the two nearest values (ClickHouse `quantileExactInclusive`); ' +
      'empty buckets are 0 for count/users/sum and null otherwise. Answered by the metrics plugin (POST /api/v1/metrics/query is the same query).',
    schema: {
      body: { ...metricsQuerySchema, required: [...metricsQuerySchema.required, 'from', 'to'], properties: { ...metricsQuerySchema.properties, from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' } } },
      response: { 200: seriesAnswer },
    },
    async handler(req, ctx) {
      return (await ctx.services.get(metricsQueryRef)).run(req.body);
    },
  });
  env.route<unknown, unknown, { query: MetricsQuery; window_seconds: number; condition?: Condition }>({
    method: 'POST',
    path: '/preview',
    permission: READ,
    summary: "A rule's query evaluated now: the value of each group over the last window (the editor draws the threshold over it)",
    description:
      'With `condition`, also `observations`: per group what the rule would compare now (the value, its change, its change in %, or the last complete bucket with the ' +
      "trends plugin's expected band) and whether it breaches.",
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['query', 'window_seconds'],
        properties: { query: metricsQuerySchema, window_seconds: { type: 'integer', minimum: 1, maximum: 90 * 86_400 }, condition: conditionSchema },
      },
      response: {
        200: open({
          ...seriesAnswer.properties,
          observations: {
            type: 'array',
            items: open({ group: open(), value: { type: ['number', 'null'] }, lower: { type: ['number', 'null'] }, upper: { type: ['number', 'null'] }, breach: { type: ['boolean', 'null'] } }),
          },
        }),
      },
    },
    async handler(req, ctx) {
      const metrics = await ctx.services.get(metricsQueryRef);
      metrics.validate(req.body.query, 'query.');
      const to = new Date();
      const answer = await metrics.run({ ...req.body.query, from: new Date(to.getTime() - req.body.window_seconds * 1000).toISOString(), to: to.toISOString() });
      const c = req.body.condition;
      if (!c) return answer;
      const p = kindProblem(c, req.body.window_seconds) ?? (c.kind === 'anomaly' ? null : conditionProblem(c));
      if (p) throw badRequest(p.message, { field: p.field });
      const scope = await ctx.visibleUserDepartments();
      const obs = await observe(ctx, { query: req.body.query, window_seconds: req.body.window_seconds, condition: c, department_scope: scope }, to);
      return {
        ...answer,
        observations: obs.map((o) => ({
          group: o.group,
          value: o.obs.kind === 'value' ? o.obs.value : null,
          lower: o.obs.kind === 'value' && o.obs.band ? o.obs.band.lower : null,
          upper: o.obs.kind === 'value' && o.obs.band ? o.obs.band.upper : null,
          breach: o.obs.kind === 'value' ? breaches(o.obs.band ? bandCondition(c.op, o.obs.band) : c, o.obs.value, false) : null,
        })),
      };
    },
  });
}

/** The built-in templates, then those the org's other plugins contribute (alertTemplatesRef). */
async function allTemplates(ctx: TenantContext): Promise<RuleTemplate[]> {
  const contributed = (await ctx.services.all(alertTemplatesRef)).flatMap((src) => src.service.templates);
  const known = new Set(TEMPLATES.map((t) => t.key));
  // a contributed key that shadows a built-in one is left out: built-in keys stay stable
  return [...TEMPLATES, ...contributed.filter((t) => !known.has(t.key)).map((t) => t as unknown as RuleTemplate)];
}
