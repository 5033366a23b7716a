import { BarChart, defineWidget, PortalLink, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { retentionCurves } from '../../widgets.ts';

interface Options { cohort_ids: string; period: 'day' | 'week' | 'month'; periods: number; counting: 'exact' | 'on_or_after' }
interface Curves { period: string; curves: Array<{ cohort_id: string; size: number; rates: number[] }> }
interface Saved { cohorts: Array<{ id: string; name: string }> }

/** Retention of several saved cohorts side by side: per period after joining, the share of each cohort retained. */
function RetentionCurves({ context, options }: WidgetProps<Options>) {
  const chosen = options.cohort_ids?.trim() ?? '';
  const saved = useWidgetData<Saved>('/', {}, { withContext: false });
  // none chosen in the settings: the first 10 saved cohorts (by name), as Cohort sizes does
  const ids = chosen || (saved.data?.cohorts ?? []).slice(0, 10).map((c) => c.id).join(',');
  const q = useWidgetData<Curves>(
    '/retention/curves',
    { cohort_ids: ids, period: options.period, periods: options.periods, counting: options.counting },
    { enabled: !!ids, isEmpty: (d) => d.curves.every((c) => c.size === 0) },
  );
  if (!ids && !saved.loading) return <p className="orrery-state orrery-state--empty">No saved cohorts yet. A cohort is a behavioural rule or a list of people: <PortalLink context={context} to="/p/cohorts/cohort">create one</PortalLink>, then pick up to 10 in this widget's settings to compare their retention.</p>;
  const name = (id: string) => saved.data?.cohorts.find((c) => c.id === id)?.name ?? id;
  return (
    <WidgetState query={q} emptyText="The chosen cohorts have no members whose periods started in this time range: widen the range or choose shorter periods.">
      {(d) => {
        const longest = Math.max(0, ...d.curves.map((c) => c.rates.length));
        return (
          <BarChart
            title={`Retention by ${d.period} since joining`}
            summary={d.curves.map((c) => `${name(c.cohort_id)}: ${c.size} members`).join('; ')}
            categories={Array.from({ length: longest }, (_, k) => `${d.period} ${k}`)}
            categoryKey={`${d.period}s after joining`}
            format="percent"
            series={d.curves.map((c) => ({ name: name(c.cohort_id), values: Array.from({ length: longest }, (_, k) => c.rates[k] ?? null) }))}
          />
        );
      }}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: RetentionCurves, declaration: retentionCurves });
