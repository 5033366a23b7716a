import { useState, type FormEvent } from 'react';
import { ActionStatus, Button, ChartFrame, defineWidget, Field, formatters, formGrid, PALETTE, toZonedWallTime, useAction, useWidgetData, WidgetState, type PlotSpec, type WidgetContext, type WidgetProps } from '@orrery/plugin-sdk/frontend';
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

/**
 * An Admin's form for a monthly budget (`POST /api/v1/budgets`): for the whole org, the
 * department the portal has selected, or one agent. The widget shows it when the org has no
 * budget yet, and on request beside a burn-down.
 */
function NewBudget({ context, onSaved, onCancel }: { context: WidgetContext<Options>; onSaved(): void; onCancel?: () => void }) {
  const dept = context.department;
  const [name, setName] = useState(dept ? `${dept.name} AI spend` : 'Monthly AI spend');
  const [scope, setScope] = useState<'org' | 'department' | 'agent'>(dept ? 'department' : 'org');
  const [agent, setAgent] = useState('');
  const [amount, setAmount] = useState('');
  const save = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save.run(async () => {
      const scopeId = scope === 'department' ? dept!.id : scope === 'agent' ? agent.trim() : null;
      await context.request('/api/v1/budgets', { method: 'POST', body: { name: name.trim(), scope, scope_id: scopeId, amount_usd: Number(amount) } });
      onSaved();
      return `Saved ${name.trim()}.`;
    });
  };
  return (
    <form onSubmit={submit} aria-label="New monthly budget" style={{ display: 'grid', gap: 8 }}>
      <div style={formGrid}>
        <Field label="Name"><input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} /></Field>
        <Field label="For">
          <select value={scope} onChange={(e) => setScope(e.target.value as typeof scope)}>
            <option value="org">The whole organization</option>
            {dept && <option value="department">{dept.name}</option>}
            <option value="agent">One agent</option>
          </select>
        </Field>
        {scope === 'agent' && <Field label="Agent name"><input required maxLength={200} value={agent} onChange={(e) => setAgent(e.target.value)} placeholder="e.g. code-reviewer" /></Field>}
        <Field label="Amount per month (USD)"><input required type="number" min={0.01} step="any" value={amount} onChange={(e) => setAmount(e.target.value)} /></Field>
      </div>
      <div style={{ display: 'flex', gap: 8 }}>
        <Button type="submit" variant="primary" disabled={save.busy}>Save budget</Button>
        {onCancel && <Button variant="quiet" onClick={onCancel}>Cancel</Button>}
      </div>
      <ActionStatus error={save.error} done={save.done} />
    </form>
  );
}

/** What is left of a monthly budget day by day, against the straight line and the projection. */
function BudgetBurnDown({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  const [adding, setAdding] = useState(false);
  // no budget is not an empty state here: an Admin gets the form to set one
  const q = useWidgetData<Answer>('/burn-down', options.budget ? { budget: options.budget } : {}, { withContext: false, live: ['budgets'], isEmpty: () => false });
  const admin = context.role === 'Admin';
  return (
    <WidgetState query={q}>
      {(a) => a.budget === null ? (
        admin ? (
          <div style={{ display: 'grid', gap: 8 }}>
            <p className="orrery-state--empty" style={{ margin: 0 }}>No budget yet. Set a monthly one to follow what is left of it day by day.</p>
            <NewBudget context={context} onSaved={q.refetch} />
          </div>
        ) : (
          <div className="orrery-state orrery-state--empty" role="status">No budget yet: an Admin can set one for the organization, a department or an agent.</div>
        )
      ) : (
        <div style={{ display: 'flex', flexDirection: 'column', height: '100%', gap: 4 }}>
          <div aria-live="polite">
            <strong>{a.budget.name}</strong>: {fmt.currency(a.state!.spent_usd)} of {fmt.currency(a.budget.amount_usd)} spent ({fmt.percent(a.state!.share)}), projected {fmt.currency(a.state!.projected_usd)} by month end ·{' '}
            <span className={a.state!.status === 'on_track' ? 'is-good' : 'is-bad'}>{STATUS[a.state!.status]}</span>
          </div>
          <div style={{ display: 'flex', gap: 8, alignItems: 'center', flexWrap: 'wrap' }}>
            {a.budgets.length > 1 && (
              <label>
                Budget{' '}
                <select value={a.budget.id} onChange={(e) => context.setOptions({ budget: e.target.value })}>
                  {a.budgets.map((b) => <option key={b.id} value={b.id}>{b.name}</option>)}
                </select>
              </label>
            )}
            {admin && !adding && <Button variant="quiet" onClick={() => setAdding(true)}>New budget</Button>}
          </div>
          {adding && <NewBudget context={context} onSaved={() => { setAdding(false); q.refetch(); }} onCancel={() => setAdding(false)} />}
          <div style={{ flex: 1, minHeight: 140 }}>
            <ChartFrame spec={spec(a, context.tz)} title={`Burn-down of ${a.budget.name}`} summary={`Budget left at the end of each day of the month: actual, the ideal straight line, and the projection at ${fmt.currency(a.state!.burn_rate_usd_per_day)} a day.`} />
          </div>
        </div>
      )}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: BudgetBurnDown, declaration: budgetBurnDown });
