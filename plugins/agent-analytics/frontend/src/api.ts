/** The shapes of the plugin's routes, as the widgets read them (see backend/params.ts). */
export interface Metrics {
  invocations: number;
  successes: number;
  failures: number;
  success_rate: number | null;
  failure_rate: number | null;
  p50_ms: number | null;
  p75_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  cost_per_success_usd: number | null;
  /** null when the request asked for `measures: 'counts'` */
  active_users: number | null;
}
export interface AgentRow extends Metrics { name: string; previous: Metrics | null }
export interface SeriesPoint extends Metrics { bucket: string }

/** Every widget refetches when the plugin says invocations were committed. */
export const LIVE = { live: ['invocations'] };

export const change = (now: number | null | undefined, before: number | null | undefined) =>
  now === null || now === undefined || !before ? null : (now - before) / before;
