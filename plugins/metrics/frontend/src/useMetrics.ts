import { useEffect, useState } from 'react';
import { useWidget, type WidgetData } from '@orrery/plugin-sdk/frontend';
import type { Answer } from './MetricView.tsx';
import { scopedQuery, type MetricsQueryOptions } from './scope.ts';

export type MetricsData = WidgetData<{ now: Answer; before: Answer | null }>;

/**
 * POSTs a metrics query over the dashboard's range, zone, department and agent filter (and,
 * when asked, over the previous period of the same length), refetching when any changes.
 */
export function useMetrics(query: MetricsQueryOptions | null, withPrevious: boolean): MetricsData {
  const ctx = useWidget();
  const [tick, setTick] = useState(0);
  const [state, setState] = useState<{ data?: { now: Answer; before: Answer | null }; error?: Error; loading: boolean; fetching: boolean }>({ loading: true, fetching: false });
  const key = JSON.stringify([query, withPrevious, ctx.timeRange.from, ctx.timeRange.to, ctx.tz, ctx.department?.id, ctx.filters?.agent_name, ctx.refreshKey, tick]);
  useEffect(() => {
    if (!query) return;
    const ac = new AbortController();
    const from = Date.parse(ctx.timeRange.from);
    const to = Date.parse(ctx.timeRange.to);
    const scope = (f: number, t: number) => ({ from: new Date(f).toISOString(), to: new Date(t).toISOString(), tz: ctx.tz, department: ctx.department, filters: ctx.filters });
    const ask = (b: unknown) => ctx.request<Answer>('/query', { method: 'POST', body: b, signal: ac.signal });
    setState((s) => ({ ...s, fetching: true }));
    Promise.all([
      ask(scopedQuery(query, scope(from, to))),
      withPrevious ? ask(scopedQuery(query, scope(from - (to - from), from))) : Promise.resolve(null),
    ]).then(
      ([now, before]) => { if (!ac.signal.aborted) setState({ data: { now, before }, loading: false, fetching: false }); },
      (error: Error) => { if (!ac.signal.aborted && error.name !== 'AbortError') setState((s) => ({ data: s.data, error, loading: false, fetching: false })); },
    );
    return () => ac.abort();
  }, [key]);
  return {
    ...state,
    empty: !state.loading && !state.error && !!state.data && state.data.now.series.length === 0,
    refetch: () => setTick((t) => t + 1),
  } as MetricsData;
}
