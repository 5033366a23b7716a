import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { ApiError } from '../lib/api.ts';

/**
 * Shown instead of a form when the server lacks the route the form needs. Says which
 * route, so an operator can tell "not built yet" from "not enabled", and that skipping
 * is safe: nothing was saved.
 */
export function Missing({ what, routes, children }: { what: string; routes: string[]; children?: ReactNode }) {
  return (
    <div className="missing" role="note">
      <p><strong>{what} is not available on this server yet.</strong></p>
      <p className="small">It needs {routes.map((r, i) => <span key={r}>{i ? ', ' : ''}<code>{r}</code></span>)}, which this server does not offer. Nothing was saved; skip this step and come back when it is there.</p>
      {children}
    </div>
  );
}

/** A readable sentence for a failed request. */
export function problem(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 403) return `You are not allowed to do this (${e.message}).`;
    if (e.status === 404) return `The server has no such route or item (${e.message}).`;
    return e.message;
  }
  return (e as Error)?.message ?? String(e);
}

/** Loads something once and on `reload()`; keeps the last good value while reloading. */
export function useLoad<T>(load: (() => Promise<T>) | null) {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: Boolean(load) });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!load) return;
    let alive = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => alive && setState({ data, loading: false }),
      (e: unknown) => alive && setState((s) => ({ data: s.data, error: problem(e), loading: false })),
    );
    return () => { alive = false; };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [tick, load === null]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function Loading({ what }: { what: string }) {
  return <p className="muted" role="status"><span className="orrery-spinner orrery-spinner--inline" aria-hidden="true" /> Loading {what}…</p>;
}
