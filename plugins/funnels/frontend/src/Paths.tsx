import { defineWidget, SankeyChart, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { usePost, useSavedFunnel, stepName } from './api.ts';
import { NoFunnel } from './NoFunnel.tsx';
import { paths } from '../../widgets.ts';
import { topPaths } from './topPaths.ts';

/** nodes per level a widget can still label */
const KEEP = 6;

interface Options { funnelId?: number; step: number }
interface Answer { step: number; dropped: number; next: Array<{ event: string; units: number }>; links: Array<{ source: string; target: string; units: number }> }

/** What the people who dropped at a step of a saved funnel did instead: their next two events. */
function Paths({ context, options }: WidgetProps<Options>) {
  const { funnel, none } = useSavedFunnel(options.funnelId);
  const step = Math.min(Math.max(1, options.step), (funnel?.definition.steps.length ?? 2) - 1);
  const q = usePost<Answer>('/query/next-events', funnel ? { ...funnel.definition, step } : null, (d) => d.dropped === 0);
  if (none) return <NoFunnel context={context} />;
  return (
    <WidgetState query={q} emptyText="Nobody dropped at this step in this time range.">
      {(d) => (
        <SankeyChart
          title={`After dropping before “${funnel ? stepName(funnel.definition.steps[step]!) : step}”`}
          summary={`${d.dropped} dropped; most often next: ${d.next[0]?.event ?? 'nothing'}.`}
          links={topPaths(d.links, KEEP).map((l) => ({ source: /^\d+: /.test(l.source) ? l.source : `dropped (${d.dropped})`, target: l.target, value: l.units }))}
        />
      )}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: Paths, declaration: paths });
