/** Contact points: where notifications go (webhook, email, Slack, in-app). */
import { randomUUID } from 'node:crypto';
import { badRequest, conflict, notFound, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { checkOutgoingUrl, enqueue, type Channel } from '../delivery.ts';
import { idAnswer, idParams, listOf, okAnswer, open, iso } from '../schemas.ts';
import { notificationBody } from '../engine.ts';
import { ADMIN, READ, WRITE } from '../permissions.ts';

const settingsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    url: { type: 'string', minLength: 1, maxLength: 2000 },
    addresses: { type: 'array', minItems: 1, maxItems: 50, items: { type: 'string', format: 'email' } },
    user_ids: { type: 'array', minItems: 1, maxItems: 200, items: { type: 'string', format: 'uuid' } },
    secret: { type: 'string', minLength: 8, maxLength: 200 },
  },
};
const body = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'type', 'settings'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, type: { type: 'string', enum: ['webhook', 'email', 'slack', 'in_app', 'org_slack', 'org_webhook'] }, settings: settingsSchema },
};
const view = open({ id: { type: 'string' }, name: { type: 'string' }, type: { type: 'string' }, settings: open(), created_at: { type: 'string' } });

interface CpBody {
  name: string;
  type: Channel;
  settings: { url?: string; addresses?: string[]; user_ids?: string[]; secret?: string };
}

async function check(b: CpBody) {
  if (b.type === 'webhook' || b.type === 'slack') {
    if (!b.settings.url) throw badRequest(`settings.url is required for a ${b.type} contact point`, { field: 'settings.url' });
    await checkOutgoingUrl(b.settings.url, 'settings.url');
  }
  if (b.type === 'email' && !b.settings.addresses?.length) throw badRequest('settings.addresses is required for an email contact point', { field: 'settings.addresses' });
  if (b.type === 'in_app' && !b.settings.user_ids?.length) throw badRequest('settings.user_ids is required for an in_app contact point', { field: 'settings.user_ids' });
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
      await check(req.body);
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
  env.route<unknown, { id: string }, CpBody>({
    method: 'PUT',
    path: '/contact-points/:id',
    permission: WRITE,
    summary: 'Replace a contact point',
    schema: { params: idParams, body, response: { 200: idAnswer } },
    async handler(req, ctx) {
      await contactPoint(ctx, req.params.id);
      await check(req.body);
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
  env.route<unknown, unknown, { contact_point_id: string }>({
    method: 'POST',
    path: '/test',
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
