/**
 * The demo org's example experiment: the code reviewer's two prompt templates, which the demo
 * invocations carry half and half (`prompt_template_version` v7 / v8), compared over the
 * demo month. Created through the plugin's own validation and store, as the create route does.
 */
import type { DemoDataDecl } from '@orrery/plugin-sdk';
import { validateExperiment, type ExperimentDef } from './definition.ts';
import { createExperiment } from './store.ts';

export const DEMO_KEY = 'code-reviewer-prompt-v8';

export function demoExperiment(span: { from: Date }): ExperimentDef {
  return validateExperiment({
    key: DEMO_KEY,
    name: 'Code reviewer: prompt template v8',
    description: 'An example over the demo data: does the v8 prompt template review as reliably as v7, without costing more time or money?',
    agent_name: 'code-reviewer',
    unit: 'invocation',
    variant_field: 'prompt_template_version',
    variants: [{ key: 'v7', weight: 50 }, { key: 'v8', weight: 50 }],
    control: 'v7',
    metrics: [
      { name: 'success_rate', kind: 'proportion', where: { status: 'success' } },
      { name: 'latency', kind: 'mean', field: 'execution_time_ms', guardrail: true },
      { name: 'cost', kind: 'mean', field: 'cost_usd', guardrail: true },
    ],
    method: 'sequential',
    start_at: span.from.toISOString(),
  } as Parameters<typeof validateExperiment>[0]);
}

export const demoData: DemoDataDecl = {
  description: 'an experiment on the code reviewer’s prompt templates',
  async run(ctx, span) {
    await createExperiment(ctx, demoExperiment(span));
  },
};
