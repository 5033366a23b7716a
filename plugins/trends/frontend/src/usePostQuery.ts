import { useEffect, useState } from 'react';
import { useWidget, type WidgetData } from '@orrery/plugin-sdk/frontend';

export interface SeriesQuery {
  event_type: string;
  measure: string;
  field?: string;
  where?: Record<string, unknown>;
  rate_where?: Record<string, unknown>;
  granularity: 'hour' | 'day' | 'week' | 'month';
}

/**
 * POSTs one of the plugin's routes with the widget's metrics query over the dashboard's
 * range, zone and department, refetching when any of them (or the body) changes.
 */
export function usePostQuery<T>(path: string, query: SeriesQuery, extra: Record<string, unknown>, isEmpty: (d: T) => boolean): WidgetData<T> {
  const ctx = useWidget();
  const [tick, setTick] = useState(0);
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean; fetching: boolean }>({ loading: true, fetching: false });
  const key = JSON.stringify([path, query, extra, ctx.timeRange.from, ctx.timeRange.to, ctx.tz, ctx.department?.id, ctx.refreshKey, tick]);
  useEffect(() => {
    const ac = new AbortController();
    const body = {
      ...extra,
      query: {
        ...query,
        from: new Date(Date.parse(ctx.timeRange.from)).toISOString(),
        to: new Date(Date.parse(ctx.timeRange.to)).toISOString(),
        tz: ctx.tz,
        ...(ctx.department ? { department_id: ctx.department.id } : {}),
      },
    };
    setState((s) => ({ ...s, fetching: true }));
    ctx.request<T>(path, { method: 'POST', body, signal: ac.signal }).then(
      (data) => { if (!ac.signal.aborted) setState({ data, loading: false, fetching: false }); },
      (error: Error) => { if (!ac.signal.aborted && error.name !== 'AbortError') setState((s) => ({ data: s.data, error, loading: false, fetching: false })); },
    );
    return () => ac.abort();
  }, [key]);
  return {
    ...state,
    empty: !state.loading && !state.error && !!state.data && isEmpty(state.data),
    refetch: () => setTick((t) => t + 1),
  } as WidgetData<T>;
}
