/**
 * The plugin's widgets, each declared once as plain data: the backend's manifest lists
 * them, each widget's `defineWidget({ declaration })` takes its options version and
 * defaults (the schema's `default`s) from here, and the remote build exposes `module`
 * as `./<id>` (frontend/rspack.config.mjs reads this file).
 */
import type { WidgetDecl } from '@orrery/plugin-sdk/contract';

const ALL = ['Admin', 'Manager', 'Developer'] as const;
/** the bus topic the backend publishes live notices on (backend/live.ts) */
const topics = ['invocations'];
const agentOption = { type: 'string', title: 'Agent', description: 'one agent, or empty for all' };
/** the per-agent widgets (latency, errors): empty shows the busiest agent of the range, so they show something on a first screen */
const busiestAgentOption = { ...agentOption, description: 'one agent, or empty for the busiest agent of the range' };
const mostFailedAgentOption = { ...agentOption, description: 'one agent, or empty for the agent with the most failures in the range' };
const granularityOption = { type: 'string', title: 'Buckets', enum: ['minute', 'hour', 'day', 'week'], default: 'hour' };

export const agentUsage = {
  id: 'agent-usage',
  module: './src/AgentUsage.tsx',
  title: 'Agent usage',
  description: 'Invocations, success and error rates over time, by agent',
  defaultSize: 'L',
  minSize: { w: 4, h: 3 },
  roles: [...ALL],
  suggestedFor: ['Developer'],
  topics,
  optionsVersion: 1,
  optionsSchema: {
    type: 'object',
    properties: {
      agent: agentOption,
      granularity: granularityOption,
      topAgents: { type: 'integer', title: 'Agents shown', minimum: 1, maximum: 20, default: 6 },
    },
  },
} satisfies WidgetDecl;

export const errorTrends = {
  id: 'error-trends',
  module: './src/ErrorTrends.tsx',
  title: 'Errors & failure trends',
  description: 'Error categories over time and the latest failing invocations, with drill-down',
  defaultSize: 'L',
  minSize: { w: 4, h: 3 },
  roles: [...ALL],
  // with latency, usage and cost: what an AI developer opens first
  suggestedFor: ['Developer'],
  topics,
  optionsVersion: 1,
  optionsSchema: { type: 'object', properties: { agent: mostFailedAgentOption, granularity: { ...granularityOption, default: 'day' } } },
} satisfies WidgetDecl;

export const latency = {
  id: 'latency',
  module: './src/Latency.tsx',
  title: 'Latency',
  description: 'p50, p75, p95 and p99 over time, and the spread by model',
  defaultSize: 'L',
  minSize: { w: 3, h: 3 },
  roles: [...ALL],
  suggestedFor: ['Developer'],
  topics,
  optionsVersion: 1,
  optionsSchema: { type: 'object', properties: { agent: busiestAgentOption, granularity: granularityOption } },
} satisfies WidgetDecl;

export const costTokens = {
  id: 'cost-tokens',
  module: './src/CostTokens.tsx',
  title: 'Cost & tokens',
  description: 'Cost and tokens by agent, model or department',
  defaultSize: 'M',
  minSize: { w: 3, h: 3 },
  roles: [...ALL],
  suggestedFor: ['Admin', 'Developer'],
  topics,
  optionsVersion: 1,
  optionsSchema: {
    type: 'object',
    properties: {
      by: { type: 'string', title: 'Split by', enum: ['agent', 'model', 'department'], default: 'agent' },
      measure: { type: 'string', title: 'Measure', enum: ['cost_usd', 'tokens'], default: 'cost_usd' },
    },
  },
} satisfies WidgetDecl;

export const agentChains = {
  id: 'agent-chains',
  module: './src/AgentChains.tsx',
  title: 'Agent chains',
  description: 'Sankey of parent → child agents and tools, with depth, fan-out and where chains fail',
  defaultSize: 'L',
  minSize: { w: 4, h: 4 },
  roles: [...ALL],
  suggestedFor: ['Developer'],
  topics,
  optionsVersion: 1,
  optionsSchema: { type: 'object', properties: { agent: agentOption, showTools: { type: 'boolean', title: 'Show tools', default: true } } },
} satisfies WidgetDecl;

export const leaderboard = {
  id: 'leaderboard',
  module: './src/Leaderboard.tsx',
  title: 'Agent leaderboard',
  description: 'Agents ranked by invocations, failures, success rate, p95 latency or cost efficiency',
  defaultSize: 'M',
  minSize: { w: 3, h: 3 },
  roles: [...ALL],
  suggestedFor: ['Admin', 'Developer'],
  topics,
  optionsVersion: 1,
  optionsSchema: {
    type: 'object',
    properties: {
      metric: { type: 'string', title: 'Rank by', enum: ['invocations', 'failures', 'success_rate', 'p95_latency', 'cost_efficiency'], default: 'invocations' },
      limit: { type: 'integer', title: 'Agents shown', minimum: 3, maximum: 50, default: 10 },
      minInvocations: { type: 'integer', title: 'Minimum invocations', minimum: 1, default: 10 },
    },
  },
} satisfies WidgetDecl;

export const recommendations = {
  id: 'recommendations',
  module: './src/Recommendations.tsx',
  title: 'Recommendations',
  description: 'Optimisation opportunities with their evidence and estimated impact',
  defaultSize: 'M',
  minSize: { w: 3, h: 3 },
  roles: ['Admin', 'Manager'],
  topics,
  optionsVersion: 1,
  optionsSchema: { type: 'object', properties: { agent: agentOption, severity: { type: 'string', title: 'At least', enum: ['low', 'medium', 'high'], default: 'low' } } },
} satisfies WidgetDecl;

export const widgets: WidgetDecl[] = [agentUsage, errorTrends, latency, costTokens, agentChains, leaderboard, recommendations];
