/**
 * Cohorts and retention: who stays, who leaves. Retention tables and curves
 * (`retention.ts`), saved cohorts with membership history (`cohorts.ts`), and
 * spend per cohort (`spend.ts`). Everything the plugin offers is declared here.
 */
import { definePlugin, need, userScoreRef } from '@orrery/plugin-sdk';
import { registerRetentionRoutes } from './routes/retention.ts';
import { registerCohortRoutes } from './routes/cohorts.ts';
import { registerChurnRoutes } from './routes/churn.ts';
import { pgMigrations } from './store.ts';
import { recomputeDynamicCohorts } from './cohorts.ts';
import { demoData } from './demo.ts';
import { READ, WRITE } from './permissions.ts';
import { pages, widgets } from '../widgets.ts';
import { ACTIVITY, chMigrations } from './rollup.ts';
import { cohortFilters, cohortMetrics } from './contracts.ts';

export default definePlugin({
  from: import.meta.url,
  id: 'cohorts',
  version: '0.1.0',
  sdk: '^2.0.0',
  title: 'Cohorts and retention',
  description: 'Retention tables and curves, saved behavioural and static cohorts, spend per cohort',
  routePrefix: 'cohorts',
  // the seed's `GET /api/v1/users/cohorts`: a static path beside user-activity's `/api/v1/users…` routes
  extraRoutePrefixes: ['users/cohorts'],
  permissions: { [READ]: ['Admin', 'Manager', 'Developer'], [WRITE]: ['Admin', 'Manager'] },
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  migrations: { pg: pgMigrations, clickhouse: chMigrations },
  rollups: [ACTIVITY],
  topics: ['cohort-recomputed'],
  frontend: { remoteName: 'cohorts', distDir: './frontend/dist', widgets, pages },
  provides: [cohortMetrics, cohortFilters],
  // score-band criteria read the adoption score through the SDK; without a provider they answer 424
  needs: [need(userScoreRef, '^1.0.0', { optional: true })],
  register(env) {
    env.onDemoData(demoData);
    registerRetentionRoutes(env);
    registerChurnRoutes(env);
    registerCohortRoutes(env);
    env.job({
      name: 'recompute-dynamic-cohorts',
      everySeconds: 3600,
      async run(ctx) {
        return recomputeDynamicCohorts(ctx);
      },
    });
  },
});
