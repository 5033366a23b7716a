import { defineWidget, formatters, Heatmap, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { dayRange } from './days.ts';
import { adoptionHeatmap } from '../../widgets.ts';

interface Options { show: 'score' | 'flagged_share' }
interface Cell { department_id: string; name: string | null; week: string; users: number; suppressed: boolean; score?: number; flagged_share?: number; flagged?: number; by_kind?: Record<string, number> }

function AdoptionHeatmap({ context, options }: WidgetProps<Options>) {
  const f = formatters(context.locale, context.tz);
  const q = useWidgetData<{ cells: Cell[] }>('/heatmap', dayRange(context.timeRange), { withContext: false, isEmpty: (d) => !d.cells.length, live: ['scores'] });
  return (
    <WidgetState query={q} emptyText="No scores in this range yet.">
      {(d) => {
        const weeks = [...new Set(d.cells.map((c) => c.week))].sort();
        const depts = [...new Set(d.cells.map((c) => c.name ?? c.department_id))].sort();
        // suppressed cells (groups under the minimum size) stay blank
        const z = depts.map((dp) => weeks.map((w) => {
          const c = d.cells.find((x) => (x.name ?? x.department_id) === dp && x.week === w);
          return c && !c.suppressed ? (options.show === 'score' ? c.score! : c.flagged_share!) : null;
        }));
        // the chart's tooltip shows the share; the kinds behind it, week by week, are listed under it
        const KINDS = [['struggling', 'Struggling'], ['slipping', 'Slipping'], ['not_started', 'Not started'], ['light_use', 'Light use']] as const;
        const perWeek = weeks.map((w) => {
          const cells = d.cells.filter((c) => c.week === w && !c.suppressed);
          return { w, counts: KINDS.map(([k]) => cells.reduce((a, c) => a + (c.by_kind?.[k] ?? 0), 0)) };
        });
        return (
          <div style={{ display: 'flex', flexDirection: 'column', height: '100%' }}>
          <div style={{ flex: 1, minHeight: 0 }}>
          <Heatmap
            title={options.show === 'score' ? 'Mean adoption score by department and week' : 'Share of users needing support by department and week'}
            summary="Blank cells belong to groups smaller than the minimum size and are not shown."
            // weeks are calendar weeks, named by their Monday's date
            x={weeks.map((w) => f.date(w.slice(0, 10)))}
            y={depts}
            z={z}
            xKey="week"
            yKey="department"
            format={options.show === 'score' ? 'number' : 'percent'}
          />
          </div>
          {options.show !== 'score' && (
            <table aria-label="People needing support by kind and week" style={{ fontSize: '.8rem', borderCollapse: 'collapse', marginTop: 4 }}>
              <thead>
                <tr>
                  <th scope="col" style={{ textAlign: 'left', paddingRight: 8 }}>Week of</th>
                  {KINDS.map(([k, label]) => <th key={k} scope="col" style={{ textAlign: 'right', paddingRight: 8 }}>{label}</th>)}
                </tr>
              </thead>
              <tbody>
                {perWeek.map(({ w, counts }) => (
                  <tr key={w}>
                    <th scope="row" style={{ textAlign: 'left', fontWeight: 'normal', paddingRight: 8 }}>{f.date(w.slice(0, 10))}</th>
                    {counts.map((n, i) => <td key={KINDS[i]![0]} style={{ textAlign: 'right', paddingRight: 8 }}>{f.number(n)}</td>)}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          </div>
        );
      }}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: AdoptionHeatmap, declaration: adoptionHeatmap, defaults: { show: 'flagged_share' } });
