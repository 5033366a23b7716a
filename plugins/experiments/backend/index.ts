/**
 * Experiments: A/B tests of agent variants (versions, prompt templates, models)
 * or of workflows, with frequentist, sequential and Bayesian statistics, an SRM
 * check, guardrails and a recommendation. See README.md.
 */
import { definePlugin } from '@orrery/plugin-sdk';
import { ASSIGN, READ, registerRoutes, WRITE } from './routes.ts';
import { exposuresMigration } from './sql.ts';
import { pgMigrations } from './store.ts';
import { pages, TOPIC, widgets } from '../widgets.ts';
import { experimentExports } from './contracts.ts';
import { demoData } from './demo.ts';

export default definePlugin({
  from: import.meta.url,
  id: 'experiments',
  version: '1.0.0',
  sdk: '^2.1.0',
  title: 'Experiments',
  description: 'A/B tests of agent variants and workflows: assignment, significance, sequential testing, SRM, guardrails and recommendations',
  routePrefix: 'experiments',
  permissions: {
    [READ]: ['Admin', 'Manager', 'Developer'],
    [WRITE]: ['Admin', 'Manager'],
    [ASSIGN]: ['Admin', 'Manager', 'Developer'],
  },
  migrations: { pg: pgMigrations, clickhouse: [exposuresMigration] },
  topics: [TOPIC],
  frontend: { remoteName: 'experiments', distDir: './frontend/dist', widgets, pages },
  provides: [experimentExports],
  register(env) {
    registerRoutes(env);
    env.onDemoData(demoData);
  },
});
