/**
 * The plugin's widgets, each declared once as plain data: the backend's manifest lists
 * them, each widget's `defineWidget({ declaration })` takes its options version and
 * defaults (the schema's `default`s) from here, and the remote build exposes `module`
 * as `./<id>` (frontend/rspack.config.mjs reads this file).
 */
import type { WidgetDecl } from '@orrery/plugin-sdk/contract';

/** the bus topic the backend publishes experiment changes on (backend/routes.ts) */
export const TOPIC = 'experiments';

export const abTestResults = {
  id: 'ab-test-results',
  module: './src/AbTestResults.tsx',
  title: 'A/B Test Results',
  description: 'Lift of each variant against the control with its interval, the SRM check and the recommendation',
  defaultSize: 'M',
  minSize: { w: 4, h: 3 },
  roles: ['Admin', 'Manager', 'Developer'],
  suggestedFor: ['Admin'],
  topics: [TOPIC],
  optionsVersion: 1,
  optionsSchema: {
    type: 'object',
    properties: {
      experiment: { type: 'string', title: 'Experiment key', description: 'empty: the most recent running experiment' },
      metric: { type: 'string', title: 'Metric', description: 'empty: the experiment’s primary metric' },
    },
  },
} satisfies WidgetDecl;

export const widgets: WidgetDecl[] = [abTestResults];
