import { useWidgetData } from '@orrery/plugin-sdk/frontend';
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

/** How a per-agent widget picks its agent when its settings name none: the most invocations, or the most failures. */
export type Busiest = 'invocations' | 'failures';

/**
 * The agent a per-agent widget shows: the one its settings name or, when none is named, the
 * agent of the range that ranks first on the leaderboard by `by` (latency: the busiest; errors:
 * the one that failed most). So a latency or errors widget on a first screen shows an agent at
 * once, and says which, instead of asking for settings before it shows anything. `none`: no
 * agent had an invocation in the range; `value`: the chosen agent's invocations or failures.
 */
export function useChosenAgent(named: string | undefined, by: Busiest = 'invocations'): { agent: string | null; busiest: boolean; loading: boolean; none: boolean; value: number | null } {
  const top = useWidgetData<{ agents: Array<{ name: string; value: number | null }> }>('/leaderboard', { metric: by, limit: 1, measures: 'counts' }, { ...LIVE, enabled: !named });
  if (named) return { agent: named, busiest: false, loading: false, none: false, value: null };
  const first = top.data?.agents[0] ?? null;
  return { agent: first?.name ?? null, busiest: first !== null, loading: top.loading, none: !top.loading && !top.error && first === null, value: first?.value ?? null };
}

const BUSIEST_WORDS: Record<Busiest, string> = { invocations: 'the busiest agent', failures: 'the agent with the most failures' };

/** What a widget showing the busiest agent says about it: which agent, and how to choose another. */
export const busiestNote = (agent: string, by: Busiest = 'invocations') => `Showing ${agent}, ${BUSIEST_WORDS[by]} in this range; pick another in the widget’s settings.`;
/** What it says while it looks for that agent. */
export const findingBusiest = (by: Busiest = 'invocations') => `Finding ${BUSIEST_WORDS[by]}…`;
