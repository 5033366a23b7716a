/**
 * The plugin's widgets, each declared once as plain data: the backend's manifest lists
 * them, each widget's `defineWidget({ declaration })` takes its options version and
 * defaults (the schema's `default`s) from here, and the remote build exposes `module`
 * as `./<id>` (frontend/rspack.config.mjs reads this file).
 */
import type { WidgetDecl } from '@orrery/plugin-sdk/contract';

/** what the user ranking sorts by (backend/usage.ts answers each) */
export const RANKING_SORTS = ['events', 'active_days', 'sessions', 'diversity', 'success_rate'] as const;

export const userRanking = {
  id: 'user-ranking',
  module: './src/UserRanking.tsx',
  title: 'User ranking',
  description: 'Most engaged users by events, active days, diversity or success rate.',
  defaultSize: 'M',
  roles: ['Admin', 'Manager', 'Developer'],
  suggestedFor: ['Manager'],
  optionsVersion: 1,
  optionsSchema: { type: 'object', properties: { sort: { type: 'string', enum: [...RANKING_SORTS], default: 'events' }, limit: { type: 'integer', minimum: 5, maximum: 100, default: 20 } } },
} satisfies WidgetDecl;

export const teamComparison = {
  id: 'team-comparison',
  module: './src/TeamComparison.tsx',
  title: 'User-to-team comparison',
  description: 'A user against the mean of their department and the org.',
  defaultSize: 'M',
  roles: ['Admin', 'Manager', 'Developer'],
  suggestedFor: ['Manager', 'Developer'],
  optionsVersion: 1,
} satisfies WidgetDecl;

export const commandUsage = {
  id: 'command-usage',
  module: './src/CommandUsage.tsx',
  title: 'Command usage',
  description: 'Top slash commands, common sequences and repetitive patterns.',
  defaultSize: 'L',
  roles: ['Admin', 'Manager', 'Developer'],
  optionsVersion: 1,
} satisfies WidgetDecl;

export const activityHeatmap = {
  id: 'activity-heatmap',
  module: './src/ActivityHeatmap.tsx',
  title: 'Activity heatmap',
  description: 'Hour × weekday or department × week.',
  defaultSize: 'L',
  roles: ['Admin', 'Manager', 'Developer'],
  suggestedFor: ['Admin', 'Manager'],
  optionsVersion: 1,
  optionsSchema: { type: 'object', properties: { kind: { type: 'string', enum: ['hour_weekday', 'department_week'], default: 'hour_weekday' } } },
} satisfies WidgetDecl;

export const widgets: WidgetDecl[] = [userRanking, teamComparison, commandUsage, activityHeatmap];
