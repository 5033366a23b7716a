/**
 * Agent analytics: how each AI agent is used, how reliable, fast and costly it
 * is, where it fails, which tools and sub-agents it calls, and what to change.
 *
 * Everything the plugin offers is declared here; the kernel reads this object
 * and nothing else. Dashboard routes read the ClickHouse rollups declared in
 * `rollups.ts` (kept up to date by the kernel, merged with the invocations not
 * folded yet); drill-down routes read raw events. See README.md.
 */
import { definePlugin } from '@orrery/plugin-sdk';
import { INVOCATIONS, clickhouseMigrations } from './rollups.ts';
import { InvocationPublisher, TOPIC } from './live.ts';
import { PERMISSION, registerOverviewRoutes } from './routes/overview.ts';
import { registerErrorRoutes } from './routes/errors.ts';
import { registerToolRoutes } from './routes/tools.ts';
import { registerChainRoutes } from './routes/chains.ts';
import { registerRecommendationRoutes } from './routes/recommendations.ts';
import { widgets } from '../widgets.ts';
import { agentExports, agentMetrics } from './contracts.ts';

export interface AgentAnalyticsConfig {
  /** at most one live notice per org per this many ms */
  liveWindowMs?: number;
}

export default definePlugin<AgentAnalyticsConfig>({
  from: import.meta.url,
  id: 'agent-analytics',
  version: '1.0.0',
  sdk: '^2.0.0',
  title: 'Agent analytics',
  description: 'Usage, success rate, latency, tokens, cost, errors, tools and chains of every AI agent, with recommendations',
  routePrefix: 'agents',
  permissions: { [PERMISSION]: ['Admin', 'Manager', 'Developer'] },
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { liveWindowMs: { type: 'integer', minimum: 50, maximum: 60_000, default: 1000 } },
  },
  migrations: { clickhouse: clickhouseMigrations },
  rollups: [INVOCATIONS],
  topics: [TOPIC],
  frontend: { remoteName: 'agent_analytics', distDir: './frontend/dist', widgets },
  provides: [agentMetrics, agentExports],
  register(env) {
    // fixed paths first: fastify prefers static segments, but reading order should too
    registerRecommendationRoutes(env);
    registerChainRoutes(env);
    registerOverviewRoutes(env);
    registerErrorRoutes(env);
    registerToolRoutes(env);

    // config arrives at init, after register: the handler reads the window lazily
    let publisher: InvocationPublisher | null = null;
    env.onEvents({
      types: ['agent_invocation'],
      async handle(events, ctx) {
        publisher ??= new InvocationPublisher(ctx.config.liveWindowMs as number | undefined ?? 1000);
        publisher.add(events, ctx);
      },
    });
  },
});
