import { defineWidget, Stat, TimeSeriesChart, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import type { SlaAnswer } from './api.ts';
import { slaCompliance } from '../../widgets.ts';

type Options = { scope?: 'org' | 'platform' };

const share = (within: number, total: number) => (total ? within / total : null);

function SlaCompliance({ options }: WidgetProps<Options>) {
  const q = useWidgetData<SlaAnswer>('/sla', { scope: options.scope ?? 'org' }, { isEmpty: (d) => d.days.every((x) => !x.dashboard_loads && !x.queries) });
  return (
    <WidgetState query={q} emptyText="No dashboard loads or queries were measured in this time range. Open a dashboard and they appear within a minute.">
      {(d) => {
        const loads = d.days.reduce((a, x) => a + x.dashboard_loads, 0);
        const queries = d.days.reduce((a, x) => a + x.queries, 0);
        const loadsIn = d.days.reduce((a, x) => a + (x.dashboard_compliance ?? 0) * x.dashboard_loads, 0);
        const queriesIn = d.days.reduce((a, x) => a + (x.query_compliance ?? 0) * x.queries, 0);
        return (
          <div style={{ display: 'flex', flexDirection: 'column', height: '100%', gap: 8 }}>
            <div style={{ display: 'flex', gap: 16, flexWrap: 'wrap' }}>
              <Stat label={`Dashboard loads within ${d.sla.dashboard_ms / 1000} s`} value={share(loadsIn, loads)} format="percent" />
              <Stat label={`Queries within ${d.sla.query_ms / 1000} s`} value={share(queriesIn, queries)} format="percent" />
            </div>
            <div style={{ flex: 1, minHeight: 120 }}>
              <TimeSeriesChart
                title="SLA compliance per day"
                format="percent"
                series={[
                  { name: 'Dashboard loads', points: d.days.map((x) => ({ t: x.day, v: x.dashboard_compliance })) },
                  { name: 'Queries', points: d.days.map((x) => ({ t: x.day, v: x.query_compliance })) },
                ]}
              />
            </div>
          </div>
        );
      }}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: SlaCompliance, declaration: slaCompliance });
