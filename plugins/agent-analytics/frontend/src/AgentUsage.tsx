import { defineWidget, Stat, TimeSeriesChart, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { LIVE, type SeriesPoint } from './api.ts';
import { agentUsage } from '../../widgets.ts';

interface Options { agent?: string; granularity: 'minute' | 'hour' | 'day' | 'week'; topAgents: number }

/** Invocations over time for the busiest agents, or one agent's invocations with its success and error rates. */
function AgentUsage({ context, options }: WidgetProps<Options>) {
  const all = useWidgetData<{ agents: Array<{ name: string; series: SeriesPoint[] }> }>(
    '/series',
    // the chart shows invocations only: skip the percentiles and user counts it would not draw
    { granularity: options.granularity, top: options.topAgents, measures: 'counts' },
    { ...LIVE, enabled: !options.agent },
  );
  const one = useWidgetData<{ series: SeriesPoint[] }>(
    `/${encodeURIComponent(options.agent ?? '')}/analytics`,
    { granularity: options.granularity },
    { ...LIVE, enabled: !!options.agent },
  );
  const zoom = (timeRange: { from: string; to: string }) =>
    context.drillDown({ source: 'agent-usage', filters: options.agent ? { agent: options.agent } : {}, timeRange });

  if (options.agent) {
    return (
      <WidgetState query={one} emptyText={`${options.agent} had no invocations in this time range.`}>
        {({ series }) => {
          const total = series.reduce((a, p) => a + p.invocations, 0);
          const ok = series.reduce((a, p) => a + p.successes, 0);
          return (
            <div style={{ display: 'flex', flexDirection: 'column', height: '100%', gap: 8 }}>
              <div style={{ display: 'flex', gap: 24 }}>
                <Stat label="Invocations" value={total} format="compact" />
                <Stat label="Success rate" value={total ? ok / total : null} format="percent" />
              </div>
              <div style={{ flex: 1, minHeight: 120 }}>
                <TimeSeriesChart
                  title={`${options.agent}: success and error rate`}
                  series={[
                    { name: 'success rate', points: series.map((p) => ({ t: p.bucket, v: p.success_rate })) },
                    { name: 'error rate', points: series.map((p) => ({ t: p.bucket, v: p.failure_rate })) },
                  ]}
                  format="percent"
                  onZoom={zoom}
                />
              </div>
            </div>
          );
        }}
      </WidgetState>
    );
  }
  return (
    <WidgetState query={all} emptyText="No agent invocations in this time range. Agents show up here as soon as they send events.">
      {({ agents }) => (
        <TimeSeriesChart
          title="Invocations by agent"
          series={agents.map((a) => ({ name: a.name, points: a.series.map((p) => ({ t: p.bucket, v: p.invocations })) }))}
          format="number"
          missing="zero"
          onZoom={zoom}
        />
      )}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: AgentUsage, declaration: agentUsage });
