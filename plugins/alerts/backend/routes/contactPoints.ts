/** Contact points: where notifications go (webhook, email, Slack, in-app). */
import { randomUUID } from 'node:crypto';
import { badRequest, conflict, notFound, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { checkOutgoingUrl, enqueue, type Channel } from '../delivery.ts';
import { idAnswer, idParams, listOf, okAnswer, open, iso } from '../schemas.ts';
import { notificationBody } from '../engine.ts';
import { ADMIN, READ, WRITE } from '../permissions.ts';
import { onCallUser, renderMessage, templateProblem } from '../messages.ts';

/** the Admin namespace the kernel leaves to this plugin (`admin/<routePrefix>`) */
export const ADMIN_ALERTS_PREFIX = 'admin/alerts';

const settingsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    url: { type: 'string', minLength: 1, maxLength: 2000 },
    addresses: { type: 'array', minItems: 1, maxItems: 50, items: { type: 'string', format: 'email' } },
    user_ids: { type: 'array', minItems: 1, maxItems: 200, items: { type: 'string', format: 'uuid' } },
    secret: { type: 'string', minLength: 8, maxLength: 200 },
    title_template: { type: 'string', minLength: 1, maxLength: 1000, description: 'message template of the subject / title (messages.ts): {{ status }}, {{ alertname }}, {{ count_firing }}, {{ commonLabels.x }}…' },
    text_template: { type: 'string', minLength: 1, maxLength: 10_000, description: 'message template of the text, e.g. {{#firing}}- {{ labels.agent_name }}: {{ annotations.summary }}\n{{/firing}}' },
    rotation_start: { type: 'string', format: 'date-time', description: 'on_call: when the first of user_ids begins a turn' },
    period_days: { type: 'number', minimum: 0.01, maximum: 366, description: 'on_call: length of a turn in days (default 7)' },
    channel: { type: 'string', enum: ['in_app', 'email'], description: "on_call: in_app (default) or email, by SMTP to the address the org's directory holds for the person on call" },
  },
};
const body = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'type', 'settings'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, type: { type: 'string', enum: ['webhook', 'email', 'slack', 'in_app', 'on_call', 'org_slack', 'org_webhook'] }, settings: settingsSchema },
};
const view = open({ id: { type: 'string' }, name: { type: 'string' }, type: { type: 'string' }, settings: open(), created_at: { type: 'string' } });

interface CpBody {
  name: string;
  type: Channel;
  settings: { url?: string; addresses?: string[]; user_ids?: string[]; secret?: string; title_template?: string; text_template?: string; rotation_start?: string; period_days?: number; channel?: 'in_app' | 'email' };
}

async function check(b: CpBody, ctx: TenantContext) {
  if (b.type === 'webhook' || b.type === 'slack') {
    if (!b.settings.url) throw badRequest(`settings.url is required for a ${b.type} contact point`, { field: 'settings.url' });
    await checkOutgoingUrl(b.settings.url, 'settings.url');
  }
  if (b.type === 'email' && !b.settings.addresses?.length) throw badRequest('settings.addresses is required for an email contact point', { field: 'settings.addresses' });
  if ((b.type === 'in_app' || b.type === 'on_call') && !b.settings.user_ids?.length) throw badRequest(`settings.user_ids is required for an ${b.type} contact point`, { field: 'settings.user_ids' });
  if (b.type === 'on_call' && !b.settings.rotation_start) throw badRequest('settings.rotation_start is required for an on_call contact point', { field: 'settings.rotation_start' });
  if (b.type !== 'on_call') for (const f of ['rotation_start', 'period_days', 'channel'] as const) if (b.settings[f] !== undefined) throw badRequest(`settings.${f} only applies to on_call contact points`, { field: `settings.${f}` });
  if (b.type === 'on_call' && b.settings.channel === 'email') {
    // an email rotation needs everyone in it to have an address in the directory
    const known = new Set((await ctx.directory.members({ ids: b.settings.user_ids ?? [] })).filter((m) => m.email).map((m) => m.id));
    const missing = (b.settings.user_ids ?? []).filter((id) => !known.has(id));
    if (missing.length) throw badRequest(`settings.user_ids: ${missing.join(', ')} is not an active member with an email address`, { field: 'settings.user_ids', user_ids: missing });
  }
  for (const f of ['title_template', 'text_template'] as const) {
    const t = b.settings[f];
    const problem = t === undefined ? null : templateProblem(t);
    if (problem) throw badRequest(`settings.${f}: ${problem}`, { field: `settings.${f}` });
  }
}

/** The secret never leaves the server: only whether one is set. */
const present = (r: any) => ({ id: r.id, name: r.name, type: r.type, settings: { ...r.settings, secret: undefined, has_secret: !!r.settings.secret }, created_at: iso(r.created_at) });

export async function contactPoint(ctx: TenantContext, id: string) {
  const cp = await ctx.db.table('alert_contact_points').where({ id }).first();
  if (!cp) throw notFound(`no contact point ${id}`, { field: 'contact_point_id' });
  return cp;
}

export function registerContactPointRoutes(env: PluginEnv) {
  env.route<unknown, unknown, CpBody>({
    method: 'POST',
    path: '/contact-points',
    permission: WRITE,
    summary: 'Create a contact point (webhook, email, slack, in_app, or org_slack / org_webhook: the org notification settings)',
    description: 'Webhook and Slack URLs that resolve to loopback, private or link-local addresses are refused unless ORRERY_WEBHOOKS_ALLOW_PRIVATE=true.',
    schema: { body, response: { 200: idAnswer } },
    async handler(req, ctx) {
      await check(req.body, ctx);
      if (await ctx.db.table('alert_contact_points').where({ name: req.body.name }).first()) throw conflict(`a contact point named "${req.body.name}" exists`, { field: 'name' });
      const id = randomUUID();
      await ctx.db.table('alert_contact_points').insert({ id, name: req.body.name, type: req.body.type, settings: JSON.stringify(req.body.settings) });
      await ctx.audit({ action: 'alerts.contact_point.create', target: id, after: { name: req.body.name, type: req.body.type } });
      return { id };
    },
  });
  env.route({
    method: 'GET',
    path: '/contact-points',
    permission: READ,
    summary: 'List contact points (secrets are never shown)',
    schema: { response: { 200: listOf('contact_points', view) } },
    async handler(_req, ctx) {
      return { contact_points: (await ctx.db.table('alert_contact_points').orderBy('name')).map(present) };
    },
  });
  env.route<unknown, { id: string }>({
    method: 'GET',
    path: '/contact-points/:id',
    permission: READ,
    summary: 'One contact point',
    schema: { params: idParams, response: { 200: view } },
    async handler(req, ctx) {
      return present(await contactPoint(ctx, req.params.id));
    },
  });
  env.route<{ at?: string }, { id: string }>({
    method: 'GET',
    path: '/contact-points/:id/on-call',
    permission: READ,
    summary: 'Who an on_call contact point notifies at an instant (default now), and when the turn ends',
    schema: {
      params: idParams,
      querystring: { type: 'object', additionalProperties: false, properties: { at: { type: 'string', format: 'date-time' } } },
      response: { 200: open({ user_id: { type: 'string' }, turn_ends_at: { type: 'string' } }) },
    },
    async handler(req, ctx) {
      const cp = await contactPoint(ctx, req.params.id);
      if (cp.type !== 'on_call') throw badRequest(`contact point ${cp.id} is not an on_call rotation`, { field: 'id' });
      const at = req.query.at ? new Date(req.query.at) : new Date();
      const period = (cp.settings.period_days ?? 7) * 86_400_000;
      const start = Date.parse(cp.settings.rotation_start);
      const ends = start + (Math.floor((at.getTime() - start) / period) + 1) * period;
      return { user_id: onCallUser(cp.settings, at), turn_ends_at: new Date(ends).toISOString() };
    },
  });
  env.route<unknown, unknown, { title_template?: string; text_template?: string; body?: any }>({
    method: 'POST',
    path: '/contact-points/render',
    permission: READ,
    summary: "Renders message templates over a sample notification (the editor's preview); a bad template is a 400 naming it",
    schema: {
      body: { type: 'object', additionalProperties: false, properties: { title_template: settingsSchema.properties.title_template, text_template: settingsSchema.properties.text_template } },
      response: { 200: open({ title: { type: ['string', 'null'] }, text: { type: ['string', 'null'] } }) },
    },
    async handler(req) {
      for (const f of ['title_template', 'text_template'] as const) {
        const t = req.body[f];
        const problem = t === undefined ? null : templateProblem(t);
        if (problem) throw badRequest(`${f}: ${problem}`, { field: f });
      }
      const now = new Date();
      const sample = notificationBody('sample receiver', 'sample', { alertname: 'High error rate' }, [
        { rule_id: '', fingerprint: 'a1', status: 'firing', labels: { alertname: 'High error rate', agent_name: 'planner' }, annotations: { summary: 'planner failed 12% of invocations' }, value: 0.12, starts_at: now, ends_at: null, acked: false },
        { rule_id: '', fingerprint: 'a2', status: 'resolved', labels: { alertname: 'High error rate', agent_name: 'coder' }, annotations: { summary: 'coder is back to normal' }, value: 0.02, starts_at: now, ends_at: now, acked: false },
      ]);
      return { title: req.body.title_template ? renderMessage(req.body.title_template, sample) : null, text: req.body.text_template ? renderMessage(req.body.text_template, sample) : null };
    },
  });
  env.route<unknown, { id: string }, CpBody>({
    method: 'PUT',
    path: '/contact-points/:id',
    permission: WRITE,
    summary: 'Replace a contact point',
    schema: { params: idParams, body, response: { 200: idAnswer } },
    async handler(req, ctx) {
      await contactPoint(ctx, req.params.id);
      await check(req.body, ctx);
      await ctx.db.table('alert_contact_points').where({ id: req.params.id }).update({ name: req.body.name, type: req.body.type, settings: JSON.stringify(req.body.settings) });
      return { id: req.params.id };
    },
  });
  env.route<unknown, { id: string }>({
    method: 'DELETE',
    path: '/contact-points/:id',
    permission: WRITE,
    summary: 'Delete a contact point (its queued deliveries become dead letters)',
    schema: { params: idParams, response: { 200: okAnswer } },
    async handler(req, ctx) {
      await contactPoint(ctx, req.params.id);
      await ctx.db.table('alert_contact_points').where({ id: req.params.id }).delete();
      return { ok: true };
    },
  });
  // at `/alerts/test` and, as the seeds name it, at `/admin/alerts/test`: the same route
  for (const prefix of [undefined, ADMIN_ALERTS_PREFIX]) env.route<unknown, unknown, { contact_point_id: string }>({
    method: 'POST',
    path: '/test',
    ...(prefix ? { prefix } : {}),
    permission: ADMIN,
    summary: 'Send a test notification to a contact point',
    description: 'Queues a firing notification with one alert labelled `alertname=TestAlert` through the normal delivery path (signature, retries).',
    schema: { body: { type: 'object', additionalProperties: false, required: ['contact_point_id'], properties: { contact_point_id: { type: 'string', format: 'uuid' } } }, response: { 200: idAnswer } },
    async handler(req, ctx) {
      const cp = await contactPoint(ctx, req.body.contact_point_id);
      const now = new Date();
      const b = notificationBody(cp.name, 'test', { alertname: 'TestAlert' }, [
        { rule_id: '', fingerprint: 'test', status: 'firing', labels: { alertname: 'TestAlert' }, annotations: { summary: 'A test notification from Orrery' }, value: null, starts_at: now, ends_at: null, acked: false },
      ]);
      return { id: await enqueue(ctx, { target: `cp:${cp.id}`, channel: cp.type, event: 'alert.test', body: b }) };
    },
  });
}
