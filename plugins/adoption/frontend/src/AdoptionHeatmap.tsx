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
        return (
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
        );
      }}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: AdoptionHeatmap, declaration: adoptionHeatmap, defaults: { show: 'flagged_share' } });
