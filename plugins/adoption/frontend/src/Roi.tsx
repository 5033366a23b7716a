import { defineWidget, Stat, TimeSeriesChart, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { dayRange } from './days.ts';
import { roi } from '../../widgets.ts';

interface Answer {
  rates: { hourlyRate: number; errorCost: number; minutesSavedPerSuccess: number };
  totals: { hours_saved: number; errors_avoided: number; value_usd: number; cost_usd: number };
  /** day buckets up to a month, weeks beyond (the route decides) */
  bucket: 'day' | 'week';
  series: Array<{ start: string; value_usd: number; cost_usd: number }>;
}

function Roi({ context }: WidgetProps) {
  const q = useWidgetData<Answer>('/roi', { ...dayRange(context.timeRange), ...(context.department ? { department_id: context.department.id } : {}) }, { withContext: false, isEmpty: (d) => !d.series.length });
  return (
    <WidgetState query={q}>
      {(d) => (
        <div style={{ display: 'flex', flexDirection: 'column', gap: 8, height: '100%' }}>
          <div style={{ display: 'flex', gap: 16 }}>
            <Stat label={`Value (time at $${d.rates.hourlyRate}/h, errors at $${d.rates.errorCost})`} value={d.totals.value_usd} format="currency" />
            <Stat label="AI spend" value={d.totals.cost_usd} format="currency" />
            <Stat label="Hours saved" value={d.totals.hours_saved} />
          </div>
          <div style={{ flex: 1, minHeight: 120 }}>
            <TimeSeriesChart
              title={`Value and cost per ${d.bucket}`}
              format="currency"
              // a day or week without events is worth nothing and costs nothing
              missing="zero"
              series={[
                // UTC days and weeks: drawn as the calendar dates they are
                { name: 'value', points: d.series.map((s) => ({ t: s.start.slice(0, 10), v: s.value_usd })) },
                // AI spend is cents to dollars a day next to thousands of value: its own axis
                { name: 'cost', points: d.series.map((s) => ({ t: s.start.slice(0, 10), v: s.cost_usd })), axis: 'right' },
              ]}
            />
          </div>
        </div>
      )}
    </WidgetState>
  );
}

export default defineWidget({ component: Roi, declaration: roi });
