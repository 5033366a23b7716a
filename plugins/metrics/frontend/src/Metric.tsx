import { useEffect, useState } from 'react';
import { BarChart, defineWidget, Stat, TimeSeriesChart, useWidget, WidgetState, type WidgetData, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { metric } from '../../widgets.ts';

interface Query {
  event_type: string;
  measure: string;
  field?: string;
  where?: Record<string, unknown>;
  rate_where?: Record<string, unknown>;
  group_by?: string[];
  granularity?: 'minute' | 'hour' | 'day' | 'week' | 'month';
}
interface Options { title: string; chart: 'line' | 'bar' | 'number'; query: Query }
interface Series { group: Record<string, string>; total: number | null; points: Array<{ bucket: string; value: number | null }> }
interface Answer { series: Series[] }

const label = (s: Series) => Object.values(s.group).join(' · ') || 'all';

/**
 * POSTs the widget's metrics query over the dashboard's range, zone and department (and,
 * for a single number, the previous period of the same length), refetching when they change.
 */
function useMetrics(query: Query, withPrevious: boolean): WidgetData<{ now: Answer; before: Answer | null }> {
  const ctx = useWidget();
  const [tick, setTick] = useState(0);
  const [state, setState] = useState<{ data?: { now: Answer; before: Answer | null }; error?: Error; loading: boolean; fetching: boolean }>({ loading: true, fetching: false });
  const key = JSON.stringify([query, withPrevious, ctx.timeRange.from, ctx.timeRange.to, ctx.tz, ctx.department?.id, ctx.refreshKey, tick]);
  useEffect(() => {
    const ac = new AbortController();
    const from = Date.parse(ctx.timeRange.from);
    const to = Date.parse(ctx.timeRange.to);
    const body = (f: number, t: number, q: Query) => ({
      ...q,
      from: new Date(f).toISOString(),
      to: new Date(t).toISOString(),
      tz: ctx.tz,
      ...(ctx.department ? { department_id: ctx.department.id } : {}),
    });
    const ask = (b: unknown) => ctx.request<Answer>('/query', { method: 'POST', body: b, signal: ac.signal });
    setState((s) => ({ ...s, fetching: true }));
    Promise.all([
      ask(body(from, to, query)),
      withPrevious ? ask(body(from - (to - from), from, { ...query, granularity: undefined })) : Promise.resolve(null),
    ]).then(
      ([now, before]) => { if (!ac.signal.aborted) setState({ data: { now, before }, loading: false, fetching: false }); },
      (error: Error) => { if (!ac.signal.aborted && error.name !== 'AbortError') setState((s) => ({ data: s.data, error, loading: false, fetching: false })); },
    );
    return () => ac.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return {
    ...state,
    empty: !state.loading && !state.error && !!state.data && state.data.now.series.length === 0,
    refetch: () => setTick((t) => t + 1),
  } as WidgetData<{ now: Answer; before: Answer | null }>;
}

/** Any metrics query, drawn as a line over time, bars per group, or one number with its change. */
function Metric({ options }: WidgetProps<Options>) {
  const q = options.query;
  const title = options.title || `${q.measure}${q.field ? ` of ${q.field}` : ''} · ${q.event_type}`;
  const data = useMetrics(q, options.chart === 'number');
  return (
    <WidgetState query={data}>
      {({ now, before }) => {
        if (options.chart === 'number') {
          const value = now.series[0]?.total ?? null;
          const prev = before?.series[0]?.total ?? null;
          return <Stat label={title} value={value} delta={value != null && prev ? (value - prev) / prev : null} />;
        }
        if (options.chart === 'bar' || !q.granularity) {
          return (
            <BarChart
              title={title}
              categories={now.series.map(label)}
              categoryKey={(q.group_by ?? [])[0] ?? 'group'}
              series={[{ name: q.measure, values: now.series.map((s) => s.total ?? 0) }]}
            />
          );
        }
        return <TimeSeriesChart title={title} series={now.series.map((s) => ({ name: label(s), points: s.points.map((p) => ({ t: p.bucket, v: p.value })) }))} />;
      }}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: Metric, declaration: metric });
