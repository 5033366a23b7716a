/**
 * The widgets the plugin's federated remote exposes (`./<id>`), with the
 * options the host renders an editor for. Defaults live in each widget's
 * `defineWidget` and match the `default`s here.
 */
import type { WidgetDecl } from '@orrery/plugin-sdk';
import { TOPIC } from './live.ts';

const ALL = ['Admin', 'Manager', 'Developer'] as const;
const topics = [TOPIC];
const agentOption = { type: 'string', title: 'Agent', description: 'one agent, or empty for all' };
const granularityOption = { type: 'string', title: 'Buckets', enum: ['minute', 'hour', 'day', 'week'], default: 'hour' };

export const widgets: WidgetDecl[] = [
  {
    id: 'agent-usage',
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
  },
  {
    id: 'error-trends',
    title: 'Errors & failure trends',
    description: 'Error categories over time and the latest failing invocations, with drill-down',
    defaultSize: 'L',
    minSize: { w: 4, h: 3 },
    roles: [...ALL],
    topics,
    optionsVersion: 1,
    optionsSchema: { type: 'object', required: ['agent'], properties: { agent: agentOption, granularity: { ...granularityOption, default: 'day' } } },
  },
  {
    id: 'latency',
    title: 'Latency',
    description: 'p50, p75, p95 and p99 over time, and the spread by model',
    defaultSize: 'M',
    minSize: { w: 3, h: 3 },
    roles: [...ALL],
    topics,
    optionsVersion: 1,
    optionsSchema: { type: 'object', required: ['agent'], properties: { agent: agentOption, granularity: granularityOption } },
  },
  {
    id: 'cost-tokens',
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
  },
  {
    id: 'agent-chains',
    title: 'Agent chains',
    description: 'Sankey of parent → child agents and tools, with depth, fan-out and where chains fail',
    defaultSize: 'L',
    minSize: { w: 4, h: 4 },
    roles: [...ALL],
    suggestedFor: ['Developer'],
    topics,
    optionsVersion: 1,
    optionsSchema: { type: 'object', properties: { agent: agentOption, showTools: { type: 'boolean', title: 'Show tools', default: true } } },
  },
  {
    id: 'leaderboard',
    title: 'Agent leaderboard',
    description: 'Agents ranked by invocations, success rate, p95 latency or cost efficiency',
    defaultSize: 'M',
    minSize: { w: 3, h: 3 },
    roles: [...ALL],
    suggestedFor: ['Admin', 'Developer'],
    topics,
    optionsVersion: 1,
    optionsSchema: {
      type: 'object',
      properties: {
        metric: { type: 'string', title: 'Rank by', enum: ['invocations', 'success_rate', 'p95_latency', 'cost_efficiency'], default: 'invocations' },
        limit: { type: 'integer', title: 'Agents shown', minimum: 3, maximum: 50, default: 10 },
        minInvocations: { type: 'integer', title: 'Minimum invocations', minimum: 1, default: 10 },
      },
    },
  },
  {
    id: 'recommendations',
    title: 'Recommendations',
    description: 'Optimisation opportunities with their evidence and estimated impact',
    defaultSize: 'M',
    minSize: { w: 3, h: 3 },
    roles: ['Admin', 'Manager'],
    topics,
    optionsVersion: 1,
    optionsSchema: { type: 'object', properties: { agent: agentOption, severity: { type: 'string', title: 'At least', enum: ['low', 'medium', 'high'], default: 'low' } } },
  },
];
