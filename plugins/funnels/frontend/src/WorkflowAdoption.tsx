import { BarChart, defineWidget, formatters, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { LIVE, type AdoptionRow } from './api.ts';
import { workflowAdoption } from '../../widgets.ts';

interface Options { limit: number }

/** Per workflow: how many take part, how closely they follow it, how many finish. */
function WorkflowAdoption({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  const q = useWidgetData<{ active_users: number; workflows: AdoptionRow[] }>('/workflow-adoption', {}, LIVE);
  return (
    <WidgetState query={q} emptyText="No workflow enrolments in this time range.">
      {({ workflows, active_users }) => {
        const shown = workflows.slice(0, options.limit);
        const pct = (v: number | null) => (v === null ? 0 : v);
        return (
          <div style={{ display: 'flex', flexDirection: 'column', height: '100%', gap: 8 }}>
            <div style={{ flex: 1, minHeight: 140 }}>
              <BarChart
                title="Workflow adoption"
                summary={`Participation, adherence and completion of ${shown.length} workflows among ${active_users} active users.`}
                categories={shown.map((w) => w.workflow_id)}
                categoryKey="workflow_id"
                format="percent"
                series={[
                  { name: 'Participation', values: shown.map((w) => pct(w.participation)) },
                  { name: 'Adherence', values: shown.map((w) => pct(w.adherence_rate)) },
                  { name: 'Completion', values: shown.map((w) => pct(w.completion_rate)) },
                ]}
                onDrillDown={(d) => context.drillDown({ source: 'workflow-adoption', filters: d.filters })}
              />
            </div>
            <div style={{ flex: 'none', maxHeight: '50%', overflow: 'auto' }}>
              <table className="orrery-table" aria-label="Workflows">
                <thead>
                  <tr><th scope="col">Workflow</th><th scope="col">Enrolled</th><th scope="col">Completed</th><th scope="col">Adherence</th></tr>
                </thead>
                <tbody>
                  {shown.map((w) => (
                    <tr key={w.workflow_id}>
                      <td>{w.workflow_id}</td>
                      <td>{fmt.number(w.enrolled)}</td>
                      <td>{fmt.number(w.completed)}{w.completion_rate !== null ? ` (${fmt.percent(w.completion_rate)})` : ''}</td>
                      <td>{w.adherence_rate === null ? '—' : fmt.percent(w.adherence_rate)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        );
      }}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: WorkflowAdoption, declaration: workflowAdoption });
