import { useCallback, useEffect, useState } from 'react';
import { useRealtime, useWidget, useWidgetData, type WidgetData } from '@orrery/plugin-sdk/frontend';
import { inDepartment } from '../../inDepartment.ts';

/** The shapes of the plugin's routes, as the widgets read them. */
export interface AdoptionRow {
  workflow_id: string;
  enrolled: number;
  participation: number | null;
  completed: number;
  completion_rate: number | null;
  adherence_rate: number | null;
}
export interface FunnelStep {
  index: number;
  count: number;
  conversion_rate: number | null;
  step_conversion_rate: number | null;
  dropped: number;
  median_seconds_from_previous: number | null;
}
export interface SavedFunnel {
  id: number;
  name: string;
  definition: { steps: Array<{ event_type: string; action?: string; where?: Record<string, unknown> }> };
}

/** Widgets refetch when workflow events are committed. */
export const LIVE = { live: ['workflow_events'] };

/** A short name for a step: its type, action and the values it filters on. */
export function stepName(s: SavedFunnel['definition']['steps'][number]): string {
  const values = Object.values(s.where ?? {}).map((v) => (Array.isArray(v) ? v.join('|') : String(v)));
  return [s.event_type, s.action, ...values].filter(Boolean).join(' ');
}

/**
 * POST to one of the plugin's routes with the dashboard's range, refetching when the range
 * or the body change (the SDK's data hook only GETs). Same shape as `useWidgetData`.
 */
export function usePost<T>(path: string, body: Record<string, unknown> | null, isEmpty: (d: T) => boolean): WidgetData<T> {
  const ctx = useWidget();
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const refetch = useCallback(() => setTick((t) => t + 1), []);
  // the body is compared by value: a new object with the same content does not refetch
  // the dashboard's department limits every step, as the saved funnel's results route does
  const department = ctx.department?.id;
  const scoped = body && department && Array.isArray(body.steps) ? inDepartment(body as { steps: Array<{ where?: Record<string, unknown> }> }, department) : body;
  const key = JSON.stringify(scoped);
  useEffect(() => {
    if (!scoped) return;
    const ac = new AbortController();
    ctx.request<T>(path, { method: 'POST', body: { ...scoped, from: ctx.timeRange.from, to: ctx.timeRange.to }, signal: ac.signal }).then(
      (data) => { if (!ac.signal.aborted) setState({ data, loading: false }); },
      (error: Error) => { if (!ac.signal.aborted && error.name !== 'AbortError') setState((s) => ({ data: s.data, error, loading: false })); },
    );
    return () => ac.abort();
  }, [path, key, ctx.timeRange.from, ctx.timeRange.to, ctx.refreshKey, tick]);
  useRealtime(LIVE.live, refetch, { throttleMs: 5000 });
  return {
    data: state.data,
    error: state.error,
    loading: state.loading,
    fetching: state.loading,
    empty: !state.loading && !state.error && state.data !== undefined && isEmpty(state.data),
    refetch,
  };
}

/** The saved funnel a widget shows: the one of its options, else the first. */
export function useSavedFunnel(funnelId: number | undefined): { funnel: SavedFunnel | undefined; none: boolean } {
  const saved = useWidgetData<{ funnels: SavedFunnel[] }>('/saved', {}, { withContext: false });
  const funnel = saved.data?.funnels.find((f) => f.id === funnelId) ?? saved.data?.funnels[0];
  return { funnel, none: !saved.loading && !!saved.data && !funnel };
}

