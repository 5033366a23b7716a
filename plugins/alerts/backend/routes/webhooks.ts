/** Subscriptions of outside URLs to platform events (`POST /api/v1/webhooks`). */
import { randomUUID } from 'node:crypto';
import { badRequest, notFound, type PluginEnv } from '@orrery/plugin-sdk';
import { checkOutgoingUrl } from '../delivery.ts';
import { idAnswer, idParams, listOf, okAnswer, open, iso } from '../schemas.ts';
import { ADMIN } from '../permissions.ts';
import { PLATFORM_EVENTS } from '../platformEvents.ts';

export const WEBHOOK_PREFIX = 'webhooks';

export function registerWebhookRoutes(env: PluginEnv) {
  env.route({
    method: 'GET',
    path: '/catalogue',
    prefix: WEBHOOK_PREFIX,
    permission: ADMIN,
    summary: 'The platform events a webhook can subscribe to',
    schema: { response: { 200: listOf('events', open({ name: { type: 'string' }, description: { type: 'string' }, topic: { type: 'string' } })) } },
    async handler() {
      return { events: Object.entries(PLATFORM_EVENTS).map(([name, e]) => ({ name, description: e.description, ...(e.topic ? { topic: e.topic } : {}) })) };
    },
  });
  env.route<unknown, unknown, { url: string; events: string[]; secret?: string; test?: boolean }>({
    method: 'POST',
    path: '/',
    prefix: WEBHOOK_PREFIX,
    permission: ADMIN,
    summary: 'Subscribe an outside URL to platform events',
    description: 'Deliveries are JSON POSTs `{event, org_id, at, data}` with X-Event-ID, X-Retry-Count, X-Retry-After (on retries) and, with a secret, X-Orrery-Signature: sha256=<hex HMAC of the body>; 30 s timeout, 3 retries with exponential backoff, then a dead letter.',
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['url', 'events'],
        properties: {
          url: { type: 'string', minLength: 1, maxLength: 2000 },
          events: { type: 'array', minItems: 1, maxItems: 50, items: { type: 'string', minLength: 1, maxLength: 100 } },
          secret: { type: 'string', minLength: 8, maxLength: 200 },
          test: { type: 'boolean' },
        },
      },
      response: { 200: idAnswer },
    },
    async handler(req, ctx) {
      await checkOutgoingUrl(req.body.url, 'url');
      req.body.events.forEach((e, i) => {
        if (!(e in PLATFORM_EVENTS)) throw badRequest(`events[${i}]: unknown platform event "${e}"`, { field: `events[${i}]`, allowed: Object.keys(PLATFORM_EVENTS) });
      });
      const id = randomUUID();
      await ctx.db.table('webhook_subscriptions').insert({ id, url: req.body.url, events: JSON.stringify([...new Set(req.body.events)]), secret: req.body.secret ?? null });
      await ctx.audit({ action: 'webhooks.create', target: id, after: { url: req.body.url, events: req.body.events } });
      if (req.body.test) {
        const { enqueue } = await import('../delivery.ts');
        await enqueue(ctx, { target: `wh:${id}`, channel: 'webhook', event: 'webhook.test', body: { event: 'webhook.test', org_id: ctx.org.id, at: new Date().toISOString(), data: { subscription_id: id } } });
      }
      return { id };
    },
  });
  env.route({
    method: 'GET',
    path: '/',
    prefix: WEBHOOK_PREFIX,
    permission: ADMIN,
    summary: 'Webhook subscriptions (secrets are never shown)',
    schema: { response: { 200: listOf('webhooks', open({ id: { type: 'string' }, url: { type: 'string' }, events: { type: 'array', items: { type: 'string' } }, has_secret: { type: 'boolean' } })) } },
    async handler(_req, ctx) {
      const rows = await ctx.db.table('webhook_subscriptions').orderBy('created_at');
      return { webhooks: rows.map((r: any) => ({ id: r.id, url: r.url, events: r.events, has_secret: !!r.secret, created_at: iso(r.created_at) })) };
    },
  });
  env.route<unknown, { id: string }>({
    method: 'DELETE',
    path: '/:id',
    prefix: WEBHOOK_PREFIX,
    permission: ADMIN,
    summary: 'Delete a subscription (its queued deliveries become dead letters)',
    schema: { params: idParams, response: { 200: okAnswer } },
    async handler(req, ctx) {
      const n = await ctx.db.table('webhook_subscriptions').where({ id: req.params.id }).delete();
      if (!n) throw notFound(`no webhook ${req.params.id}`, { field: 'id' });
      return { ok: true };
    },
  });
}
