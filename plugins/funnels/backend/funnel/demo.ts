/**
 * The demo org's example funnel, so the funnel widgets show something on the demo events: from a
 * working session to an agent's answer that the person accepted. Stored through the plugin's own
 * validation, as the create route does.
 */
import type { DemoDataDecl } from '@orrery/plugin-sdk';
import { saveFunnel } from './saved.ts';

export const DEMO_FUNNEL = 'From a session to an accepted answer';

export const demoData: DemoDataDecl = {
  description: 'a saved funnel from a session to an accepted answer',
  async run(ctx) {
    await saveFunnel(ctx, DEMO_FUNNEL, {
      steps: [
        { event_type: 'session', action: 'started' },
        { event_type: 'agent_invocation', where: { status: 'success' } },
        { event_type: 'feedback', action: 'accept' },
      ],
      window_seconds: 86_400,
      order: 'ordered',
      count_by: 'user',
    });
  },
};
