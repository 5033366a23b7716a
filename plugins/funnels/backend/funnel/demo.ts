/**
 * The demo org's example funnel, so the funnel widgets show something on the demo events: in a
 * working session, an agent's failed answer, then a good one, then the person accepting an answer,
 * within the hour: how often people recover from a failure. Stored through the plugin's own
 * validation, as the create route does.
 */
import type { DemoDataDecl } from '@orrery/plugin-sdk';
import { saveFunnel } from './saved.ts';

export const DEMO_FUNNEL = 'Recovering from a failed answer';

export const demoData: DemoDataDecl = {
  description: 'a saved funnel: recovering from a failed answer',
  async run(ctx) {
    await saveFunnel(ctx, DEMO_FUNNEL, {
      steps: [
        { event_type: 'session', action: 'started' },
        { event_type: 'agent_invocation', where: { status: 'failure' } },
        { event_type: 'agent_invocation', where: { status: 'success' } },
        { event_type: 'feedback', action: 'accept' },
      ],
      window_seconds: 3_600,
      order: 'ordered',
      count_by: 'session',
    });
  },
};
