/**
 * What the live event stream shows: the last minutes as the server counted them when the widget
 * loaded (`GET /live/recent`, by event time), plus what the bus brought since (by commit time),
 * per minute over a window that moves with the clock. Pure, so the widget stays a view.
 */

export const LIVE_WINDOW_MINUTES = 15;
const MINUTE = 60_000;

/** one row of the stream: a minute the server counted, or one coalesced bus message */
export interface StreamEntry {
  at: string;
  count: number;
  types: Record<string, number>;
  agents: string[];
}

export interface LiveView {
  total: number;
  /** every minute of the window, oldest first, empty ones at 0 (so the axis always spans it) */
  points: Array<{ t: string; v: number }>;
  /** newest first */
  latest: StreamEntry[];
}

/**
 * The window's view at `now`. Live entries from before `loadedAt` are left out: the history
 * answered after them already counts those events.
 */
export function liveView(history: StreamEntry[], live: StreamEntry[], now: number, loadedAt: number, minutes = LIVE_WINDOW_MINUTES): LiveView {
  const end = (Math.floor(now / MINUTE) + 1) * MINUTE;
  const start = end - minutes * MINUTE;
  const inWindow = (e: StreamEntry) => {
    const t = Date.parse(e.at);
    return t >= start && t < end;
  };
  const entries = [
    ...history.filter(inWindow),
    ...live.filter((e) => Date.parse(e.at) >= loadedAt && inWindow(e)),
  ];
  const perMinute = new Array<number>(minutes).fill(0);
  let total = 0;
  for (const e of entries) {
    perMinute[Math.floor((Date.parse(e.at) - start) / MINUTE)]! += e.count;
    total += e.count;
  }
  return {
    total,
    points: perMinute.map((v, i) => ({ t: new Date(start + i * MINUTE).toISOString(), v })),
    latest: entries.sort((a, b) => Date.parse(b.at) - Date.parse(a.at)),
  };
}

/** "12 agent_invocation, 3 tool_call": the busiest types first */
export function describeTypes(types: Record<string, number>): string {
  return Object.entries(types)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([t, n]) => `${n} ${t}`)
    .join(', ');
}
