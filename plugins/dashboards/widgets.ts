/**
 * The plugin's widgets, each declared once as plain data: the backend's manifest lists
 * them, each widget's `defineWidget({ declaration })` takes its options version and
 * defaults (the schema's `default`s) from here, and the remote build exposes `module`
 * as `./<id>` (frontend/rspack.config.mjs reads this file).
 */
import type { WidgetDecl } from '@orrery/plugin-sdk/contract';

export const welcome = {
  id: 'welcome',
  module: './src/Welcome.tsx',
  title: 'Getting started',
  description: 'What Orrery shows, and the next steps to get your organization’s data flowing in.',
  defaultSize: 'M',
  minSize: { w: 3, h: 3 },
  roles: ['Admin', 'Manager', 'Developer'],
  suggestedFor: ['Admin', 'Manager', 'Developer'],
  optionsVersion: 1,
  optionsSchema: {
    type: 'object',
    properties: {
      showChecklist: { type: 'boolean', title: 'Show the setup checklist', default: true },
      greeting: { type: 'string', title: 'Greeting', description: 'Shown above the checklist', default: 'Welcome to Orrery' },
    },
  },
} satisfies WidgetDecl;

export const liveActivity = {
  id: 'live-activity',
  module: './src/LiveActivity.tsx',
  title: 'Live event stream',
  description: 'The last 15 minutes of events per minute, then each event as it is committed, straight from the realtime bus.',
  defaultSize: 'M',
  minSize: { w: 3, h: 3 },
  roles: ['Admin', 'Manager', 'Developer'],
  // an operator's view of the traffic: a Manager's first screen is about their people
  suggestedFor: ['Admin'],
  topics: ['events.committed'],
  optionsVersion: 1,
  optionsSchema: {
    type: 'object',
    properties: {
      keep: { type: 'integer', title: 'Events to keep', minimum: 5, maximum: 200, default: 30 },
    },
  },
} satisfies WidgetDecl;

export const widgets: WidgetDecl[] = [welcome, liveActivity];
