/**
 * The plugin's widgets, each declared once as plain data: the backend's manifest lists
 * them, each widget's `defineWidget({ declaration })` takes its options version and
 * defaults (the schema's `default`s) from here, and the remote build exposes `module`
 * as `./<id>` (frontend/rspack.config.mjs reads this file).
 */
import type { PageDecl, WidgetDecl } from '@orrery/plugin-sdk/contract';

export const adoptionHeatmap = {
  id: 'adoption-heatmap',
  module: './src/AdoptionHeatmap.tsx',
  title: 'Adoption heatmap',
  description: 'Departments × weeks: mean score and share needing support.',
  defaultSize: 'L',
  roles: ['Admin', 'Manager'],
  suggestedFor: ['Admin', 'Manager'],
  optionsVersion: 1,
} satisfies WidgetDecl;

export const interventionAlerts = {
  id: 'intervention-alerts',
  module: './src/InterventionAlerts.tsx',
  title: 'Intervention alerts',
  description: 'Users flagged as needing support, live, with the signals that raised each flag.',
  defaultSize: 'M',
  roles: ['Admin', 'Manager'],
  suggestedFor: ['Admin', 'Manager'],
  topics: ['flags'],
  optionsVersion: 1,
} satisfies WidgetDecl;

export const learningPath = {
  id: 'learning-path',
  module: './src/LearningPath.tsx',
  title: 'Learning path',
  description: 'Your suggested next steps with AI tools.',
  defaultSize: 'M',
  roles: ['Admin', 'Manager', 'Developer'],
  suggestedFor: ['Developer'],
  optionsVersion: 1,
} satisfies WidgetDecl;

export const adoptionScore = {
  id: 'adoption-score',
  module: './src/AdoptionScore.tsx',
  title: 'Adoption score',
  description: 'Your score, its parts, and how it compares with your department.',
  defaultSize: 'M',
  roles: ['Admin', 'Manager', 'Developer'],
  suggestedFor: ['Developer'],
  topics: ['scores'],
  optionsVersion: 1,
} satisfies WidgetDecl;

export const roi = {
  id: 'roi',
  module: './src/Roi.tsx',
  title: 'ROI / value',
  description: 'Time saved and errors avoided against AI spend, day by day (week by week over longer ranges).',
  defaultSize: 'M',
  roles: ['Admin', 'Manager'],
  suggestedFor: ['Admin', 'Manager'],
  optionsVersion: 1,
} satisfies WidgetDecl;

// the first an Admin or a Manager is suggested is the one to act on: who needs support
export const widgets: WidgetDecl[] = [interventionAlerts, adoptionHeatmap, learningPath, adoptionScore, roi];

/** Every open flag, filterable, with the held ones an Admin confirms (`/p/adoption/flags?pending=true`). */
export const flagsPage = {
  id: 'flags',
  module: './src/FlagsPage.tsx',
  title: 'Support flags',
  description: 'Who needs support, most urgent first, and the flags waiting for confirmation',
  roles: ['Admin', 'Manager'],
  nav: true,
  optionsSchema: {
    type: 'object',
    properties: {
      kind: { type: 'string', default: '' },
      pending: { type: 'string', default: '' },
      sort: { type: 'string', default: 'severity' },
    },
  },
} satisfies PageDecl;

export const pages: PageDecl[] = [flagsPage];
