import { useEffect, useState } from 'react';
import { createBatcher, useWidget, WidgetRequestError, type WidgetContext, type WidgetData } from '@orrery/plugin-sdk/frontend';
import type { Answer } from './MetricView.tsx';
import { scopedQuery, type MetricsQueryOptions } from './scope.ts';

export type MetricsData = WidgetData<{ now: Answer; before: Answer | null }>;

type Request = WidgetContext['request'];
type BatchAnswer = { answers: Array<Answer | { status: number; error: { code: string; message: string; details?: unknown } }> };

const alone = (request: Request, body: unknown, signal: AbortSignal) =>
  request<Answer>('/query', { method: 'POST', body, signal }).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));

/**
 * Every Metric widget of a page asks through one request: the queries of the widgets that
 * mount together go to POST /query/batch (one round trip, one route cost), each answered as
 * POST /query would. A single query still goes to /query. A batch the server refuses for its
 * shape (a malformed saved query) is asked again query by query, so the others still answer.
 */
const askMetrics = createBatcher<unknown, Answer, Request>(async (queries, request, signal) => {
  if (queries.length === 1) return [await alone(request, queries[0], signal)];
  try {
    const { answers } = await request<BatchAnswer>('/query/batch', { method: 'POST', body: { queries }, signal });
    return answers.map((a) => ('error' in a ? new WidgetRequestError(a.status, a.error.code, a.error.message, a.error.details) : a));
  } catch (e) {
    if ((e as { status?: number }).status !== 400) throw e;
    return Promise.all(queries.map((q) => alone(request, q, signal)));
  }
});

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
    const ask = (b: unknown) => askMetrics(b, ctx.request, ac.signal);
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
