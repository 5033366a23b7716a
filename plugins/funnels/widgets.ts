/**
 * The plugin's widgets, each declared once as plain data: the backend's manifest lists
 * them, each widget's `defineWidget({ declaration })` takes its options version and
 * defaults (the schema's `default`s) from here, and the remote build exposes `module`
 * as `./<id>` (frontend/rspack.config.mjs reads this file).
 */
import type { PageDecl, WidgetDecl } from '@orrery/plugin-sdk/contract';

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

const EDITORS: PageDecl['roles'] = ['Admin', 'Manager', 'Developer'];

/** The saved funnels (`/p/funnels/funnels`). */
export const funnelsPage = {
  id: 'funnels',
  module: './src/pages/FunnelsPage.tsx',
  title: 'Funnels',
  description: 'Saved funnels with their steps; open one to edit it, or start a new one',
  roles: EDITORS,
  nav: true,
  optionsSchema: { type: 'object', properties: {} },
} satisfies PageDecl;

/** The funnel editor with a live preview over the portal's range (`/p/funnels/funnel?id=…`; no id: a new funnel). */
export const funnelPage = {
  id: 'funnel',
  module: './src/pages/FunnelEditorPage.tsx',
  title: 'Funnel',
  description: 'Create or edit a saved funnel: its steps, order, window and what it counts; the chart runs it as you edit',
  roles: EDITORS,
  optionsSchema: { type: 'object', properties: { id: { type: 'string', default: '' } } },
} satisfies PageDecl;

export const pages: PageDecl[] = [funnelsPage, funnelPage];
