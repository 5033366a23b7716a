import { BarChart, defineWidget, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';

interface Figures { events: number; active_days: number; diversity: number }
interface Answer {
  totals: (Figures & { sessions: number }) | null;
  compare: { teams: Array<Figures & { name: string | null; department_id: string }>; org: Figures };
}

const METRICS: Array<[keyof Figures, string]> = [
  ['events', 'Events'],
  ['active_days', 'Active days'],
  ['diversity', 'Things used'],
];

/** The signed-in user against the mean of each of their departments and of the org. */
function TeamComparison(_: WidgetProps) {
  const q = useWidgetData<Answer>('/me/analytics', {}, { isEmpty: (d) => !d.totals });
  return (
    <WidgetState query={q} emptyText="No activity of yours in this range yet.">
      {(d) => {
        const series = [
          { name: 'You', values: METRICS.map(([k]) => d.totals![k]) },
          ...d.compare.teams.map((t) => ({ name: `${t.name ?? 'Team'} (mean)`, values: METRICS.map(([k]) => t[k]) })),
          { name: 'Org (mean)', values: METRICS.map(([k]) => d.compare.org[k]) },
        ];
        return <BarChart title="You compared with your team and the org" categories={METRICS.map(([, l]) => l)} series={series} />;
      }}
    </WidgetState>
  );
}

export default defineWidget({ component: TeamComparison, defaults: {}, optionsVersion: 1 });
