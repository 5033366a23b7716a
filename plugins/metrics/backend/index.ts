/**
 * Metrics: the one query language for a number over events (API.md → "Metrics"),
 * offered as `POST /api/v1/metrics/query` and as the `metricsQueryRef` service that
 * alerts, trends and reports use; saved custom metrics per org; the seed routes
 * `/metrics/executions` and `/metrics/credits`; the "Metric" widget. See README.md.
 *
 * The prefix `metrics` coexists with user-activity's `metrics/dau`: the loader refuses
 * only an identical prefix, and this plugin has no `/dau` route.
 */
import { definePlugin, metricSourceRef, metricsQueryRef, need, provide } from '@orrery/plugin-sdk';
import { READ, WRITE } from './permissions.ts';
import { metricsService, type MetricsConfig } from './service.ts';
import { registerQueryRoute } from './routes/query.ts';
import { registerBatchRoute } from './routes/batch.ts';
import { customMigrations, registerCustomRoutes } from './routes/custom.ts';
import { registerSeedRoutes } from './routes/seeds.ts';
import { pages, widgets } from '../widgets.ts';
import { EVENTS_ROLLUP, clickhouseMigrations } from './rollups.ts';

export default definePlugin<MetricsConfig>({
  from: import.meta.url,
  id: 'metrics',
  version: '1.0.0',
  sdk: '^1.0.0 || ^2.0.0',
  title: 'Metrics',
  description: 'One metrics query over any event type or metric source, custom metrics, executions and credits over time',
  routePrefix: 'metrics',
  permissions: { [READ]: ['Admin', 'Manager', 'Developer'], [WRITE]: ['Admin', 'Manager', 'Developer'] },
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      queryTimeoutSeconds: { type: 'number', minimum: 0.1, maximum: 600, default: 15 },
      useRollups: { type: 'boolean', default: true, description: 'answer from the plugin\'s rollups where they hold a question exactly' },
    },
  },
  migrations: { pg: customMigrations, clickhouse: clickhouseMigrations },
  rollups: [EVENTS_ROLLUP],
  provides: [provide(metricsQueryRef, metricsService)],
  needs: [need(metricSourceRef, '^1.0.0', { optional: true })],
  frontend: { remoteName: 'metrics', distDir: './frontend/dist', widgets, pages },
  register(env) {
    registerQueryRoute(env);
    registerBatchRoute(env);
    registerCustomRoutes(env);
    registerSeedRoutes(env);
  },
});
