/**
 * Platform health: the platform's own series (requests, errors and latency per route
 * class, plugin and route; dashboard loads; CPU, memory and event loop; stores, caches,
 * ingestion, rollups, sockets, jobs) kept in ClickHouse with their own retention, SLA
 * compliance, capacity, and each org's usage against its tier. The kernel measures
 * (core/src/health, `ctx.platform`); this plugin keeps, shows and offers the series.
 */
import { alertTemplatesRef, definePlugin, need, provide, trendsRef } from '@orrery/plugin-sdk';
import { OPERATOR, REPORT, USAGE, registerRoutes } from './routes.ts';
import { seriesMigration } from './series.ts';
import { sampler } from './sampler.ts';
import { healthMetrics } from './source.ts';
import { performanceTemplates } from './alertTemplates.ts';
import { widgets } from '../widgets.ts';

export default definePlugin({
  from: import.meta.url,
  id: 'platform-health',
  version: '1.0.0',
  sdk: '^2.0.0',
  title: 'Platform health',
  description: "The platform's own performance series, SLA compliance and capacity for the operator, and each org's usage against its tier for its Admins",
  routePrefix: 'platform-health',
  extraRoutePrefixes: ['usage'],
  permissions: {
    [USAGE]: ['Admin'],
    [REPORT]: ['Admin', 'Manager', 'Developer'],
    // and the caller must be the platform operator (checked by ctx.platform.operator())
    [OPERATOR]: ['Admin'],
  },
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      retentionDays: { type: 'integer', minimum: 1, maximum: 3650, default: 30 },
      /** the node-wide figures are taken at most this often (the job runs once per org every 10 s) */
      nodeSampleMinSeconds: { type: 'number', minimum: 0, maximum: 3600, default: 8 },
      ingestCapacityEventsPerSecond: { type: 'number', minimum: 1, default: 2442 },
    },
  },
  migrations: { clickhouse: [seriesMigration] },
  frontend: { remoteName: 'platform_health', distDir: './frontend/dist', widgets },
  provides: [
    healthMetrics,
    // the PRD's performance alerts, as templates the alerts plugin offers
    provide(alertTemplatesRef, (ctx) => ({ templates: performanceTemplates(ctx.platform.org.sla.dashboardMs) })),
  ],
  needs: [need(trendsRef, '^1.0.0', { optional: true })],
  register(env) {
    registerRoutes(env);
    env.job(sampler);
  },
});
