import { ChartFrame, defineWidget, formatters, PALETTE, toZonedWallTime, useWidgetData, WidgetState, type PlotSpec, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { budgetBurnDown } from '../../widgets.ts';

interface Options { budget: string }
interface Point { bucket: string; end: string; ideal_remaining: number; remaining: number | null; projected_remaining: number | null }
interface Answer {
  budget: { id: string; name: string; scope: string; scope_id: string | null; amount_usd: number } | null;
  state: { spent_usd: number; burn_rate_usd_per_day: number; projected_usd: number; share: number; status: 'on_track' | 'at_risk' | 'over'; period_start: string; period_end: string } | null;
  burn_down: Point[];
  budgets: Array<{ id: string; name: string }>;
}

const STATUS = { on_track: 'On track', at_risk: 'At risk: projected over budget', over: 'Over budget' } as const;

function spec(a: Answer, tz: string): PlotSpec {
  const x = a.burn_down.map((p) => toZonedWallTime(p.end, tz));
  const line = (name: string, key: keyof Point, color: string, dash?: string) => ({
    type: 'scatter' as const,
    mode: 'lines' as const,
    name,
    x,
    y: a.burn_down.map((p) => p[key]),
    line: { color, width: 2, ...(dash ? { dash } : {}) },
    hovertemplate: `${name}: $%{y:,.2f}<extra></extra>`,
  });
  return {
    empty: a.burn_down.length === 0,
    data: [line('Remaining', 'remaining', PALETTE[0]!), line('Ideal', 'ideal_remaining', PALETTE[4] ?? '#888', 'dot'), line('Projected', 'projected_remaining', PALETTE[3]!, 'dash')],
    layout: { yaxis: { title: { text: 'USD left' }, zeroline: true, zerolinewidth: 2 }, margin: { l: 56, r: 8, t: 8, b: 32 }, legend: { orientation: 'h' } },
    table: { columns: ['day_end', 'remaining_usd', 'ideal_usd', 'projected_usd'], rows: a.burn_down.map((p) => [p.end, p.remaining, p.ideal_remaining, p.projected_remaining]) },
  };
}

/** What is left of a monthly budget day by day, against the straight line and the projection. */
function BudgetBurnDown({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  const q = useWidgetData<Answer>('/burn-down', options.budget ? { budget: options.budget } : {}, { withContext: false, live: ['budgets'], isEmpty: (a) => a.budget === null });
  return (
    <WidgetState query={q} emptyText="No budget yet: an Admin can set one per org, department or agent with POST /api/v1/budgets.">
      {(a) => (
        <div style={{ display: 'flex', flexDirection: 'column', height: '100%', gap: 4 }}>
          <div aria-live="polite">
            <strong>{a.budget!.name}</strong>: {fmt.currency(a.state!.spent_usd)} of {fmt.currency(a.budget!.amount_usd)} spent ({fmt.percent(a.state!.share)}), projected {fmt.currency(a.state!.projected_usd)} by month end ·{' '}
            <span className={a.state!.status === 'on_track' ? 'is-good' : 'is-bad'}>{STATUS[a.state!.status]}</span>
          </div>
          {a.budgets.length > 1 && (
            <label>
              Budget{' '}
              <select value={a.budget!.id} onChange={(e) => context.setOptions({ budget: e.target.value })}>
                {a.budgets.map((b) => <option key={b.id} value={b.id}>{b.name}</option>)}
              </select>
            </label>
          )}
          <div style={{ flex: 1, minHeight: 140 }}>
            <ChartFrame spec={spec(a, context.tz)} title={`Burn-down of ${a.budget!.name}`} summary={`Budget left at the end of each day of the month: actual, the ideal straight line, and the projection at ${fmt.currency(a.state!.burn_rate_usd_per_day)} a day.`} />
          </div>
        </div>
      )}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: BudgetBurnDown, declaration: budgetBurnDown });
