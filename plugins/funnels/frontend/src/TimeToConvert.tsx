import { BarChart, defineWidget, formatters, Stat, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { usePost, useSavedFunnel } from './api.ts';
import { NoFunnel } from './NoFunnel.tsx';
import { timeToConvert } from '../../widgets.ts';

interface Options { funnelId?: number }
interface Answer { units: number; median_seconds: number | null; p90_seconds: number | null; bins: Array<{ from_seconds: number; to_seconds: number; units: number }> }

/** How long converting through a saved funnel took: distribution, median and p90. */
function TimeToConvert({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  const { funnel, none } = useSavedFunnel(options.funnelId);
  const q = usePost<Answer>('/query/time-to-convert', funnel ? { ...funnel.definition } : null, (d) => d.units === 0);
  if (none) return <NoFunnel context={context} />;
  return (
    <WidgetState query={q} emptyText="Nobody converted in this time range.">
      {(d) => (
        <div style={{ display: 'flex', flexDirection: 'column', height: '100%', gap: 8 }}>
          <div className="orrery-stats" style={{ display: 'flex', flexWrap: 'wrap', gap: 16 }}>
            <Stat label="Converted" value={d.units} />
            <Stat label="Median" value={d.median_seconds === null ? null : d.median_seconds * 1000} format="duration" />
            <Stat label="p90" value={d.p90_seconds === null ? null : d.p90_seconds * 1000} format="duration" />
          </div>
          <div style={{ flex: 1, minHeight: 120 }}>
            <BarChart
              title={`Time to convert${funnel ? `: ${funnel.name}` : ''}`}
              horizontal
              categories={d.bins.map((b) => `${fmt.duration(b.from_seconds * 1000)} – ${fmt.duration(b.to_seconds * 1000)}`)}
              series={[{ name: 'Units', values: d.bins.map((b) => b.units) }]}
            />
          </div>
        </div>
      )}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: TimeToConvert, declaration: timeToConvert });
