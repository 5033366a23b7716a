import { defineWidget, TimeSeriesChart, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { retentionTrend } from '../../widgets.ts';

interface Options {
  period: 'day' | 'week' | 'month';
  n: number;
  mode: 'first_time' | 'recurring';
  counting: 'exact' | 'on_or_after';
}
interface Trend { period: string; n: number; points: Array<{ cohort: string; size: number; retained: number; rate: number }> }

/** Period-n retention of successive cohorts: is retention getting better or worse? */
function RetentionTrend({ options }: WidgetProps<Options>) {
  const q = useWidgetData<Trend>('/retention/trend', { ...options }, { isEmpty: (d) => d.points.every((p) => p.size === 0) });
  const label = `${{ day: 'Day', week: 'Week', month: 'Month' }[options.period] ?? 'Period'} ${options.n} retention`;
  return (
    <WidgetState query={q} emptyText={`No cohort in this time range has reached ${label.toLowerCase()} yet.`}>
      {(d) => (
        <TimeSeriesChart
          title={`${label} by cohort`}
          summary={`${label} of each ${options.period} cohort, oldest first; cohorts with no members are left out.`}
          kind="line"
          format="percent"
          series={[{ name: label, points: d.points.filter((p) => p.size > 0).map((p) => ({ t: p.cohort, v: p.rate })) }]}
        />
      )}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: RetentionTrend, declaration: retentionTrend });
