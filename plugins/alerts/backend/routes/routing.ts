/** The notification policy tree, silences, history, firing alerts, deliveries (dead letters). */
import { randomUUID } from 'node:crypto';
import { badRequest, notFound, type PluginEnv } from '@orrery/plugin-sdk';
import { checkMatchers, checkPolicy, matchersSchema, policySchema, DEFAULT_POLICY, type Matcher, type RouteNode } from '../routing.ts';
import { idAnswer, idParams, listOf, okAnswer, open, iso } from '../schemas.ts';
import { ADMIN, READ, WRITE } from '../permissions.ts';
import { checkMuteTiming, muteTimingSchema, type MuteTiming } from '../muteTimings.ts';

/** Every mute-timing name a route of the tree names. */
function namedTimings(node: RouteNode | undefined, out = new Set<string>()): Set<string> {
  for (const n of node?.mute_timings ?? []) out.add(n);
  for (const c of node?.routes ?? []) namedTimings(c, out);
  return out;
}

export function registerRoutingRoutes(env: PluginEnv) {
  env.route<unknown, unknown, { mute_timings: MuteTiming[] }>({
    method: 'PUT',
    path: '/mute-timings',
    permission: WRITE,
    summary: 'Replace the mute timings (recurring windows in a time zone that policy routes name in `mute_timings`)',
    description:
      'A timing is muted when any of its intervals holds; an interval holds when each of its fields (weekdays 0 = Sunday, times `HH:MM`–`HH:MM` in the zone, days_of_month, negative from the end, months) holds. ' +
      'A muted route sends nothing; its groups are notified once the window ends. A timing the policy still names cannot be removed.',
    schema: {
      body: { type: 'object', additionalProperties: false, required: ['mute_timings'], properties: { mute_timings: { type: 'array', maxItems: 50, items: muteTimingSchema } } },
      response: { 200: listOf('mute_timings', open({ name: { type: 'string' }, time_zone: { type: 'string' }, intervals: { type: 'array', items: open() } })) },
    },
    async handler(req, ctx) {
      const list = req.body.mute_timings;
      list.forEach((t, i) => {
        checkMuteTiming(t, `mute_timings[${i}]`);
        if (list.findIndex((x) => x.name === t.name) !== i) throw badRequest(`mute_timings[${i}].name: "${t.name}" is given twice`, { field: `mute_timings[${i}].name` });
      });
      const s = await ctx.settings.get<{ policy?: RouteNode } & Record<string, unknown>>();
      for (const name of namedTimings(s.policy)) {
        if (!list.some((t) => t.name === name)) throw badRequest(`mute_timings: "${name}" is named by the notification policy`, { field: 'mute_timings' });
      }
      await ctx.settings.set({ ...s, mute_timings: list });
      await ctx.audit({ action: 'alerts.mute_timings.update', after: list });
      return { mute_timings: list };
    },
  });
  env.route({
    method: 'GET',
    path: '/mute-timings',
    permission: READ,
    summary: 'The mute timings',
    schema: { response: { 200: listOf('mute_timings', open({ name: { type: 'string' }, time_zone: { type: 'string' }, intervals: { type: 'array', items: open() } })) } },
    async handler(_req, ctx) {
      return { mute_timings: (await ctx.settings.get<{ mute_timings?: MuteTiming[] }>()).mute_timings ?? [] };
    },
  });
  env.route<unknown, unknown, RouteNode>({
    method: 'PUT',
    path: '/policy',
    permission: WRITE,
    summary: 'Replace the notification policy tree',
    description:
      'The root names the default contact point and the grouping and timings (defaults: group_by [alertname], group_wait 30 s, group_interval 300 s, repeat_interval 4 h); ' +
      'child routes match labels (`=`, `!=`, `=~`, `!~`, regexes anchored), inherit what they do not set, and stop at the first match unless `continue`. ' +
      '`escalation` steps notify another contact point when a group fires unacknowledged for `after_seconds`.',
    schema: { body: policySchema, response: { 200: open() } },
    async handler(req, ctx) {
      const known = new Set<string>((await ctx.db.table('alert_contact_points').select('id')).map((r: any) => r.id));
      const s = await ctx.settings.get<Record<string, unknown>>();
      checkPolicy(req.body, known, new Set(((s.mute_timings ?? []) as MuteTiming[]).map((t) => t.name)));
      await ctx.settings.set({ ...s, policy: req.body });
      await ctx.audit({ action: 'alerts.policy.update', after: req.body });
      return req.body;
    },
  });
  env.route({
    method: 'GET',
    path: '/policy',
    permission: READ,
    summary: 'The notification policy tree (with the defaults the root inherits)',
    schema: { response: { 200: open({ policy: open(), defaults: open() }) } },
    async handler(_req, ctx) {
      return { policy: (await ctx.settings.get<{ policy?: RouteNode }>()).policy ?? {}, defaults: DEFAULT_POLICY };
    },
  });

  const silenceBody = {
    type: 'object',
    additionalProperties: false,
    required: ['matchers', 'starts_at', 'ends_at', 'comment'],
    properties: { matchers: { ...matchersSchema, minItems: 1 }, starts_at: { type: 'string', format: 'date-time' }, ends_at: { type: 'string', format: 'date-time' }, comment: { type: 'string', minLength: 1, maxLength: 1000 } },
  };
  const silenceView = open({ id: { type: 'string' }, matchers: { type: 'array', items: open() }, starts_at: { type: 'string' }, ends_at: { type: 'string' }, comment: { type: 'string' }, active: { type: 'boolean' } });
  const present = (r: any, now = new Date()) => ({
    id: r.id,
    matchers: r.matchers,
    starts_at: iso(r.starts_at),
    ends_at: iso(r.ends_at),
    comment: r.comment,
    created_by: r.created_by,
    active: new Date(r.starts_at) <= now && new Date(r.ends_at) > now,
  });
  env.route<unknown, unknown, { matchers: Matcher[]; starts_at: string; ends_at: string; comment: string }>({
    method: 'POST',
    path: '/silences',
    permission: WRITE,
    summary: 'Silence the alerts whose labels match, for a fixed window (evaluation goes on; notifications do not)',
    schema: { body: silenceBody, response: { 200: idAnswer } },
    async handler(req, ctx) {
      checkMatchers(req.body.matchers, 'matchers');
      const starts = new Date(req.body.starts_at);
      const ends = new Date(req.body.ends_at);
      if (!(ends > starts)) throw badRequest('ends_at must be after starts_at', { field: 'ends_at' });
      const id = randomUUID();
      await ctx.db.table('alert_silences').insert({ id, matchers: JSON.stringify(req.body.matchers), starts_at: starts, ends_at: ends, comment: req.body.comment, created_by: ctx.caller?.userId ?? null });
      await ctx.audit({ action: 'alerts.silence.create', target: id, after: req.body });
      return { id };
    },
  });
  env.route({
    method: 'GET',
    path: '/silences',
    permission: READ,
    summary: 'Silences, newest first, with whether each is active now',
    schema: { response: { 200: listOf('silences', silenceView) } },
    async handler(_req, ctx) {
      return { silences: (await ctx.db.table('alert_silences').orderBy('created_at', 'desc').limit(500)).map((r: any) => present(r)) };
    },
  });
  env.route<unknown, { id: string }>({
    method: 'DELETE',
    path: '/silences/:id',
    permission: WRITE,
    summary: 'Expire a silence now',
    schema: { params: idParams, response: { 200: okAnswer } },
    async handler(req, ctx) {
      const n = await ctx.db.table('alert_silences').where({ id: req.params.id }).update({ ends_at: new Date() });
      if (!n) throw notFound(`no silence ${req.params.id}`, { field: 'id' });
      return { ok: true };
    },
  });

  env.route<{ rule_id?: string; from?: string; to?: string; limit?: number }>({
    method: 'GET',
    path: '/history',
    permission: READ,
    summary: 'State changes, acknowledgements and notifications sent, newest first',
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { rule_id: { type: 'string', format: 'uuid' }, from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' }, limit: { type: 'integer', minimum: 1, maximum: 5000, default: 500 } },
      },
      response: {
        200: listOf(
          'history',
          open({ rule_id: { type: ['string', 'null'] }, fingerprint: { type: ['string', 'null'] }, kind: { type: 'string' }, from_state: { type: ['string', 'null'] }, to_state: { type: ['string', 'null'] }, value: { type: ['number', 'null'] }, at: { type: 'string' }, detail: {} }),
        ),
      },
    },
    async handler(req, ctx) {
      const q = ctx.db.table('alert_history').orderBy('id', 'desc').limit(req.query.limit ?? 500);
      if (req.query.rule_id) q.where({ rule_id: req.query.rule_id });
      if (req.query.from) q.where('at', '>=', new Date(req.query.from));
      if (req.query.to) q.where('at', '<', new Date(req.query.to));
      return { history: (await q).map((h: any) => ({ rule_id: h.rule_id, fingerprint: h.fingerprint, kind: h.kind, from_state: h.from_state, to_state: h.to_state, value: h.value, at: iso(h.at), detail: h.detail })) };
    },
  });

  env.route({
    method: 'GET',
    path: '/firing',
    permission: READ,
    summary: 'Alerts firing now (for the "Firing alerts" widget), most recent first',
    schema: {
      response: {
        200: listOf('alerts', open({ rule_id: { type: 'string' }, rule_name: { type: 'string' }, fingerprint: { type: 'string' }, state: { type: 'string' }, labels: open(), annotations: open(), value: { type: ['number', 'null'] }, value_unit: { type: ['string', 'null'], enum: ['ratio', null], description: '`ratio`: the value is a share (a rate rule against a threshold: 0.18 = 18 %); null: a plain number' }, starts_at: { type: ['string', 'null'] }, acked: { type: 'boolean' }, silenced: { type: 'boolean' } })),
      },
    },
    async handler(_req, ctx) {
      const rows = await ctx.db.table('alert_instances').where({ routed_status: 'firing' }).orderBy('starts_at', 'desc').limit(500);
      const rules = new Map<string, { name: string; unit: 'ratio' | null }>(
        (await ctx.db.table('alert_rules').select('id', 'name', 'query', 'condition')).map((r: any) => [r.id, { name: r.name, unit: valueUnit(r) }]),
      );
      const now = new Date();
      const silences: Matcher[][] = (await ctx.db.table('alert_silences').where('starts_at', '<=', now).andWhere('ends_at', '>', now)).map((s: any) => s.matchers);
      const { matches } = await import('../routing.ts');
      return {
        alerts: rows.map((i: any) => ({
          rule_id: i.rule_id,
          rule_name: rules.get(i.rule_id)?.name ?? '',
          fingerprint: i.fingerprint,
          state: i.state,
          labels: i.labels,
          annotations: i.annotations,
          value: i.value,
          value_unit: rules.get(i.rule_id)?.unit ?? null,
          starts_at: iso(i.starts_at),
          acked: !!i.acked_at,
          silenced: silences.some((m) => matches(m, i.labels)),
        })),
      };
    },
  });

  const deliveryView = open({ id: { type: 'string' }, target: { type: 'string' }, channel: { type: 'string' }, event: { type: 'string' }, status: { type: 'string' }, attempts: { type: 'integer' }, last_error: { type: ['string', 'null'] } });
  env.route<{ status?: string }>({
    method: 'GET',
    path: '/deliveries',
    permission: ADMIN,
    summary: 'Deliveries of notifications and webhooks (status=dead lists the dead letters)',
    schema: { querystring: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', enum: ['pending', 'sent', 'dead'] } } }, response: { 200: listOf('deliveries', deliveryView) } },
    async handler(req, ctx) {
      const q = ctx.db.table('alert_deliveries').orderBy('seq', 'desc').limit(500);
      if (req.query.status) q.where({ status: req.query.status });
      return {
        deliveries: (await q).map((d: any) => ({
          id: d.id, target: d.target, channel: d.channel, event: d.event, rule_id: d.rule_id, status: d.status, attempts: d.attempts, last_error: d.last_error,
          created_at: iso(d.created_at), sent_at: iso(d.sent_at), next_attempt_at: d.status === 'pending' ? iso(d.next_attempt_at) : null,
        })),
      };
    },
  });
  env.route<unknown, { id: string }>({
    method: 'POST',
    path: '/deliveries/:id/redeliver',
    permission: ADMIN,
    summary: 'Queue a dead (or sent) delivery again, with the same X-Event-ID',
    schema: { params: idParams, response: { 200: idAnswer } },
    async handler(req, ctx) {
      const d = await ctx.db.table('alert_deliveries').where({ id: req.params.id }).first();
      if (!d) throw notFound(`no delivery ${req.params.id}`, { field: 'id' });
      if (d.status === 'pending') throw badRequest(`delivery ${d.id} is still pending`, { field: 'id' });
      await ctx.db.table('alert_deliveries').where({ id: d.id }).update({ status: 'pending', attempts: 0, next_attempt_at: new Date(), last_error: null });
      await ctx.audit({ action: 'alerts.delivery.redeliver', target: d.id });
      return { id: d.id };
    },
  });
}

/**
 * What an instance's value is: a rate rule compared with a threshold holds the share itself
 * (0.18 = 18 % of the invocations failed), every other rule a plain number (a count, a sum, a
 * change, a change in %), so the widget writes a rate as a percentage.
 */
export function valueUnit(rule: { query?: { measure?: string } | null; condition?: { kind?: string } | null }): 'ratio' | null {
  return rule.query?.measure === 'rate' && (rule.condition?.kind ?? 'threshold') === 'threshold' ? 'ratio' : null;
}
