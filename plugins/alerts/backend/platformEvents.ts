/**
 * The platform-event catalogue: what a webhook subscription can ask for, and which bus
 * topic (kernel or plugin) each event comes from. A bus message becomes a durable
 * delivery row per subscription (`publishPlatformEvent`), so the receiver being down or
 * a restart loses nothing once the row is written.
 */
import type { BusMessage, PluginEnv, TenantContext } from '@orrery/plugin-sdk';
import { enqueue } from './delivery.ts';
import { recordSignal, SIGNAL_TOPICS } from './signals.ts';

export interface PlatformEvent {
  description: string;
  /** the bus topic it comes from; absent when the plugin publishes it itself */
  topic?: string;
  /** the webhook's `data` for a message, or null when the message is not this event */
  data?(msg: BusMessage<any>): unknown;
}

const orgWide = (msg: BusMessage) => msg.scope?.kind === 'org';

export const PLATFORM_EVENTS: Record<string, PlatformEvent> = {
  'alert.firing': { description: 'an alert instance started firing' },
  'alert.resolved': { description: 'a firing alert instance resolved (or its rule was deleted)' },
  'data_quality.firing': {
    description: 'an ingestion data-quality condition started firing (validation_failures, silence, duplicates, latency)',
    topic: 'ingestion.quality',
    data: (m) => (m.payload?.state === 'firing' ? m.payload : null),
  },
  'data_quality.resolved': {
    description: 'an ingestion data-quality condition resolved',
    topic: 'ingestion.quality',
    data: (m) => (m.payload?.state === 'resolved' ? m.payload : null),
  },
  'event.quarantined': {
    description: 'ingested events failed validation and were quarantined (sent when ingestion publishes `ingestion.quarantined`)',
    topic: 'ingestion.quarantined',
    data: (m) => m.payload,
  },
  'user.deleted': { description: "a user's events were deleted (right to erasure)", topic: 'ingestion.user_deleted', data: (m) => m.payload },
  'user.flagged': {
    description: 'adoption flagged a user as needing support',
    topic: 'adoption.flags',
    data: (m) => (orgWide(m) && m.payload?.kind === 'raised' ? { flag_id: m.payload.flag_id, user_id: m.payload.user_id, day: m.payload.day, score: m.payload.score, triggers: m.payload.triggers } : null),
  },
  'user.recovered': {
    description: "a user's adoption flag resolved",
    topic: 'adoption.flags',
    data: (m) => (orgWide(m) && m.payload?.kind === 'resolved' ? { flag_id: m.payload.flag_id, user_id: m.payload.user_id, day: m.payload.day } : null),
  },
  'plugin.switched': {
    description: 'a plugin was turned on or off for the org',
    topic: 'kernel.plugins.changed',
    data: (m) => ({ plugin_id: m.payload?.pluginId, enabled: m.payload?.enabled }),
  },
  'member.added': { description: 'a member joined the org (created, or an invitation accepted)', topic: 'kernel.members.added', data: (m) => m.payload },
  'member.removed': { description: 'a member was removed from the org', topic: 'kernel.members.removed', data: (m) => m.payload },
  'webhook.test': { description: 'sent once when a subscription is created with `test: true`' },
};

/** Queues a platform event for every webhook subscription of the org that asked for it. */
export async function publishPlatformEvent(ctx: TenantContext, event: string, data: unknown, at = new Date().toISOString()) {
  const subs = await ctx.db.table('webhook_subscriptions').select('id', 'events');
  for (const s of subs) {
    if (!(s.events as string[]).includes(event)) continue;
    await enqueue(ctx, { target: `wh:${s.id}`, channel: 'webhook', event, body: { event, org_id: ctx.org.id, at, data } });
  }
}

/** One bus subscription for every topic of the catalogue: each message becomes the events it maps to. */
export function registerPlatformEvents(env: PluginEnv) {
  const byTopic = new Map<string, Array<[string, PlatformEvent]>>();
  for (const [name, e] of Object.entries(PLATFORM_EVENTS)) {
    if (!e.topic) continue;
    byTopic.set(e.topic, [...(byTopic.get(e.topic) ?? []), [name, e]]);
  }
  env.onBus({
    topics: [...new Set([...byTopic.keys(), ...SIGNAL_TOPICS])],
    async handle(msg, ctx) {
      for (const [name, e] of byTopic.get(msg.topic) ?? []) {
        const data = e.data!(msg);
        if (data === null || data === undefined) continue;
        await publishPlatformEvent(ctx, name, data, msg.at);
      }
      // after the deliveries, so that recording a signal never reorders the webhooks of the messages behind it
      if (SIGNAL_TOPICS.includes(msg.topic)) await recordSignal(ctx, msg);
    },
  });
}
