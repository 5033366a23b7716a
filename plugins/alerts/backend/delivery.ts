/**
 * Outgoing deliveries (contact points and webhook subscriptions): persisted in
 * `alert_deliveries` before anything is sent, sent in order per target, retried
 * with exponential backoff (3 retries, the last within the hour), then kept as
 * dead letters that an Admin can redeliver. A delivery is marked sent only after
 * the receiver answered 2xx, so a restart resends at most the one in flight
 * (receivers deduplicate on `X-Event-ID`); nothing queued is lost.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { HttpError, type TenantContext } from '@orrery/plugin-sdk';
import { onCallUser, renderMessage, type Rotation } from './messages.ts';

export const MAX_PAYLOAD_BYTES = 256 * 1024;
export const TIMEOUT_MS = 30_000;
export const MAX_RETRIES = 3;

export interface DeliveryConfig {
  /** first retry delay; each next one is 4× longer (60 s → 60 s, 4 min, 16 min) */
  retryBaseSeconds: number;
  /**
   * rate limit per target (a contact point or a subscription): at most `max` deliveries sent in
   * any `windowSeconds`; the rest wait their turn, in order (nothing is dropped)
   */
  rateLimit?: { max: number; windowSeconds: number };
}

export type Channel = 'webhook' | 'slack' | 'email' | 'in_app' | 'on_call' | 'org_slack' | 'org_webhook';

export interface ContactPoint {
  id: string;
  name: string;
  type: Channel;
  settings: { url?: string; addresses?: string[]; user_ids?: string[]; secret?: string };
}

const allowPrivate = () => process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE === 'true';

/** Loopback, private, link-local, unspecified, CGNAT and ULA ranges. */
export function isPrivateAddress(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    return a === 127 || a === 10 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
  }
  const v = ip.toLowerCase();
  const mapped = v.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/);
  if (mapped) return isPrivateAddress(mapped[1]!);
  return v === '::1' || v === '::' || v.startsWith('fc') || v.startsWith('fd') || /^fe[89ab]/.test(v);
}

/** Throws a 400 naming `field` when the URL is not http(s) or resolves to a private address (unless allowed). */
export async function checkOutgoingUrl(url: string, field: string): Promise<void> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new HttpError(400, 'bad_request', `${field}: not a URL`, { field });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new HttpError(400, 'bad_request', `${field}: only http and https URLs are allowed`, { field });
  if (allowPrivate()) return;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    throw new HttpError(400, 'bad_request', `${field}: host "${host}" does not resolve`, { field });
  }
  const priv = addresses.find(isPrivateAddress);
  if (priv)
    throw new HttpError(400, 'bad_request', `${field}: "${host}" resolves to ${priv}, a loopback, private or link-local address (set ORRERY_WEBHOOKS_ALLOW_PRIVATE=true for on-premise receivers)`, {
      field,
    });
}

export const sign = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** Queues one delivery; `body` is the JSON payload (the email/Slack text is made from it at send time). */
export async function enqueue(
  ctx: TenantContext,
  d: { target: string; channel: Channel; event: string; body: unknown; rule_id?: string | null },
  trx?: { table(name: string): any },
): Promise<string> {
  const text = JSON.stringify(d.body);
  if (Buffer.byteLength(text) > MAX_PAYLOAD_BYTES) throw new Error(`payload of ${Buffer.byteLength(text)} bytes is over the ${MAX_PAYLOAD_BYTES}-byte limit`);
  const id = randomUUID();
  const row = { id, target: d.target, channel: d.channel, event: d.event, rule_id: d.rule_id ?? null, body: text, status: 'pending', attempts: 0, next_attempt_at: new Date() };
  if (trx) await trx.table('alert_deliveries').insert(row);
  else await ctx.db.table('alert_deliveries').insert(row);
  return id;
}

interface Target {
  url?: string;
  secret?: string;
  addresses?: string[];
  user_ids?: string[];
  title_template?: string;
  text_template?: string;
  rotation_start?: string;
  period_days?: number;
  /** on_call: how the person on call hears of it (default in_app) */
  channel?: 'in_app' | 'email';
}

async function targetOf(ctx: TenantContext, target: string): Promise<Target | null> {
  const [kind, id] = target.split(':') as [string, string];
  if (kind === 'cp') {
    const cp = await ctx.db.table('alert_contact_points').where({ id }).first();
    return cp ? (cp.settings as Target) : null;
  }
  const sub = await ctx.db.table('webhook_subscriptions').where({ id }).first();
  return sub ? { url: sub.url, secret: sub.secret ?? undefined } : null;
}

function summary(body: any, t: Target = {}): { subject: string; text: string } {
  if (body && Array.isArray(body.alerts)) {
    if (t.title_template || t.text_template) {
      const plain = summary(body);
      return { subject: t.title_template ? renderMessage(t.title_template, body) : plain.subject, text: t.text_template ? renderMessage(t.text_template, body) : plain.text };
    }
    const firing = body.alerts.filter((a: any) => a.status === 'firing').length;
    const name = body.commonLabels?.alertname ?? body.groupLabels?.alertname ?? 'alerts';
    const subject = `[${String(body.status).toUpperCase()}${firing ? `:${firing}` : ''}] ${name}`;
    const lines = body.alerts.map(
      (a: any) =>
        `- ${a.status}: ${Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(', ')} value=${JSON.stringify(a.values)}${a.annotations?.summary ? ` — ${a.annotations.summary}` : ''}`,
    );
    return { subject, text: lines.join('\n') };
  }
  return { subject: `Orrery: ${body?.event ?? 'notification'}`, text: JSON.stringify(body, null, 2) };
}

/** Sends one delivery once; throws with a reason on failure. */
async function sendOnce(ctx: TenantContext, cfg: DeliveryConfig, row: any, t: Target): Promise<void> {
  const body = JSON.parse(row.body);
  if (row.channel === 'webhook' || row.channel === 'slack') {
    if (!t.url) throw new Error('no url');
    await checkOutgoingUrl(t.url, 'settings.url').catch((e: Error) => {
      throw new Error(e.message);
    });
    const templated = (t.title_template || t.text_template) && Array.isArray(body?.alerts);
    const payload =
      row.channel === 'slack' ? JSON.stringify((() => { const s = summary(body, t); return { text: `*${s.subject}*\n${s.text}` }; })())
      // a webhook with message templates carries the rendered title and message next to API.md's body
      : templated ? JSON.stringify((() => { const s = summary(body, t); return { ...body, title: s.subject, message: s.text }; })())
      : row.body;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-event-id': row.id, 'x-retry-count': String(row.attempts) };
    if (row.attempts > 0) headers['x-retry-after'] = String(retryDelaySeconds(cfg, row.attempts - 1));
    if (t.secret) headers['x-orrery-signature'] = sign(t.secret, payload);
    const res = await fetch(t.url, { method: 'POST', headers, body: payload, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'manual' });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status}`);
  } else if (row.channel === 'email') {
    // the kernel's SMTP settings (`smtp.url`, `smtp.from`): one place to configure mail
    const s = summary(body, t);
    await ctx.mail.send({ to: t.addresses ?? [], subject: s.subject, text: s.text, headers: { 'X-Event-ID': row.id } });
  } else if (row.channel === 'org_slack' || row.channel === 'org_webhook') {
    // read through to the org's notification settings: the kernel notifier holds the URLs
    const s = summary(body, t);
    const channel = row.channel === 'org_slack' ? 'slack' : 'webhook';
    const r = await ctx.notify.send({ orgId: ctx.org.id, to: [], subject: s.subject, text: s.text, channels: [channel], data: { event_id: row.id, retry_count: row.attempts, body } });
    const failed = r.delivered.filter((x) => !x.ok);
    if (failed.length || !r.delivered.length) throw new Error(failed.map((f) => f.error).join('; ') || `no ${channel} URL in the org's notification settings`);
  } else if (row.channel === 'on_call' && t.channel === 'email') {
    // the person whose turn it is now, at the address the directory holds for them
    const s = summary(body, t);
    const userId = onCallUser(t as Rotation, new Date());
    const [member] = await ctx.directory.members({ ids: [userId] });
    if (!member?.email) throw new Error(`on-call user ${userId} is not an active member with an email address`);
    await ctx.mail.send({ to: [member.email], subject: s.subject, text: s.text, headers: { 'X-Event-ID': row.id } });
  } else {
    // in_app, or on_call (in-app by default): the one person whose turn it is now
    const s = summary(body, t);
    const to = row.channel === 'on_call' && t.user_ids?.length && t.rotation_start ? [onCallUser(t as Rotation, new Date())] : (t.user_ids ?? []);
    const r = await ctx.notify.send({ orgId: ctx.org.id, to, subject: s.subject, text: s.text, channels: ['in_app'], data: { event_id: row.id } });
    const failed = r.delivered.filter((x) => !x.ok);
    if (failed.length) throw new Error(failed.map((f) => f.error).join('; '));
  }
}

export const retryDelaySeconds = (cfg: DeliveryConfig, retry: number) => cfg.retryBaseSeconds * 4 ** retry;

/**
 * Sends every due delivery: per target the oldest pending first, and nothing
 * newer for a target whose oldest is waiting for a retry (order per target).
 * Targets are served in parallel. Returns counts.
 */
export async function deliverDue(ctx: TenantContext, cfg: DeliveryConfig, now = new Date()) {
  const pending = await ctx.db.table('alert_deliveries').where({ status: 'pending' }).orderBy('seq').limit(2000);
  const byTarget = new Map<string, any[]>();
  for (const r of pending) {
    if (!byTarget.has(r.target)) byTarget.set(r.target, []);
    byTarget.get(r.target)!.push(r);
  }
  let sent = 0;
  let failed = 0;
  await Promise.all(
    [...byTarget.entries()].map(async ([target, rows]) => {
      const t = await targetOf(ctx, target);
      // what the target may still take in the current rate-limit window
      let allowance = Infinity;
      if (cfg.rateLimit) {
        const since = new Date(now.getTime() - cfg.rateLimit.windowSeconds * 1000);
        const [{ n }] = await ctx.db.table('alert_deliveries').where({ target, status: 'sent' }).andWhere('sent_at', '>', since).count({ n: '*' });
        allowance = cfg.rateLimit.max - Number(n);
      }
      for (const row of rows) {
        if (new Date(row.next_attempt_at) > now) return;
        if (allowance <= 0) return; // rate limited: the rest wait, in order, for a later round
        allowance--;
        if (!t) {
          await ctx.db.table('alert_deliveries').where({ id: row.id }).update({ status: 'dead', last_error: 'the contact point or subscription was deleted' });
          continue;
        }
        try {
          await sendOnce(ctx, cfg, row, t);
          await ctx.db.table('alert_deliveries').where({ id: row.id }).update({ status: 'sent', sent_at: new Date(), last_error: null });
          sent++;
        } catch (err) {
          failed++;
          const retries = row.attempts; // attempts before this one that were retries
          const dead = retries >= MAX_RETRIES;
          await ctx.db
            .table('alert_deliveries')
            .where({ id: row.id })
            .update({
              attempts: row.attempts + 1,
              status: dead ? 'dead' : 'pending',
              last_error: (err as Error).message.slice(0, 1000),
              next_attempt_at: new Date(Date.now() + (dead ? 0 : retryDelaySeconds(cfg, retries) * 1000)),
            });
          if (!dead) return; // keep the order: nothing newer for this target until this one goes
        }
      }
    }),
  );
  return { sent, failed };
}
