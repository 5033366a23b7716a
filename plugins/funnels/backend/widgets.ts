/**
 * The widgets the plugin's federated remote exposes (`./<id>`), with the options the
 * host renders an editor for.
 */
import type { WidgetDecl } from '@orrery/plugin-sdk';

export const TOPIC = 'workflow_events';
const ALL = ['Admin', 'Manager', 'Developer'] as const;

export const widgets: WidgetDecl[] = [
  {
    id: 'workflow-adoption',
    title: 'Workflow adoption',
    description: 'Participation, adherence and completion of each workflow',
    defaultSize: 'L',
    minSize: { w: 4, h: 3 },
    roles: [...ALL],
    suggestedFor: ['Manager'],
    topics: [TOPIC],
    optionsVersion: 1,
    optionsSchema: { type: 'object', properties: { limit: { type: 'integer', title: 'Workflows shown', minimum: 1, maximum: 30, default: 8 } } },
  },
  {
    id: 'funnel',
    title: 'Funnel',
    description: 'A saved funnel: units per step, conversion and median time between steps',
    defaultSize: 'M',
    minSize: { w: 3, h: 3 },
    roles: [...ALL],
    topics: [TOPIC],
    optionsVersion: 1,
    optionsSchema: { type: 'object', properties: { funnelId: { type: 'integer', title: 'Saved funnel id', description: 'empty: the first saved funnel', minimum: 1 } } },
  },
  {
    id: 'paths',
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
  },
  {
    id: 'time-to-convert',
    title: 'Time to convert',
    description: 'How long converting through a saved funnel took: distribution, median, p90',
    defaultSize: 'M',
    minSize: { w: 3, h: 3 },
    roles: [...ALL],
    topics: [TOPIC],
    optionsVersion: 1,
    optionsSchema: { type: 'object', properties: { funnelId: { type: 'integer', title: 'Saved funnel id', description: 'empty: the first saved funnel', minimum: 1 } } },
  },
];
