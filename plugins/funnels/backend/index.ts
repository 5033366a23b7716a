/**
 * Funnels and workflow analytics: ad-hoc funnels over any event steps, and the
 * analytics of the workflows people enrol in (`workflow_step` events). See README.md.
 */
import { definePlugin } from '@orrery/plugin-sdk';
import { READ, WRITE, registerFunnelQuery } from './funnel/routes.ts';
import { registerWorkflowRoutes } from './workflows/routes.ts';
import { registerStreamRoute } from './workflows/stream.ts';
import { registerChangeRoute } from './workflows/change.ts';
import { registerAdherenceRoutes } from './workflows/adherence.ts';
import { registerInsightRoutes } from './funnel/insights.ts';
import { registerSavedRoutes, savedMigrations } from './funnel/saved.ts';
import { demoData } from './funnel/demo.ts';
import { pages, TOPIC, widgets } from '../widgets.ts';
import { funnelMetrics } from './contracts.ts';
import { ENROLMENTS, chMigrations } from './workflows/rollup.ts';

export default definePlugin({
  from: import.meta.url,
  id: 'funnels',
  version: '1.0.0',
  sdk: '^2.2.0',
  title: 'Funnels and workflows',
  description: 'Ad-hoc funnels over any events, and workflow adoption: enrolment, drop-off, time per step, adherence',
  routePrefix: 'funnels',
  extraRoutePrefixes: ['workflows'],
  permissions: { [READ]: ['Admin', 'Manager', 'Developer'], [WRITE]: ['Admin', 'Manager', 'Developer'] },
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      rateLimitPerMinute: { type: 'integer', minimum: 1, maximum: 100000, default: 60, description: 'requests per minute per user on each funnel query and workflow analytics route' },
    },
  },
  migrations: { pg: savedMigrations, clickhouse: chMigrations },
  // the kernel folds it off the insert path; the workflow figures read it (workflows/rollup.ts)
  rollups: [ENROLMENTS],
  topics: [TOPIC],
  frontend: { remoteName: 'funnels', distDir: './frontend/dist', widgets, pages },
  provides: [funnelMetrics],
  register(env) {
    registerFunnelQuery(env);
    registerInsightRoutes(env);
    registerSavedRoutes(env);
    registerWorkflowRoutes(env);
    registerStreamRoute(env);
    registerChangeRoute(env);
    registerAdherenceRoutes(env);
    env.onDemoData(demoData);

    // widgets refetch when workflow events are committed: one message per committed batch
    env.onEvents({
      types: ['workflow_step'],
      async handle(events, ctx) {
        const byWorkflow: Record<string, { enrolled: number; goal_reached: number; exited: number; events: number }> = {};
        for (const e of events) {
          const w = (byWorkflow[String(e.workflow_id ?? '')] ??= { enrolled: 0, goal_reached: 0, exited: 0, events: 0 });
          w.events++;
          if (e.action === 'enrolled' || e.action === 'goal_reached' || e.action === 'exited') w[e.action]++;
        }
        await ctx.bus.publish(TOPIC, { workflows: byWorkflow });
      },
    });
  },
});
