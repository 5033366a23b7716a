/**
 * The demo org's example budget, so the burn-down and the insights have something to show on
 * the demo events: the org's monthly AI spend, set a little under where the month is heading
 * (it reads "at risk"), through the plugin's own store as the create route writes it.
 */
import type { DemoDataDecl } from '@orrery/plugin-sdk';
import { insertBudget, stateOf } from './budgets.ts';
import { costOf, monthOf } from './cost.ts';

export const DEMO_BUDGET = 'AI spend';

/** 90 % of the month's projected spend, rounded down to $50, at least $100 */
export const demoAmount = (projectedUsd: number) => Math.max(100, Math.floor((projectedUsd * 0.9) / 50) * 50);

export const demoData: DemoDataDecl = {
  description: 'a monthly AI spend budget a little under where the month is heading',
  async run(ctx) {
    const month = monthOf(new Date());
    const heading = stateOf(1, await costOf(ctx, month.start, month.at, {}), month).projected_usd;
    await insertBudget(ctx, { name: DEMO_BUDGET, scope: 'org', scope_id: null, amount_usd: demoAmount(heading) });
  },
};
