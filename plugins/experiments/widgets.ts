/**
 * The plugin's widgets, each declared once as plain data: the backend's manifest lists
 * them, each widget's `defineWidget({ declaration })` takes its options version and
 * defaults (the schema's `default`s) from here, and the remote build exposes `module`
 * as `./<id>` (frontend/rspack.config.mjs reads this file).
 */
import type { PageDecl, WidgetDecl } from '@orrery/plugin-sdk/contract';

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

/** Every experiment with its status and links to its results (`/p/experiments/list?status=running`). */
export const listPage = {
  id: 'list',
  module: './src/pages/ListPage.tsx',
  title: 'Experiments',
  description: 'A/B tests of agent variants and workflows, with their status and results',
  roles: ['Admin', 'Manager', 'Developer'],
  nav: true,
  optionsSchema: { type: 'object', properties: { status: { type: 'string', default: '' } } },
} satisfies PageDecl;

/** Create or edit an experiment (`/p/experiments/editor?key=…`; no key: a new one). */
export const editorPage = {
  id: 'editor',
  module: './src/pages/EditorPage.tsx',
  title: 'Experiment',
  description: 'Variants and weights, the metrics and guardrails, who is in it, and the statistics used',
  roles: ['Admin', 'Manager'],
  optionsSchema: { type: 'object', properties: { key: { type: 'string', default: '' } } },
} satisfies PageDecl;

/** One experiment's results (`/p/experiments/results?key=…&metric=…`). */
export const resultsPage = {
  id: 'results',
  module: './src/pages/ResultsPage.tsx',
  title: 'Experiment results',
  description: 'The effect of each variant with its interval, significance, the sample ratio check and the recommendation',
  roles: ['Admin', 'Manager', 'Developer'],
  optionsSchema: { type: 'object', properties: { key: { type: 'string', default: '' }, metric: { type: 'string', default: '' } } },
} satisfies PageDecl;

export const pages: PageDecl[] = [listPage, editorPage, resultsPage];
