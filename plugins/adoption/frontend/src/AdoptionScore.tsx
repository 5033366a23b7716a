import { defineWidget, formatters, Gauge, TimeSeriesChart, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { dayRange } from './days.ts';
import { adoptionScore } from '../../widgets.ts';

interface Answer {
  history: Array<{ day: string; score: number; frequency: number; diversity: number; success: number; workflow: number; percentile: number | null }>;
  peers: Array<{ name: string | null; series: Array<{ day: string; score?: number; suppressed?: boolean }> }>;
}

/** The signed-in user's score (latest day), its four parts, and the department's mean over time. */
function AdoptionScore({ context }: WidgetProps) {
  const f = formatters(context.locale, context.tz);
  const q = useWidgetData<Answer>('/users/me', dayRange(context.timeRange), { withContext: false, live: ['scores'], isEmpty: (d) => !d.history.length });
  return (
    <WidgetState query={q} emptyText="No score yet: it is computed from your activity every few minutes.">
      {(d) => {
        const last = d.history[d.history.length - 1]!;
        const series = [
          { name: 'You', points: d.history.map((h) => ({ t: h.day, v: h.score })) },
          ...d.peers.map((p) => ({ name: `${p.name ?? 'Department'} mean`, points: p.series.map((x) => ({ t: x.day, v: x.suppressed ? null : (x.score ?? null) })) })),
        ];
        return (
          // side by side when the cell is wide enough, the chart below the score when it is not;
          // a cell made smaller than the widget's content scrolls rather than cutting it off
          <div style={{ display: 'flex', flexWrap: 'wrap', gap: 12, height: '100%', overflow: 'auto', alignContent: 'flex-start' }}>
            <div style={{ flex: '1 1 170px', minWidth: 0 }}>
              <div style={{ height: 130 }}>
                <Gauge title="Adoption score" value={last.score} min={0} max={100} thresholds={{ warn: 10, good: 50, higherIsBetter: true }} />
              </div>
              <dl style={{ fontSize: '.8rem', margin: 0, display: 'grid', gridTemplateColumns: 'auto auto', gap: '0 8px' }}>
                <dt>Frequency (40%)</dt><dd style={{ margin: 0 }}>{f.percent(last.frequency, 0)}</dd>
                <dt>Diversity (30%)</dt><dd style={{ margin: 0 }}>{f.percent(last.diversity, 0)}</dd>
                <dt>Success (20%)</dt><dd style={{ margin: 0 }}>{f.percent(last.success, 0)}</dd>
                <dt>Workflows (10%)</dt><dd style={{ margin: 0 }}>{f.percent(last.workflow, 0)}</dd>
                {last.percentile != null && (<><dt>Department percentile</dt><dd style={{ margin: 0 }}>{f.number(last.percentile, 1)}</dd></>)}
              </dl>
            </div>
            <div style={{ flex: '2 1 260px', minWidth: 0, height: '100%', minHeight: 180 }}>
              <TimeSeriesChart title="Your score and your department's" series={series} />
            </div>
          </div>
        );
      }}
    </WidgetState>
  );
}

export default defineWidget({ component: AdoptionScore, declaration: adoptionScore });
