/**
 * The template library: five built-in dashboards made of other plugins' widgets (referenced
 * by `<pluginId>/<widgetId>`, never imported: a widget of a plugin that is off for the org is
 * shown by the host as unavailable), plus the role defaults an Admin saved (see store.ts).
 */
import type { Doc } from './store.ts';

export interface Template {
  id: string;
  name: string;
  description: string;
  /** `builtin` ships with the plugin; `role` is an Admin's saved role default */
  kind: 'builtin' | 'role';
  doc: Doc;
}

/** `timeRange`: the cell's own range preset, for a widget that needs a longer span than the dashboard's (as the host gives it when the widget is added) */
type Cell = [ref: string, w: number, h: number, options?: Record<string, unknown>, title?: string, timeRange?: string];

/** Lays cells left to right on the 12-column grid, wrapping rows. */
function grid(cells: Cell[]): Doc {
  let x = 0;
  let y = 0;
  let rowH = 0;
  const items = cells.map(([ref, w, h, options, title, timeRange], i) => {
    if (x + w > 12) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    const item = { i: `t${i}`, ref, x, y, w, h, ...(options ? { options } : {}), ...(title ? { title } : {}), ...(timeRange ? { timeRange } : {}) };
    x += w;
    rowH = Math.max(rowH, h);
    return item;
  });
  return { version: 1, items };
}

const metric = (title: string, chart: string, query: Record<string, unknown>): Cell => ['metrics/metric', 6, 4, { title, chart, query }, title];

export const BUILTIN_TEMPLATES: Template[] = [
  {
    id: 'ai-adoption-overview',
    name: 'AI adoption overview',
    description: 'Who uses AI agents, how much, and who needs support: adoption scores, activity and knowledge reuse.',
    kind: 'builtin',
    doc: grid([
      ['adoption/adoption-score', 4, 4],
      metric('Active users per day', 'line', { event_type: 'agent_invocation', measure: 'users', granularity: 'day' }),
      ['user-activity/team-comparison', 6, 5],
      ['adoption/adoption-heatmap', 6, 5],
      ['user-activity/activity-heatmap', 6, 5],
      ['knowledge/knowledge-sharing', 6, 4],
    ]),
  },
  {
    id: 'agent-reliability',
    name: 'Agent reliability',
    description: 'Failures, latency and errors per agent, and the alerts that are firing.',
    kind: 'builtin',
    doc: grid([
      metric('Failure rate by agent', 'line', { event_type: 'agent_invocation', measure: 'rate', rate_where: { status: 'failure' }, group_by: ['agent_name'], granularity: 'day' }),
      ['alerts/firing', 6, 4],
      ['agent-analytics/error-trends', 6, 5],
      ['agent-analytics/latency', 6, 5],
      ['agent-analytics/leaderboard', 12, 5],
    ]),
  },
  {
    id: 'cost-control',
    name: 'Cost control',
    description: 'Spend and tokens by model, agent and department, and the return on it.',
    kind: 'builtin',
    doc: grid([
      metric('Cost per day by model', 'bar', { event_type: 'agent_invocation', measure: 'sum', field: 'cost_usd', group_by: ['model_used'], granularity: 'day' }),
      metric('Cost by department', 'bar', { event_type: 'agent_invocation', measure: 'sum', field: 'cost_usd', group_by: ['department_id'] }),
      ['agent-analytics/cost-tokens', 6, 5],
      ['adoption/roi', 6, 5],
    ]),
  },
  {
    id: 'workflow-health',
    name: 'Workflow health',
    description: 'How people move through workflows: adoption, conversion, time to convert and where they leave.',
    kind: 'builtin',
    doc: grid([
      ['funnels/workflow-adoption', 6, 5],
      ['funnels/funnel', 6, 5],
      ['funnels/time-to-convert', 6, 5],
      metric('Workflow exits per day', 'line', { event_type: 'workflow_step', measure: 'count', where: { action: 'exited' }, granularity: 'day' }),
      ['funnels/paths', 12, 5],
    ]),
  },
  {
    id: 'executive',
    name: 'Executive',
    description: 'KPIs against their targets, what changed and why, budgets, cost forecast and what is firing.',
    kind: 'builtin',
    doc: grid([
      ['executive/kpi-cards', 12, 3],
      ['executive/insights', 6, 6],
      ['executive/budget-burn-down', 6, 6],
      ['trends/forecast', 6, 5, { title: 'Cost per day and its forecast', horizon: 14, interval: 0.9, query: { event_type: 'agent_invocation', measure: 'sum', field: 'cost_usd', granularity: 'day' } }, 'Cost forecast', '30d'],
      ['alerts/firing', 6, 5],
    ]),
  },
];
