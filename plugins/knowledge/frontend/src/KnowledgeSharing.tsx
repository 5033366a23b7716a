import { defineWidget, Stat, TimeSeriesChart, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import type { Summary, TimelineRow } from './api.ts';
import { knowledgeSharing } from '../../widgets.ts';

/** The PRD's Knowledge sharing widget: creation, sharing (annotation) and reuse over time, with the reuse rates. */
type NoOptions = Record<string, never>;

function KnowledgeSharing(_props: WidgetProps<NoOptions>) {
  const summary = useWidgetData<Summary>('/summary', {}, { isEmpty: (d) => !d.suppressed && !d.created && !d.reused && !d.annotated });
  const timeline = useWidgetData<{ series: TimelineRow[] }>('/timeline', { granularity: 'day' }, { isEmpty: (d) => d.series.length === 0 });
  return (
    <WidgetState query={summary} emptyText="No knowledge artifacts were created, annotated or reused in this time range.">
      {(s) =>
        s.suppressed ? (
          <p className="orrery-state orrery-state--empty">Withheld: {s.reason} in this department.</p>
        ) : (
          <div style={{ display: 'flex', flexDirection: 'column', height: '100%', gap: 8 }}>
            <div style={{ display: 'flex', gap: 16, flexWrap: 'wrap' }}>
              <Stat label="Created" value={s.created} />
              <Stat label="Annotated" value={s.annotated} />
              <Stat label="Reused" value={s.reused} />
              <Stat label="Reuse rate" value={s.reuse_rate} format="percent" />
              <Stat label="Reused across departments" value={s.cross_department_reuse_rate} format="percent" />
            </div>
            <div style={{ flex: 1, minHeight: 120 }}>
              <WidgetState query={timeline}>
                {(t) => (
                  <TimeSeriesChart
                    title="Knowledge artifacts per day"
                    kind="bar"
                    missing="zero"
                    series={(['created', 'annotated', 'reused'] as const).map((k) => ({ name: k, points: t.series.map((r) => ({ t: r.bucket, v: r[k] })) }))}
                  />
                )}
              </WidgetState>
            </div>
          </div>
        )
      }
    </WidgetState>
  );
}

export default defineWidget<NoOptions>({ component: KnowledgeSharing, declaration: knowledgeSharing });
