/**
 * One metrics answer drawn as the chosen chart — line, bar, stacked area, pie, table, single
 * number with its change, or heatmap (groups × buckets) — with the previous period of the same
 * length beside it where that reads well (dashed lines, the number's change). Used by the
 * Metric widget and the explorer page, so a chart saved from the explorer looks the same.
 */
import { BarChart, Heatmap, PieChart, Stat, TimeSeriesChart, formatters, useWidget } from '@orrery/plugin-sdk/frontend';

export type ChartKind = 'line' | 'bar' | 'area' | 'pie' | 'table' | 'number' | 'heatmap';
export const CHARTS: ReadonlyArray<{ id: ChartKind; label: string }> = [
  { id: 'line', label: 'Line' },
  { id: 'bar', label: 'Bar' },
  { id: 'area', label: 'Stacked area' },
  { id: 'pie', label: 'Pie' },
  { id: 'table', label: 'Table' },
  { id: 'number', label: 'Single number' },
  { id: 'heatmap', label: 'Heatmap' },
];

export interface Series { group: Record<string, string>; total: number | null; points: Array<{ bucket: string; value: number | null }> }
export interface Answer { series: Series[] }

export const seriesLabel = (s: Series) => Object.values(s.group).join(' · ') || 'all';

/** The previous period's points, moved onto this period's buckets (same length, same count). */
function shifted(prev: Series | undefined, now: Series): Array<{ t: string; v: number | null }> {
  if (!prev) return [];
  return now.points.map((p, i) => ({ t: p.bucket, v: prev.points[i]?.value ?? null }));
}

export function MetricView({ title, chart, now, before, timed }: { title: string; chart: ChartKind; now: Answer; before: Answer | null; timed: boolean }) {
  const ctx = useWidget();
  const fmt = formatters(ctx.locale, ctx.tz);
  const key = (s: Series) => JSON.stringify(s.group);
  const prevOf = new Map((before?.series ?? []).map((s) => [key(s), s]));

  if (chart === 'number') {
    const value = now.series.reduce<number | null>((a, s) => (s.total === null ? a : (a ?? 0) + s.total), null);
    const prev = before ? before.series.reduce<number | null>((a, s) => (s.total === null ? a : (a ?? 0) + s.total), null) : null;
    return <Stat label={title} value={value} delta={value != null && prev ? (value - prev) / prev : null} />;
  }
  if (chart === 'pie') {
    return <PieChart title={title} slices={now.series.map((s) => ({ label: seriesLabel(s), value: s.total ?? 0 }))} />;
  }
  if (chart === 'table') {
    return (
      <div className="orrery-table-wrap" style={{ overflow: 'auto', maxHeight: '100%' }}>
        <table className="orrery-table">
          <caption className="sr-only">{title}</caption>
          <thead><tr><th scope="col">Group</th><th scope="col">Total</th>{before && <th scope="col">Previous period</th>}{timed && now.series[0]?.points.map((p) => <th key={p.bucket} scope="col"><time dateTime={p.bucket}>{fmt.dateTime(p.bucket)}</time></th>)}</tr></thead>
          <tbody>
            {now.series.map((s) => (
              <tr key={key(s)}>
                <th scope="row">{seriesLabel(s)}</th>
                <td>{s.total === null ? '—' : fmt.number(s.total)}</td>
                {before && <td>{prevOf.get(key(s))?.total == null ? '—' : fmt.number(prevOf.get(key(s))!.total!)}</td>}
                {timed && s.points.map((p) => <td key={p.bucket}>{p.value === null ? '—' : fmt.number(p.value)}</td>)}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  if (chart === 'heatmap' && timed) {
    const buckets = now.series[0]?.points.map((p) => p.bucket) ?? [];
    return <Heatmap title={title} x={buckets.map((b) => fmt.dateTime(b))} y={now.series.map(seriesLabel)} z={now.series.map((s) => s.points.map((p) => p.value))} xKey="bucket" yKey="group" />;
  }
  if (chart === 'bar' || !timed) {
    return (
      <BarChart
        title={title}
        categories={now.series.map(seriesLabel)}
        categoryKey={Object.keys(now.series[0]?.group ?? {})[0] ?? 'group'}
        series={[{ name: 'This period', values: now.series.map((s) => s.total ?? 0) }, ...(before ? [{ name: 'Previous period', values: now.series.map((s) => prevOf.get(key(s))?.total ?? 0) }] : [])]}
      />
    );
  }
  const lines = now.series.map((s) => ({ name: seriesLabel(s), points: s.points.map((p) => ({ t: p.bucket, v: p.value })) }));
  const previous = chart === 'line' && before ? now.series.map((s) => ({ name: `${seriesLabel(s)} (previous period)`, points: shifted(prevOf.get(key(s)), s) })) : [];
  return <TimeSeriesChart title={title} kind={chart === 'area' ? 'area' : 'line'} stacked={chart === 'area'} series={[...lines, ...previous]} />;
}
