import type { WidgetDecl } from '@orrery/plugin-sdk';
import { TOPIC } from './routes.ts';

export const widgets: WidgetDecl[] = [
  {
    id: 'ab-test-results',
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
  },
];
