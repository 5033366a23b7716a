/**
 * The plugin's widgets, each declared once as plain data: the backend's manifest lists
 * them, each widget's `defineWidget({ declaration })` takes its options version and
 * defaults (the schema's `default`s) from here, and the remote build exposes `module`
 * as `./<id>` (frontend/rspack.config.mjs reads this file).
 */
import type { PageDecl, WidgetDecl } from '@orrery/plugin-sdk/contract';

const ALL = ['Admin', 'Manager', 'Developer'] as const;

export const retentionTable = {
  id: 'retention-table',
  module: './src/RetentionTable.tsx',
  title: 'Retention',
  description: 'Cohorts by period and the share that came back in each later period (a triangle heat map with cohort sizes)',
  defaultSize: 'L',
  minSize: { w: 4, h: 3 },
  roles: [...ALL],
  suggestedFor: ['Admin', 'Manager'],
  // weekly cohorts over the dashboard's usual week would be one cohort at most
  defaultTimeRange: '90d',
  optionsVersion: 1,
  optionsSchema: {
    type: 'object',
    properties: {
      period: { type: 'string', title: 'Period', enum: ['day', 'week', 'month'], default: 'week' },
      periods: { type: 'integer', title: 'Periods shown', minimum: 2, maximum: 52, default: 8 },
      mode: { type: 'string', title: 'Cohorts', enum: ['first_time', 'recurring'], default: 'first_time' },
      counting: { type: 'string', title: 'Counting', enum: ['exact', 'on_or_after'], default: 'exact' },
      start_event: { type: 'string', title: 'Start event', default: 'any' },
      return_event: { type: 'string', title: 'Return event', default: 'any' },
    },
  },
} satisfies WidgetDecl;

export const retentionTrend = {
  id: 'retention-trend',
  module: './src/RetentionTrend.tsx',
  title: 'Retention trend',
  description: 'Period-n retention of successive cohorts (e.g. day-7 retention of each daily cohort) as a line',
  defaultSize: 'M',
  minSize: { w: 3, h: 3 },
  roles: [...ALL],
  // day-7 retention needs cohorts at least a week old
  defaultTimeRange: '30d',
  optionsVersion: 1,
  optionsSchema: {
    type: 'object',
    properties: {
      period: { type: 'string', title: 'Period', enum: ['day', 'week', 'month'], default: 'day' },
      n: { type: 'integer', title: 'Periods after the cohort', minimum: 1, maximum: 90, default: 7 },
      mode: { type: 'string', title: 'Cohorts', enum: ['first_time', 'recurring'], default: 'first_time' },
      counting: { type: 'string', title: 'Counting', enum: ['exact', 'on_or_after'], default: 'exact' },
    },
  },
} satisfies WidgetDecl;

export const atRisk = {
  id: 'at-risk',
  module: './src/AtRisk.tsx',
  title: 'Users at risk of churning',
  description: 'Users likely to be inactive next period, with the churn model\'s backtest AUC (only users in departments you may see)',
  defaultSize: 'M',
  minSize: { w: 3, h: 3 },
  roles: ['Admin', 'Manager'],
  optionsVersion: 1,
  optionsSchema: {
    type: 'object',
    properties: {
      period_days: { type: 'integer', title: 'Period (days)', minimum: 1, maximum: 90, default: 7 },
      threshold: { type: 'number', title: 'Risk threshold', minimum: 0.05, maximum: 0.95, default: 0.5 },
      limit: { type: 'integer', title: 'Users shown', minimum: 5, maximum: 200, default: 20 },
    },
  },
} satisfies WidgetDecl;

export const cohortSizes = {
  id: 'cohort-sizes',
  module: './src/CohortSizes.tsx',
  title: 'Cohort sizes',
  description: 'Saved cohorts\' sizes over time: after each recomputation or member-list change',
  defaultSize: 'M',
  minSize: { w: 3, h: 3 },
  roles: [...ALL],
  optionsVersion: 1,
  optionsSchema: {
    type: 'object',
    properties: {
      cohort_ids: { type: 'string', title: 'Cohort ids (comma-separated, up to 10; empty = the first 10 by name)', default: '' },
    },
  },
} satisfies WidgetDecl;

export const retentionCurves = {
  id: 'retention-curves',
  module: './src/RetentionCurves.tsx',
  title: 'Retention curves',
  description: 'Retention curves of several saved cohorts side by side',
  defaultSize: 'M',
  minSize: { w: 3, h: 3 },
  roles: [...ALL],
  // weekly periods, as the retention table: a week's range holds no week after the first
  defaultTimeRange: '90d',
  optionsVersion: 1,
  optionsSchema: {
    type: 'object',
    properties: {
      cohort_ids: { type: 'string', title: 'Cohort ids (comma-separated, 1 to 10)', default: '' },
      period: { type: 'string', title: 'Period', enum: ['day', 'week', 'month'], default: 'week' },
      periods: { type: 'integer', title: 'Periods shown', minimum: 2, maximum: 52, default: 8 },
      counting: { type: 'string', title: 'Counting', enum: ['exact', 'on_or_after'], default: 'exact' },
    },
  },
} satisfies WidgetDecl;

export const widgets: WidgetDecl[] = [retentionTable, retentionTrend, atRisk, cohortSizes, retentionCurves];

/** The saved cohorts (`/p/cohorts/cohorts`): everyone sees them; Admins and Managers change them. */
export const cohortsPage = {
  id: 'cohorts',
  module: './src/pages/CohortsPage.tsx',
  title: 'Cohorts',
  description: 'Saved cohorts with who belongs and how many; open one to edit it, recompute it or start a new one',
  roles: [...ALL],
  nav: true,
  optionsSchema: { type: 'object', properties: {} },
} satisfies PageDecl;

/** The cohort editor (`/p/cohorts/cohort?id=…`; no id: a new cohort). */
export const cohortPage = {
  id: 'cohort',
  module: './src/pages/CohortEditorPage.tsx',
  title: 'Cohort',
  description: 'Create or edit a cohort: a list of people, or rules about what they do, all of which must hold',
  roles: ['Admin', 'Manager'],
  optionsSchema: { type: 'object', properties: { id: { type: 'string', default: '' } } },
} satisfies PageDecl;

export const pages: PageDecl[] = [cohortsPage, cohortPage];
