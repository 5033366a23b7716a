/**
 * Knowledge sharing: what people create with AI (prompts, snippets, documents), who
 * reuses it, how knowledge flows between departments and who the experts are, from
 * `knowledge_artifact` events. See README.md for every definition.
 *
 * Everything the plugin offers is declared here; the kernel reads this object and
 * nothing else.
 */
import { definePlugin } from '@orrery/plugin-sdk';
import { PERMISSION, ADMIN_PERMISSION, registerRoutes } from './routes.ts';
import { widgets } from '../widgets.ts';
import { knowledgeMetrics } from './sources.ts';
import { INVOCATION_HOURS, invocationCodesMigration, invocationMigrations, invocationPairsMigration } from './invocations.ts';
import { ARTIFACT_EVENTS, artifactMigration } from './artifacts.ts';

export default definePlugin({
  from: import.meta.url,
  id: 'knowledge',
  version: '1.0.0',
  sdk: '^2.0.0',
  title: 'Knowledge sharing',
  description: 'Artifacts created, annotated and reused with AI; reuse rates, valuable artifacts, experts, and knowledge flow between departments',
  routePrefix: 'knowledge',
  provides: [knowledgeMetrics],
  migrations: { clickhouse: [...invocationMigrations, artifactMigration, invocationPairsMigration, invocationCodesMigration] },
  rollups: [INVOCATION_HOURS, ARTIFACT_EVENTS],
  permissions: { [PERMISSION]: ['Admin', 'Manager', 'Developer'], [ADMIN_PERMISSION]: ['Admin'] },
  frontend: { remoteName: 'knowledge', distDir: './frontend/dist', widgets },
  register(env) {
    registerRoutes(env);
  },
});
