/**
 * How long a dashboard takes until its widgets have data, as the user sees it: from the
 * moment the dashboard page has its layout until the widgets' first requests have all
 * answered and none followed for a moment. Reported once per visit to the platform-health
 * plugin (its dashboard SLA series); a failed report is dropped silently.
 */
import { api } from '../lib/api.ts';

const QUIET_MS = 300;
/** a dashboard whose widgets asked nothing this long after its layout came has nothing to wait for */
const IDLE_START_MS = 1000;
/** requests that start this long after the start belong to later interaction, not to the load */
const FIRST_WAVE_MS = 15_000;

interface Visit {
  dashboardId: string;
  widgets: number;
  start: number;
  pending: number;
  lastEnd: number;
  requests: number;
  timer: ReturnType<typeof setTimeout> | null;
  done: boolean;
  /** resolved once the first wave has answered (or given up on) */
  loaded: Promise<void>;
  markLoaded(): void;
}

let current: Visit | null = null;

function settle(v: Visit) {
  if (v.timer) clearTimeout(v.timer);
  v.timer = setTimeout(() => {
    if (v.done || v.pending > 0 || v !== current || v.requests === 0) return;
    v.done = true;
    v.markLoaded();
    const loadMs = Math.round(v.lastEnd - v.start);
    void api.request('POST', '/api/v1/platform-health/dashboard-loads', { body: { dashboard_id: v.dashboardId, load_ms: loadMs, widgets: v.widgets } }).catch(() => undefined);
  }, QUIET_MS);
}

/** The dashboard page has its layout: a visit starts. */
export function startDashboardLoad(dashboardId: string, widgets: number) {
  if (current?.timer) clearTimeout(current.timer);
  current?.markLoaded();
  if (widgets <= 0) {
    current = null;
    return;
  }
  let markLoaded = () => {};
  const loaded = new Promise<void>((resolve) => { markLoaded = resolve; });
  const v: Visit = { dashboardId, widgets, start: performance.now(), pending: 0, lastEnd: 0, requests: 0, timer: null, done: false, loaded, markLoaded };
  current = v;
  // widgets that ask nothing (or a request that hangs) must not hold back what waits for the load
  setTimeout(() => { if (v.requests === 0) markLoaded(); }, IDLE_START_MS);
  setTimeout(markLoaded, FIRST_WAVE_MS);
}

/**
 * Resolves once the current dashboard's widgets have their first data (at once when no load is
 * under way): the page's own secondary requests (the filters bar's pickers) wait for it, so
 * they never compete with the widgets for the server's cores.
 */
export function afterDashboardLoad(): Promise<void> {
  return current && !current.done ? current.loaded : Promise.resolve();
}

/** A widget's data request: counted while the visit's first wave is under way. */
export function trackWidgetRequest<T>(p: Promise<T>): Promise<T> {
  const v = current;
  if (!v || v.done || performance.now() - v.start > FIRST_WAVE_MS) return p;
  v.pending++;
  v.requests++;
  const end = () => {
    v.pending--;
    v.lastEnd = performance.now();
    if (v.pending === 0) settle(v);
  };
  p.then(end, end);
  return p;
}
