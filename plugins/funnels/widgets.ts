/**
 * The plugin's widgets, each declared once as plain data: the backend's manifest lists
 * them, each widget's `defineWidget({ declaration })` takes its options version and
 * defaults (the schema's `default`s) from here, and the remote build exposes `module`
 * as `./<id>` (frontend/rspack.config.mjs reads this file).
 */
import type { WidgetDecl } from '@orrery/plugin-sdk/contract';

/** the bus topic the backend publishes on when workflow events are committed */
export const TOPIC = 'workflow_events';
const ALL = ['Admin', 'Manager', 'Developer'] as const;

export const workflowAdoption = {
  id: 'workflow-adoption',
  module: './src/WorkflowAdoption.tsx',
  title: 'Workflow adoption',
  description: 'Participation, adherence and completion of each workflow',
  defaultSize: 'L',
  minSize: { w: 4, h: 3 },
  roles: [...ALL],
  suggestedFor: ['Manager'],
  topics: [TOPIC],
  optionsVersion: 1,
  optionsSchema: { type: 'object', properties: { limit: { type: 'integer', title: 'Workflows shown', minimum: 1, maximum: 30, default: 8 } } },
} satisfies WidgetDecl;

export const funnel = {
  id: 'funnel',
  module: './src/Funnel.tsx',
  title: 'Funnel',
  description: 'A saved funnel: units per step, conversion and median time between steps',
  defaultSize: 'M',
  minSize: { w: 3, h: 3 },
  roles: [...ALL],
  topics: [TOPIC],
  optionsVersion: 1,
  optionsSchema: { type: 'object', properties: { funnelId: { type: 'integer', title: 'Saved funnel id', description: 'empty: the first saved funnel', minimum: 1 } } },
} satisfies WidgetDecl;

export const paths = {
  id: 'paths',
  module: './src/Paths.tsx',
  title: 'Paths after a drop',
  description: 'What the people who dropped at a step of a saved funnel did next (Sankey)',
  defaultSize: 'L',
  minSize: { w: 4, h: 3 },
  roles: [...ALL],
  topics: [TOPIC],
  optionsVersion: 1,
  optionsSchema: {
    type: 'object',
    properties: {
      funnelId: { type: 'integer', title: 'Saved funnel id', description: 'empty: the first saved funnel', minimum: 1 },
      step: { type: 'integer', title: 'Dropped before step', minimum: 1, maximum: 19, default: 1 },
    },
  },
} satisfies WidgetDecl;

export const timeToConvert = {
  id: 'time-to-convert',
  module: './src/TimeToConvert.tsx',
  title: 'Time to convert',
  description: 'How long converting through a saved funnel took: distribution, median, p90',
  defaultSize: 'M',
  minSize: { w: 3, h: 3 },
  roles: [...ALL],
  topics: [TOPIC],
  optionsVersion: 1,
  optionsSchema: { type: 'object', properties: { funnelId: { type: 'integer', title: 'Saved funnel id', description: 'empty: the first saved funnel', minimum: 1 } } },
} satisfies WidgetDecl;

export const widgets: WidgetDecl[] = [workflowAdoption, funnel, paths, timeToConvert];
