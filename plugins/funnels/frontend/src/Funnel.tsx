import { BarChart, defineWidget, formatters, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { LIVE, stepName, type FunnelStep, type SavedFunnel } from './api.ts';
import { NoFunnel } from './NoFunnel.tsx';
import { funnel } from '../../widgets.ts';

interface Options { funnelId?: number }

/** A saved funnel over the dashboard's range: units per step, conversion and time between steps. */
function Funnel({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  const saved = useWidgetData<{ funnels: SavedFunnel[] }>('/saved', {}, { withContext: false });
  const chosen = saved.data?.funnels.find((f) => f.id === options.funnelId) ?? saved.data?.funnels[0];
  const results = useWidgetData<{ steps: FunnelStep[] }>(`/saved/${chosen?.id ?? 0}/results`, {}, { ...LIVE, enabled: !!chosen, isEmpty: (d) => !d.steps.length || d.steps[0]!.count === 0 });
  if (!saved.loading && saved.data && !chosen) {
    return <NoFunnel context={context} />;
  }
  return (
    <WidgetState query={results} emptyText="Nobody started this funnel in this time range.">
      {({ steps }) => {
        const names = steps.map((s) => `${s.index + 1}. ${chosen ? stepName(chosen.definition.steps[s.index]!) : s.index}`);
        return (
          <div style={{ display: 'flex', flexDirection: 'column', height: '100%', gap: 8 }}>
            <div style={{ flex: 1, minHeight: 140 }}>
              <BarChart
                title={chosen?.name ?? 'Funnel'}
                summary={`${steps[0]!.count} started; ${steps[steps.length - 1]!.count} reached the last step.`}
                categories={names}
                categoryKey="step"
                series={[{ name: 'Reached', values: steps.map((s) => s.count) }, { name: 'Dropped', values: steps.map((s) => s.dropped) }]}
                stacked
                horizontal
              />
            </div>
            <div style={{ flex: 'none', maxHeight: '50%', overflow: 'auto' }}>
              <table className="orrery-table" aria-label="Steps">
                <thead>
                  <tr><th scope="col">Step</th><th scope="col">Reached</th><th scope="col">Of the start</th><th scope="col">Of the step before</th><th scope="col">Median time</th></tr>
                </thead>
                <tbody>
                  {steps.map((s, i) => (
                    <tr key={s.index}>
                      <td>{names[i]}</td>
                      <td>{fmt.number(s.count)}</td>
                      <td>{s.conversion_rate === null ? '—' : fmt.percent(s.conversion_rate)}</td>
                      <td>{s.index === 0 || s.step_conversion_rate === null ? '—' : fmt.percent(s.step_conversion_rate)}</td>
                      <td>{s.median_seconds_from_previous === null ? '—' : fmt.duration(s.median_seconds_from_previous * 1000)}</td>
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

export default defineWidget<Options>({ component: Funnel, declaration: funnel });
