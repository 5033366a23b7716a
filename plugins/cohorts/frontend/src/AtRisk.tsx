import { defineWidget, formatters, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { atRisk } from '../../widgets.ts';

interface Options { period_days: number; threshold: number; limit: number }
interface AtRiskAnswer {
  period_days: number;
  threshold: number;
  backtest_auc: number | null;
  scored: number;
  users: Array<{ user_id: string; email?: string | null; display_name?: string | null; department_id: string; probability: number; features: Record<string, number> }>;
}

/** Users likely to be inactive next period, with the model's backtest beside them so the list is read with its accuracy. */
function AtRisk({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  // the churn model looks at the weeks before now, not at the dashboard's range
  const q = useWidgetData<AtRiskAnswer>('/churn/at-risk', { period_days: options.period_days, threshold: options.threshold, limit: options.limit, department_id: context.department?.id }, { withContext: false, isEmpty: (d) => d.users.length === 0 });
  return (
    <WidgetState query={q} emptyText="Nobody is above the risk threshold.">
      {(d) => (
        <div style={{ overflow: 'auto', height: '100%', fontSize: '.85rem' }}>
          <p style={{ margin: '0 0 4px' }}>
            {fmt.number(d.users.length)} of {fmt.number(d.scored)} active users may be inactive in the next {d.period_days} days
            {d.backtest_auc !== null ? ` · backtest AUC ${fmt.number(d.backtest_auc, 2)}` : ''}
          </p>
          <table className="orrery-table" style={{ width: '100%', borderCollapse: 'collapse' }}>
            <thead>
              <tr>
                <th scope="col" style={{ textAlign: 'left' }}>User</th>
                <th scope="col" style={{ textAlign: 'right' }}>Risk</th>
                <th scope="col" style={{ textAlign: 'right' }}>Days since last event</th>
                <th scope="col" style={{ textAlign: 'right' }}>Failure share</th>
              </tr>
            </thead>
            <tbody>
              {d.users.map((u) => (
                <tr key={u.user_id}>
                  <th scope="row" style={{ textAlign: 'left' }}>
                    <button type="button" className="orrery-link" title={u.email ?? u.user_id} onClick={() => context.drillDown({ source: 'at-risk', filters: { user_id: u.user_id } })}>
                      {u.display_name || u.email || u.user_id}
                    </button>
                  </th>
                  <td style={{ textAlign: 'right' }}>{fmt.percent(u.probability, 0)}</td>
                  <td style={{ textAlign: 'right' }}>{fmt.number(u.features.days_since_last_event ?? 0, 0)}</td>
                  <td style={{ textAlign: 'right' }}>{fmt.percent(u.features.error_rate ?? 0, 0)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: AtRisk, declaration: atRisk });
