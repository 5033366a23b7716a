import type { FastifyInstance } from 'fastify';
import { HttpError } from '@orrery/plugin-sdk';
import type { KernelModule } from '../types.ts';
import type { Internals } from '../internals.ts';
import { errorSchema } from '../http/schemas.ts';
import { notificationMigrations } from './notifier.ts';

/** The kernel services this module uses (a part of the container, not all of it). */
export type NotificationsDeps = Pick<Internals, 'knex' | 'notifier'>;

const item = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    subject: { type: 'string' },
    text: { type: 'string' },
    link: { type: ['string', 'null'] },
    data: {},
    read_at: { type: ['string', 'null'] },
    created_at: { type: 'string' },
  },
};

/** The caller's in-app notifications, and a test send through every channel (like a contact point's "Test"). */
export const notificationsModule: KernelModule<NotificationsDeps> = {
  name: 'notifications',
  migrations: { org: notificationMigrations },
  register(app: FastifyInstance, s: NotificationsDeps) {
    app.get<{ Querystring: { unread?: boolean; limit: number; before?: string } }>(
      '/api/v1/notifications',
      {
        config: { permission: 'authenticated' },
        schema: {
          tags: ['notifications'],
          summary: "The caller's in-app notifications, newest first (paginate with `before`)",
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              unread: { type: 'boolean' },
              limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
              before: { type: 'string', format: 'date-time', description: 'only notifications created before this instant' },
            },
          },
          response: { 200: { type: 'object', properties: { notifications: { type: 'array', items: item }, unread: { type: 'integer' } } } },
        },
      },
      async (req) => {
        const { org, caller } = req.auth!;
        const t = () => s.knex.withSchema(org.schema).table('notifications').where({ user_id: caller.userId });
        let q = t().orderBy('created_at', 'desc').limit(req.query.limit);
        if (req.query.unread) q = q.whereNull('read_at');
        if (req.query.before) q = q.where('created_at', '<', new Date(req.query.before));
        const rows = await q;
        const [{ n }] = await t().whereNull('read_at').count({ n: '*' });
        return {
          notifications: rows.map((r: any) => ({ ...r, created_at: new Date(r.created_at).toISOString(), read_at: r.read_at ? new Date(r.read_at).toISOString() : null })),
          unread: Number(n),
        };
      },
    );

    app.post<{ Body: { ids?: string[]; all?: boolean } }>(
      '/api/v1/notifications/read',
      {
        config: { permission: 'authenticated' },
        schema: {
          tags: ['notifications'],
          summary: 'Mark notifications read (some ids, or all)',
          body: {
            type: 'object',
            additionalProperties: false,
            properties: { ids: { type: 'array', maxItems: 500, items: { type: 'string', format: 'uuid' } }, all: { type: 'boolean' } },
          },
          response: { 200: { type: 'object', properties: { updated: { type: 'integer' } } }, 400: errorSchema },
        },
      },
      async (req) => {
        const { org, caller } = req.auth!;
        if (!req.body.all && !req.body.ids?.length) throw new HttpError(400, 'bad_request', 'give ids or all: true');
        let q = s.knex.withSchema(org.schema).table('notifications').where({ user_id: caller.userId }).whereNull('read_at');
        if (!req.body.all) q = q.whereIn('id', req.body.ids!);
        return { updated: await q.update({ read_at: new Date() }) };
      },
    );

    app.post<{ Body: { channels?: Array<'in_app' | 'email' | 'slack' | 'webhook'> } }>(
      '/api/v1/notifications/test',
      {
        config: { permission: 'authenticated' },
        schema: {
          tags: ['notifications'],
          summary: 'Send yourself a test notification through the given channels and report each delivery',
          body: {
            type: 'object',
            additionalProperties: false,
            properties: { channels: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: ['in_app', 'email', 'slack', 'webhook'] } } },
          },
          response: {
            200: {
              type: 'object',
              properties: { delivered: { type: 'array', items: { type: 'object', properties: { channel: { type: 'string' }, to: { type: 'string' }, ok: { type: 'boolean' }, error: { type: 'string' } } } } },
            },
          },
        },
      },
      async (req) => {
        const { org, caller } = req.auth!;
        return s.notifier.send({
          orgId: org.id,
          to: [caller.userId],
          subject: 'Orrery test notification',
          text: `This is a test notification for ${caller.email} in ${org.name}.`,
          channels: req.body.channels ?? ['in_app'],
        });
      },
    );
  },
};
