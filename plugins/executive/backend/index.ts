/**
 * Executive: budgets with their burn rate and month-end projection (also a metric source
 * alert rules can watch), KPIs with targets, what is firing, forecasts and insights in
 * plain words, and the Executive dashboard. Cost and usage are read through the metrics
 * query; forecasts through the trends service; firing alerts through the alerts status
 * service. See README.md.
 */
import { budgetAlertTemplates } from './alertTemplates.ts';
import { alertsStatusRef, definePlugin, metricsQueryRef, need, trendsRef } from '@orrery/plugin-sdk';
import { pgMigrations } from './migrations.ts';
import { ADMIN, READ } from './permissions.ts';
import { registerBudgetRoutes } from './budgets.ts';
import { demoData } from './demo.ts';
import { registerExecutiveRoutes } from './routes.ts';
import { budgetMetrics } from './metricSource.ts';
import { BUDGETS_PREFIX } from './common.ts';
import { PLUGIN_VERSION, TOPIC_BUDGETS, TOPIC_KPIS, widgets } from '../widgets.ts';

export default definePlugin({
  from: import.meta.url,
  id: 'executive',
  version: PLUGIN_VERSION,
  sdk: '^2.0.0',
  title: 'Executive',
  description: 'Budgets, burn rate and month-end projection, KPIs with targets, firing alerts, forecasts and insights in plain words',
  routePrefix: 'executive',
  extraRoutePrefixes: [BUDGETS_PREFIX],
  permissions: { [READ]: ['Admin', 'Manager', 'Developer'], [ADMIN]: ['Admin'] },
  migrations: { pg: pgMigrations },
  topics: [TOPIC_BUDGETS, TOPIC_KPIS],
  provides: [budgetMetrics, budgetAlertTemplates],
  needs: [
    // cost and usage: the metrics query over the org's events
    need(metricsQueryRef, '^1.2.0'),
    // forecasts; without trends /executive/forecast answers 424 and the rest works
    need(trendsRef, '^1.0.0', { optional: true }),
    // what is firing; without alerts /executive/alerts answers empty and says so
    need(alertsStatusRef, '^1.0.0', { optional: true }),
  ],
  frontend: { remoteName: 'executive', distDir: './frontend/dist', widgets },
  register(env) {
    registerBudgetRoutes(env);
    registerExecutiveRoutes(env);
    env.onDemoData(demoData);
  },
});
