/**
 * The demo org's example alert rules, so the rules page and the firing-alerts widgets have
 * something to show on the demo events: the built-in per-agent error-rate rule as it ships
 * (the last minute, which new events feed), and the same condition over the last day, which the
 * demo events themselves can set off. Neither names a contact point, so nothing is sent. Created
 * through the plugin's own validation, as the routes do.
 */
import type { DemoDataDecl } from '@orrery/plugin-sdk';
import { createRule, type RuleBody } from './routes/rules.ts';
import { buildTemplate, TEMPLATES } from './templates.ts';

function fromTemplate(key: string): RuleBody {
  const t = TEMPLATES.find((x) => x.key === key)!;
  return { ...buildTemplate(t), name: t.title, contact_point_id: null } as RuleBody;
}

export const DEMO_RULES: RuleBody[] = [
  fromTemplate('agent-error-rate'),
  {
    ...fromTemplate('agent-error-rate'),
    name: 'Agent error rate over 10% in the last day',
    window_seconds: 86_400,
    interval_seconds: 300,
    for_seconds: 0,
    annotations: { summary: '{{ $labels.agent_name }}: {{ $value }} of invocations failed in the last day' },
  },
];

export const demoData: DemoDataDecl = {
  description: 'two alert rules: agent error rate over the last minute and over the last day',
  async run(ctx) {
    for (const r of DEMO_RULES) await createRule(ctx, r);
  },
};
