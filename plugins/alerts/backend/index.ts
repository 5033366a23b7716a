/**
 * Alerts: rules over metrics queries, evaluated on a schedule into Grafana's
 * states; a notification policy tree, silences and contact points; outgoing
 * webhooks for platform events, with persisted deliveries, retries and dead
 * letters. Everything the plugin offers is declared here. See README.md.
 */
import { alertTemplatesRef, definePlugin, metricsQueryRef, need, trendsRef } from '@orrery/plugin-sdk';
import { pgMigrations } from './migrations.ts';
import { ADMIN, READ, WRITE } from './permissions.ts';
import { registerRuleRoutes } from './routes/rules.ts';
import { ADMIN_ALERTS_PREFIX, registerContactPointRoutes } from './routes/contactPoints.ts';
import { registerRoutingRoutes } from './routes/routing.ts';
import { registerWebhookRoutes, WEBHOOK_PREFIX } from './routes/webhooks.ts';
import { dispatch } from './engine.ts';
import { evaluateDue } from './evaluation.ts';
import { yieldToLoop } from './slicer.ts';
import { deliverDue, type DeliveryConfig } from './delivery.ts';
import { pages, widgets } from '../widgets.ts';
import { registerPlatformEvents } from './platformEvents.ts';
import { alertsStatus } from './status.ts';
import { pruneSignals } from './signals.ts';
import { demoData } from './demo.ts';

export interface AlertsConfig {
  /** first retry delay of a failed delivery (then ×4): 60 s gives retries at 1, 5 and 21 minutes */
  retryBaseSeconds?: number;
  /** at most this many deliveries per target (contact point or subscription) in `rateLimitWindowSeconds`; 0 = no limit */
  rateLimitPerTarget?: number;
  rateLimitWindowSeconds?: number;
}

/** How often the job looks for due rules and deliveries; rules run on their own interval (≥ 10 s). */
export const TICK_SECONDS = 2;

export default definePlugin<AlertsConfig>({
  from: import.meta.url,
  id: 'alerts',
  version: '1.0.0',
  sdk: '^2.0.0',
  title: 'Alerts',
  description: 'Alert rules over any metric, notification routing, silences, contact points and outgoing webhooks',
  routePrefix: 'alerts',
  extraRoutePrefixes: [WEBHOOK_PREFIX, ADMIN_ALERTS_PREFIX],
  permissions: { [READ]: ['Admin', 'Manager', 'Developer'], [WRITE]: ['Admin', 'Manager'], [ADMIN]: ['Admin'] },
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      retryBaseSeconds: { type: 'number', minimum: 0.1, maximum: 600, default: 60 },
      rateLimitPerTarget: { type: 'integer', minimum: 0, maximum: 100_000, default: 0 },
      rateLimitWindowSeconds: { type: 'number', minimum: 1, maximum: 86_400, default: 60 },
    },
  },
  migrations: { pg: pgMigrations },
  // rules are metrics queries: the metrics plugin answers them; anomaly conditions ask the trends plugin for the expected band
  needs: [need(metricsQueryRef, '^1.0.0'), need(trendsRef, '^1.0.0', { optional: true }), need(alertTemplatesRef, '^1.0.0', { optional: true })],
  // what is firing, for summaries such as the executive view
  provides: [alertsStatus],
  topics: ['firing'],
  frontend: { remoteName: 'alerts', distDir: './frontend/dist', widgets, pages },
  register(env) {
    registerRuleRoutes(env);
    registerContactPointRoutes(env);
    registerRoutingRoutes(env);
    registerWebhookRoutes(env);
    env.onDemoData(demoData);
    registerPlatformEvents(env);
    env.job({
      name: 'tick',
      everySeconds: TICK_SECONDS,
      async run(ctx) {
        const c = ctx.config as AlertsConfig;
        const limit = c.rateLimitPerTarget ?? 0;
        const cfg: DeliveryConfig = { retryBaseSeconds: c.retryBaseSeconds ?? 60, rateLimit: limit > 0 ? { max: limit, windowSeconds: c.rateLimitWindowSeconds ?? 60 } : undefined };
        const durations = await evaluateDue(ctx);
        // each step gives the event loop a turn: the routes share this thread with the round
        await yieldToLoop();
        const { queued } = await dispatch(ctx);
        await yieldToLoop();
        const { sent, failed } = await deliverDue(ctx, cfg);
        if (durations.length || queued || sent || failed) ctx.answersChanged();
        return { evaluated: durations.length, queued, sent, failed };
      },
    });
    env.job({
      name: 'prune-signals',
      everySeconds: 86_400,
      async run(ctx) {
        return { removed: await pruneSignals(ctx, new Date()) };
      },
    });
  },
});
