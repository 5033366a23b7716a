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
