import { defineWidget, PortalLink, TimeSeriesChart, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { cohortSizes } from '../../widgets.ts';
import { stepsToEnd } from './sizes.ts';

interface Options { cohort_ids: string }
interface Sizes {
  to: string;
  cohorts: Array<{ id: string; name: string; kind: string; size: number; points: Array<{ at: string; size: number; joined: number; left: number }> }>;
}


/** Saved cohorts' sizes over the dashboard's range: a step after each recomputation. */
function CohortSizes({ context, options }: WidgetProps<Options>) {
  const ids = options.cohort_ids?.trim();
  // sizes of whole cohorts (a cohort names its own department): the dashboard's department is not sent
  const q = useWidgetData<Sizes>('/sizes', { ...(ids ? { cohort_ids: ids } : {}), department_id: undefined }, { isEmpty: (d) => d.cohorts.length === 0 });
  if (q.empty && !ids) {
    return <p className="orrery-state orrery-state--empty" role="status">No saved cohorts yet. A cohort is a behavioural rule or a list of people: <PortalLink context={context} to="/p/cohorts/cohort">create one</PortalLink> and its size shows here.</p>;
  }
  return (
    <WidgetState query={q} emptyText="None of the cohorts chosen in this widget's settings exists any more.">
      {(d) => (
        <TimeSeriesChart
          title="Cohort sizes over time"
          summary={d.cohorts.map((c) => `${c.name}: ${c.size} now`).join('; ')}
          kind="step"
          format="number"
          yTitle="members"
          series={d.cohorts.map((c) => ({ name: c.name, points: stepsToEnd(c.points, d.to) }))}
        />
      )}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: CohortSizes, declaration: cohortSizes });
