import { defineWidget, formatters, Heatmap, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { activityHeatmap } from '../../widgets.ts';
import type { HeatmapAnswer } from '../../answers.ts';

interface Options { kind: 'hour_weekday' | 'department_week' }

function ActivityHeatmap({ context, options }: WidgetProps<Options>) {
  const f = formatters(context.locale, context.tz);
  const q = useWidgetData<HeatmapAnswer>('/activity/heatmap', { kind: options.kind }, { isEmpty: (d) => !d.cells.length });
  return (
    <WidgetState query={q}>
      {(d) => {
        if (d.kind === 'hour_weekday') {
          // weekday and hour names as the user's locale writes them (the route's hours are in their zone)
          const hours = [...Array(24).keys()].map((h) => f.hour(h));
          const byKey = new Map(d.cells.map((c) => [c.weekday * 24 + c.hour, c.users]));
          const z = f.weekdays.map((_, wd) => hours.map((_, h) => byKey.get((wd + 1) * 24 + h) ?? 0));
          return <Heatmap title="Active users by hour and weekday" x={hours} y={[...f.weekdays]} z={z} xKey="hour" yKey="weekday" />;
        }
        const cells = d.cells;
        const weeks = [...new Set(cells.map((c) => c.week))].sort();
        const depts = [...new Set(cells.map((c) => c.name ?? c.department_id))].sort();
        const z = depts.map((dp) => weeks.map((w) => cells.find((c) => (c.name ?? c.department_id) === dp && c.week === w)?.users ?? 0));
        return <Heatmap title="Active users by department and week" x={weeks.map((w) => f.date(w))} y={depts} z={z} xKey="week" yKey="department" />;
      }}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: ActivityHeatmap, declaration: activityHeatmap });
