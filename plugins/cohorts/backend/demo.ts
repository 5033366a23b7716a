/**
 * The demo org's example cohorts, so the cohort widgets and filters have something to show on the
 * demo events: people who use agents most days, and people who stopped. Created through the
 * plugin's own validation and store, as the create route does (computed at once).
 */
import type { DemoDataDecl } from '@orrery/plugin-sdk';
import { createCohort } from './cohorts.ts';

export const DEMO_COHORTS = [
  {
    name: 'Daily agent users',
    description: 'Invoked an agent on at least 4 of the last 7 days',
    kind: 'dynamic' as const,
    criteria: [{ kind: 'regularly', event_type: 'agent_invocation', period_days: 1, min_periods: 4, of_periods: 7 }],
  },
  {
    name: 'Stopped using agents',
    description: 'Invoked an agent in the 3 weeks before the last 7 days, and not since',
    kind: 'dynamic' as const,
    criteria: [{ kind: 'stopped', event_type: 'agent_invocation', days: 7, prior_days: 21 }],
  },
];

export const demoData: DemoDataDecl = {
  description: 'two cohorts: daily agent users, and people who stopped',
  async run(ctx) {
    for (const c of DEMO_COHORTS) await createCohort(ctx, c);
  },
};
