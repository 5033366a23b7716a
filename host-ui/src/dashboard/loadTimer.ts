/**
 * How long a dashboard takes until its widgets have data, as the user sees it: from the
 * moment the dashboard page has its layout until the widgets' first requests have all
 * answered and none followed for a moment. Reported once per visit to the platform-health
 * plugin (its dashboard SLA series); a failed report is dropped silently.
 */
import { api } from '../lib/api.ts';

const QUIET_MS = 300;
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
}

let current: Visit | null = null;

function settle(v: Visit) {
  if (v.timer) clearTimeout(v.timer);
  v.timer = setTimeout(() => {
    if (v.done || v.pending > 0 || v !== current || v.requests === 0) return;
    v.done = true;
    const loadMs = Math.round(v.lastEnd - v.start);
    void api.request('POST', '/api/v1/platform-health/dashboard-loads', { body: { dashboard_id: v.dashboardId, load_ms: loadMs, widgets: v.widgets } }).catch(() => undefined);
  }, QUIET_MS);
}

/** The dashboard page has its layout: a visit starts. */
export function startDashboardLoad(dashboardId: string, widgets: number) {
  if (current?.timer) clearTimeout(current.timer);
  current = widgets > 0 ? { dashboardId, widgets, start: performance.now(), pending: 0, lastEnd: 0, requests: 0, timer: null, done: false } : null;
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
