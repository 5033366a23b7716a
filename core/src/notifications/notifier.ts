import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Transporter } from 'nodemailer';
import type { Notification, Notifier, PgMigration } from '@orrery/plugin-sdk';
import type { Bus } from '../types.ts';

export const notificationMigrations: PgMigration[] = [
  {
    name: '0002_notifications',
    async up(knex, schema) {
      await knex.schema.withSchema(schema).createTable('notifications', (t) => {
        t.uuid('id').primary();
        t.uuid('user_id').notNullable().index();
        t.string('subject', 300).notNullable();
        t.text('text').notNullable();
        t.string('link', 500);
        t.jsonb('data');
        t.timestamp('read_at', { useTz: true });
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
    },
  },
];

/**
 * The kernel's notification service, shared by plugins (adoption flags,
 * alerts): in-app (stored + pushed live on the user's topic), email through
 * the configured SMTP server, and Slack / generic webhooks named in the org's
 * settings (`notifications.slack_webhook_url`, `notifications.webhook_url`).
 */
export function createNotifier(deps: { knex: Knex; bus: Bus; smtpUrl: string; from: string; orgSchema(orgId: string): Promise<string | null> }): Notifier {
  // nodemailer is loaded on the first email, not at start
  let mailer: Promise<Transporter> | null = null;
  const getMailer = () => (mailer ??= import('nodemailer').then((m) => m.default.createTransport(deps.smtpUrl)));
  return {
    async send(n: Notification) {
      const schema = await deps.orgSchema(n.orgId);
      if (!schema) throw new Error(`unknown org ${n.orgId}`);
      const channels = n.channels ?? ['in_app', 'email'];
      const delivered: Array<{ channel: string; to: string; ok: boolean; error?: string }> = [];
      // only active members of the org: a user id from elsewhere never receives the org's notices
      const ids = n.to.filter((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id));
      const users = ids.length
        ? await deps.knex
            .withSchema('public')
            .table('users')
            .join('memberships', 'memberships.user_id', 'users.id')
            .where({ 'memberships.org_id': n.orgId, 'memberships.active': true })
            .whereIn('users.id', ids)
            .select('users.id', 'users.email')
        : [];
      const settings = Object.fromEntries(
        (await deps.knex.withSchema(schema).table('org_settings').whereIn('key', ['notifications.slack_webhook_url', 'notifications.webhook_url'])).map(
          (r: any) => [r.key, r.value],
        ),
      );
      if (channels.includes('in_app')) {
        for (const u of users) {
          const id = randomUUID();
          await deps.knex.withSchema(schema).table('notifications').insert({ id, user_id: u.id, subject: n.subject, text: n.text, link: n.link ?? null, data: n.data ?? null });
          await deps.bus.publish(n.orgId, { kind: 'user', id: u.id }, 'notifications.new', { id, subject: n.subject, text: n.text, link: n.link, data: n.data });
          delivered.push({ channel: 'in_app', to: u.id, ok: true });
        }
      }
      if (channels.includes('email')) {
        for (const u of users) {
          if (!deps.smtpUrl) {
            delivered.push({ channel: 'email', to: u.id, ok: false, error: 'no SMTP server configured (smtp.url)' });
            continue;
          }
          try {
            await (await getMailer()).sendMail({
              from: deps.from,
              to: u.email,
              subject: n.subject,
              text: n.link ? `${n.text}\n\n${n.link}` : n.text,
              ...(n.html ? { html: n.html } : {}),
              ...(n.attachments?.length ? { attachments: n.attachments.map((a) => ({ filename: a.filename, content: Buffer.from(a.content), contentType: a.contentType })) } : {}),
            });
            delivered.push({ channel: 'email', to: u.id, ok: true });
          } catch (err) {
            delivered.push({ channel: 'email', to: u.id, ok: false, error: (err as Error).message });
          }
        }
      }
      for (const [channel, key] of [
        ['slack', 'notifications.slack_webhook_url'],
        ['webhook', 'notifications.webhook_url'],
      ] as const) {
        if (!channels.includes(channel)) continue;
        const url = settings[key] as string | undefined;
        if (!url) {
          delivered.push({ channel, to: '', ok: false, error: `${key} is not set for this org` });
          continue;
        }
        // files go by email only: a webhook is told their names and sizes
        const { attachments, html: _html, ...plain } = n;
        const files = attachments?.map((a) => ({ filename: a.filename, content_type: a.contentType, bytes: a.content.byteLength }));
        const body = channel === 'slack' ? { text: `*${n.subject}*\n${n.text}${n.link ? `\n${n.link}` : ''}` } : { ...plain, ...(files ? { attachments: files } : {}) };
        try {
          const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
          delivered.push({ channel, to: url, ok: res.ok, ...(res.ok ? {} : { error: `HTTP ${res.status}` }) });
        } catch (err) {
          delivered.push({ channel, to: url, ok: false, error: (err as Error).message });
        }
      }
      return { delivered };
    },
  };
}
