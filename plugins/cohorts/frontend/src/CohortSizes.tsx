import { defineWidget, TimeSeriesChart, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { cohortSizes } from '../../widgets.ts';

interface Options { cohort_ids: string }
interface Sizes {
  cohorts: Array<{ id: string; name: string; kind: string; size: number; points: Array<{ at: string; size: number; joined: number; left: number }> }>;
}

/** Saved cohorts' sizes over the dashboard's range: a step after each recomputation. */
function CohortSizes({ options }: WidgetProps<Options>) {
  const ids = options.cohort_ids?.trim();
  const q = useWidgetData<Sizes>('/sizes', ids ? { cohort_ids: ids } : {}, { isEmpty: (d) => d.cohorts.length === 0 });
  return (
    <WidgetState query={q} emptyText="No saved cohorts yet. Save one under Cohorts (a behavioural rule or a list of people) to follow its size here.">
      {(d) => (
        <TimeSeriesChart
          title="Cohort sizes over time"
          summary={d.cohorts.map((c) => `${c.name}: ${c.size} now`).join('; ')}
          kind="line"
          format="number"
          yTitle="members"
          series={d.cohorts.map((c) => ({ name: c.name, points: c.points.map((p) => ({ t: p.at, v: p.size })) }))}
        />
      )}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: CohortSizes, declaration: cohortSizes });
