import { useMemo } from 'react';
import { ChartFrame, defineWidget, formatters, useWidget, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { anomalies as anomaliesWidget } from '../../widgets.ts';
import { usePostQuery, type SeriesQuery } from './usePostQuery.ts';
import { anomalySpec, anomalySummary, type AnomalyPoint } from './specs.ts';

interface Options { title: string; sensitivity: number; query: SeriesQuery }

/** A metric with its expected band (trend and season) and the buckets that stand out marked and listed. */
function Anomalies({ options }: WidgetProps<Options>) {
  const q = options.query;
  const title = options.title || `Anomalies: ${q.measure}${q.field ? ` of ${q.field}` : ''} · ${q.event_type}`;
  const data = usePostQuery<{ points: AnomalyPoint[] }>('/anomalies', q, { sensitivity: options.sensitivity }, (d) => !d.points.some((p) => p.value !== null));
  return <WidgetState query={data}>{(a) => <AnomalyChart points={a.points} title={title} />}</WidgetState>;
}

function AnomalyChart({ points, title }: { points: AnomalyPoint[]; title: string }) {
  const { locale, tz } = useWidget();
  const fm = formatters(locale, tz);
  const flagged = useMemo(() => points.filter((p) => p.anomaly), [points]);
  const spec = useMemo(() => anomalySpec(points, { locale, tz }), [points, locale, tz]);
  const summary = anomalySummary(points);
  return (
    <div className="orrery-trends" style={{ display: 'flex', flexDirection: 'column', height: '100%' }}>
      <div style={{ flex: 1, minHeight: 0 }}>
        <ChartFrame title={title} summary={summary} spec={spec} />
      </div>
      <p style={{ margin: '4px 0 0', fontSize: 12 }} aria-live="polite">{summary}</p>
      {flagged.length > 0 && (
        // scrollable, so reachable by keyboard
        <ul aria-label="Anomalies" style={{ margin: 0, paddingLeft: 18, fontSize: 12, maxHeight: 72, overflowY: 'auto' }} tabIndex={0}>
          {flagged.slice(0, 20).map((p) => (
            <li key={p.bucket}>
              {fm.dateTime(p.bucket)}: {fm.number(p.value ?? 0)} (expected {fm.number(p.expected ?? 0)}, score {fm.number(p.score ?? 0, 1)})
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export default defineWidget<Options>({ component: Anomalies, declaration: anomaliesWidget });
