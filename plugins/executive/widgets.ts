/**
 * The plugin's widgets, each declared once as plain data: the backend's manifest lists
 * them, each widget's `defineWidget({ declaration })` takes its options version and
 * defaults from here, and the remote build exposes `module` as `./<id>`
 * (frontend/rspack.config.mjs reads this file). Also the Executive dashboard layout.
 */
import type { WidgetDecl } from '@orrery/plugin-sdk/contract';

export const PLUGIN_VERSION = '1.0.0';

/** bus topics the backend publishes when an Admin changes a budget or a KPI target (backend/budgets.ts, kpis.ts) */
export const TOPIC_BUDGETS = 'budgets';
export const TOPIC_KPIS = 'kpis';

export const kpiCards = {
  id: 'kpi-cards',
  module: './src/KpiCards.tsx',
  title: 'KPIs',
  description: 'AI spend, usage, success rate and latency against the targets an Admin set, with the change against the previous period',
  defaultSize: 'F',
  minSize: { w: 4, h: 2 },
  roles: ['Admin', 'Manager', 'Developer'],
  suggestedFor: ['Admin'],
  topics: [TOPIC_KPIS],
  optionsVersion: 1,
  optionsSchema: {
    type: 'object',
    properties: {
      keys: { type: 'array', title: 'KPIs to show (empty: all)', items: { type: 'string', enum: ['cost_usd', 'invocations', 'active_users', 'success_rate', 'cost_per_invocation', 'p95_latency_ms'] }, default: [] },
    },
  },
} satisfies WidgetDecl;

export const budgetBurnDown = {
  id: 'budget-burn-down',
  module: './src/BudgetBurnDown.tsx',
  title: 'Budget burn-down',
  description: 'What is left of a monthly budget day by day: actual, the ideal straight line, and the projection to month end',
  defaultSize: 'M',
  minSize: { w: 4, h: 3 },
  roles: ['Admin', 'Manager', 'Developer'],
  suggestedFor: ['Admin'],
  topics: [TOPIC_BUDGETS],
  optionsVersion: 1,
  optionsSchema: {
    type: 'object',
    properties: {
      budget: { type: 'string', title: 'Budget id', description: 'empty: the budget closest to running out', default: '' },
    },
  },
} satisfies WidgetDecl;

export const insightsList = {
  id: 'insights',
  module: './src/Insights.tsx',
  title: 'Insights',
  description: 'What changed this week, in plain words, with the numbers behind each and a link to its chart',
  defaultSize: 'M',
  minSize: { w: 3, h: 3 },
  roles: ['Admin', 'Manager', 'Developer'],
  suggestedFor: ['Admin'],
  topics: [TOPIC_BUDGETS],
  optionsVersion: 1,
  optionsSchema: {
    type: 'object',
    properties: {
      limit: { type: 'integer', title: 'Insights to show', minimum: 1, maximum: 50, default: 10 },
    },
  },
} satisfies WidgetDecl;

export const widgets: WidgetDecl[] = [kpiCards, insightsList, budgetBurnDown];

/** The Executive dashboard: KPI cards across the top, then insights beside the burn-down, then what is firing. */
export const executiveDashboard = {
  name: 'Executive',
  doc: {
    version: 1 as const,
    items: [
      { i: 'exec-kpis', ref: 'executive/kpi-cards', x: 0, y: 0, w: 12, h: 3, options: { keys: [] }, pluginVersion: PLUGIN_VERSION, optionsVersion: 1 },
      { i: 'exec-insights', ref: 'executive/insights', x: 0, y: 3, w: 6, h: 6, options: { limit: 10 }, pluginVersion: PLUGIN_VERSION, optionsVersion: 1 },
      { i: 'exec-burn', ref: 'executive/budget-burn-down', x: 6, y: 3, w: 6, h: 6, options: { budget: '' }, pluginVersion: PLUGIN_VERSION, optionsVersion: 1 },
      { i: 'exec-firing', ref: 'alerts/firing', x: 0, y: 9, w: 12, h: 4, options: { showSilenced: true }, pluginVersion: '1.0.0', optionsVersion: 1 },
    ],
  },
};
