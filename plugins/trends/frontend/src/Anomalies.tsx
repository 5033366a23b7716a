import { useMemo } from 'react';
import { ChartFrame, defineWidget, formatters, timeSeriesSpec, toZonedWallTime, useWidget, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { anomalies as declaration } from '../../widgets.ts';
import { bandTraces, usePostQuery, type SeriesQuery } from './usePostQuery.ts';

interface Options { title: string; sensitivity: number; query: SeriesQuery }
interface Point { bucket: string; value: number | null; expected: number | null; lower: number | null; upper: number | null; anomaly: boolean; score: number | null }
interface Answer { points: Point[] }

/** A metric with its expected band (trend and season) and the buckets that stand out marked and listed. */
function Anomalies({ options }: WidgetProps<Options>) {
  const ctx = useWidget();
  const q = options.query;
  const title = options.title || `Anomalies: ${q.measure}${q.field ? ` of ${q.field}` : ''} · ${q.event_type}`;
  const data = usePostQuery<Answer>('/anomalies', q, { sensitivity: options.sensitivity }, (d) => !d.points.some((p) => p.value !== null));
  return (
    <WidgetState query={data}>
      {(a) => <AnomalyChart points={a.points} title={title} locale={ctx.locale} tz={ctx.tz} />}
    </WidgetState>
  );
}

function AnomalyChart({ points, title, locale, tz }: { points: Point[]; title: string; locale: string; tz: string }) {
  const fm = formatters(locale, tz);
  const flagged = useMemo(() => points.filter((p) => p.anomaly), [points]);
  const spec = useMemo(() => {
    const base = timeSeriesSpec({ series: [{ name: 'Actual', points: points.map((p) => ({ t: p.bucket, v: p.value })) }] }, { locale, tz });
    const x = points.map((p) => toZonedWallTime(p.bucket, tz));
    const band = bandTraces(x, points.map((p) => p.lower), points.map((p) => p.upper), 'Expected range', 'rgba(0, 150, 136, 0.16)');
    const marks = {
      type: 'scatter',
      mode: 'markers',
      name: 'Anomaly',
      x: flagged.map((p) => toZonedWallTime(p.bucket, tz)),
      y: flagged.map((p) => p.value),
      marker: { color: '#d62728', size: 10, symbol: 'circle-open', line: { width: 2.5 } },
      hovertemplate: '%{x}<br>Anomaly: %{y}<extra></extra>',
    };
    return {
      ...base,
      data: [...band, ...base.data, marks],
      drill: [[], [], ...(base.drill ?? []), []],
      table: {
        columns: ['time', 'value', 'expected', 'lower', 'upper', 'anomaly', 'score'],
        rows: points.map((p) => [fm.dateTime(p.bucket), p.value, p.expected, p.lower, p.upper, p.anomaly ? 'yes' : 'no', p.score]),
      },
      layout: { ...base.layout, showlegend: true },
    };
  }, [points, flagged, fm, locale, tz]);
  const summary = flagged.length
    ? `${flagged.length} of ${points.length} buckets stand out from the trend and season.`
    : `No bucket stands out from the trend and season (${points.length} buckets).`;
  return (
    <div className="orrery-trends" style={{ display: 'flex', flexDirection: 'column', height: '100%' }}>
      <div style={{ flex: 1, minHeight: 0 }}>
        <ChartFrame title={title} summary={summary} spec={spec} />
      </div>
      <p style={{ margin: '4px 0 0', fontSize: 12 }} aria-live="polite">{summary}</p>
      {flagged.length > 0 && (
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

export default defineWidget<Options>({ component: Anomalies, declaration });
