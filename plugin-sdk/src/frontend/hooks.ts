import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useWidget } from './context.tsx';
import { throttleBatch } from './throttle.ts';
import type { BusMessage, Query } from './types.ts';

export class WidgetRequestError extends Error {
  constructor(public readonly status: number, public readonly code: string, message: string, public readonly details?: unknown) {
    super(message);
  }
}

export interface WidgetData<T> {
  data: T | undefined;
  error: WidgetRequestError | Error | undefined;
  /** true until the first answer (later refetches keep showing the old data) */
  loading: boolean;
  /** true while any request is in flight */
  fetching: boolean;
  /** the answer came and holds nothing to show */
  empty: boolean;
  refetch(): void;
}

export interface WidgetDataOptions<T> {
  /** add `from`, `to`, `tz` and `department_id` from the widget context (default true) */
  withContext?: boolean;
  /** bus topics (of this plugin) that make the data stale: refetch, throttled */
  live?: string[];
  /** minimum ms between live refetches (default 2000) */
  liveThrottleMs?: number;
  /**
   * decides emptiness; default: null, [], or an object with arrays that are all empty (its
   * other fields, such as the range or the metric asked, are what the answer is about, not data)
   */
  isEmpty?(data: T): boolean;
  /** skip the request (e.g. until an option is chosen) */
  enabled?: boolean;
}

export function defaultIsEmpty(data: unknown): boolean {
  if (data === null || data === undefined) return true;
  if (Array.isArray(data)) return data.length === 0;
  if (typeof data === 'object') {
    const arrays = Object.values(data as Record<string, unknown>).filter(Array.isArray);
    return arrays.length > 0 && arrays.every((a) => a.length === 0);
  }
  return false;
}

/**
 * GET one of the widget's plugin routes, refetching when the time range, department,
 * query or refresh key change, and (with `live`) when the plugin publishes on a topic.
 */
export function useWidgetData<T = unknown>(path: string, query: Query = {}, opts: WidgetDataOptions<T> = {}): WidgetData<T> {
  const ctx = useWidget();
  const { withContext = true, enabled = true } = opts;
  const fullQuery: Query = useMemo(
    () =>
      withContext
        ? { from: ctx.timeRange.from, to: ctx.timeRange.to, tz: ctx.tz, department_id: ctx.department?.id, ...query }
        : query,
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [withContext, ctx.timeRange.from, ctx.timeRange.to, ctx.tz, ctx.department?.id, JSON.stringify(query)],
  );
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean; fetching: boolean }>({ loading: enabled, fetching: false });
  const [tick, setTick] = useState(0);
  const refetch = useCallback(() => setTick((t) => t + 1), []);
  const request = ctx.request;

  useEffect(() => {
    if (!enabled) return;
    const ac = new AbortController();
    setState((s) => ({ ...s, fetching: true }));
    request<T>(path, { query: fullQuery, signal: ac.signal }).then(
      (data) => { if (!ac.signal.aborted) setState({ data, loading: false, fetching: false }); },
      (error: Error) => {
        if (ac.signal.aborted || error.name === 'AbortError') return;
        setState((s) => ({ data: s.data, error, loading: false, fetching: false }));
      },
    );
    return () => ac.abort();
  }, [request, path, fullQuery, ctx.refreshKey, tick, enabled]);

  useRealtime(opts.live ?? [], refetch, { throttleMs: opts.liveThrottleMs ?? 2000 });

  const isEmpty = opts.isEmpty ?? defaultIsEmpty;
  return {
    data: state.data,
    error: state.error,
    loading: state.loading,
    fetching: state.fetching,
    empty: !state.loading && !state.error && state.data !== undefined && isEmpty(state.data),
    refetch,
  };
}

/** A topic name as published: names without a dot belong to the widget's own plugin. */
export function qualifyTopic(pluginId: string, topic: string): string {
  return topic.includes('.') ? topic : `${pluginId}.${topic}`;
}

/**
 * Subscribe to bus topics through the host's single socket. The handler gets the latest
 * message and every message since its last call, at most once per `throttleMs` (default 1000).
 */
export function useRealtime<T = unknown>(
  topic: string | string[],
  handler: (latest: BusMessage<T>, batch: BusMessage<T>[]) => void,
  opts: { throttleMs?: number } = {},
): void {
  const ctx = useWidget();
  const handlerRef = useRef(handler);
  handlerRef.current = handler;
  const topics = (Array.isArray(topic) ? topic : [topic]).map((t) => qualifyTopic(ctx.pluginId, t));
  const key = topics.join('|');
  const { subscribe } = ctx;
  const throttleMs = opts.throttleMs ?? 1000;
  useEffect(() => {
    if (!key) return;
    const th = throttleBatch<BusMessage<T>>((batch) => handlerRef.current(batch[batch.length - 1]!, batch), throttleMs);
    const offs = key.split('|').map((t) => subscribe(t, (m) => th.push(m as BusMessage<T>)));
    return () => {
      offs.forEach((off) => off());
      th.cancel();
    };
  }, [key, subscribe, throttleMs]);
}
