/**
 * The funnel semantics of API.md written the slow, obvious way: for every unit and
 * every attempt, every path of matching events is enumerated. The plugin's SQL is
 * never consulted; tests compare its answers with these.
 */
import { rng } from '@orrery/backend-test-utils/random';

/** the shared seeded generator, re-exported for this plugin's tests */
export { rng };

export interface Ev {
  event_id: string;
  event_type: string;
  action?: string;
  timestamp: string;
  user_id: string;
  session_id?: string;
  department_id?: string;
  [field: string]: unknown;
}

export interface RefStep {
  event_type: string;
  action?: string;
  where?: Record<string, string | number | Array<string | number>>;
}

export interface RefFunnel {
  steps: RefStep[];
  from: string;
  to: string;
  window_seconds?: number;
  order?: 'ordered' | 'strict' | 'unordered';
  step_windows_seconds?: Array<number | null>;
  count_by?: 'user' | 'session';
  breakdown?: string;
  exclusions?: Array<RefStep & { from_step: number; to_step: number }>;
}

export interface RefStepAnswer {
  index: number;
  count: number;
  conversion_rate: number | null;
  step_conversion_rate: number | null;
  dropped: number;
  median_seconds_from_previous: number | null;
  avg_seconds_from_previous: number | null;
}

export function matches(e: Ev, s: RefStep): boolean {
  if (e.event_type !== s.event_type) return false;
  if (s.action !== undefined && e.action !== s.action) return false;
  for (const [k, v] of Object.entries(s.where ?? {})) {
    const allowed = Array.isArray(v) ? v : [v];
    if (!allowed.includes(e[k] as string | number)) return false;
  }
  return true;
}

type Attempt = { t0: number; bd: string; reach: number; path: number[] };

/** All valid paths of one ordered/strict attempt, depth first. */
function orderedAttempt(f: RefFunnel, evs: Array<Ev & { t: number }>, a: number): { reach: number; path: number[] } {
  const W = (f.window_seconds ?? 14 * 86400) * 1000;
  const t0 = evs[a]!.t;
  const n = f.steps.length;
  const excl = f.exclusions ?? [];
  const exclTimes = excl.map((x) => evs.filter((e) => matches(e, x)).map((e) => e.t));
  const paths: number[][] = [];
  const valid = (path: number[]) => {
    const k = path.length - 1;
    return excl.every((x, j) => x.to_step > k || !exclTimes[j]!.some((tx) => tx > path[x.from_step]! && tx < path[x.to_step]!));
  };
  const walk = (path: number[]) => {
    paths.push(path);
    const k = path.length;
    if (k >= n) return;
    const prev = path[k - 1]!;
    const sw = f.step_windows_seconds?.[k];
    for (const e of evs) {
      if (e.t <= prev || e.t - t0 > W || !matches(e, f.steps[k]!)) continue;
      if (sw != null && e.t - prev > sw * 1000) continue;
      if (f.order === 'strict' && evs.some((o) => o.t > prev && o.t < e.t)) continue;
      const next = [...path, e.t];
      if (valid(next)) walk(next);
    }
  };
  walk([t0]);
  const reach = Math.max(...paths.map((p) => p.length - 1));
  // the path reaching the furthest step first, each earlier step as late as possible
  const best = paths
    .filter((p) => p.length - 1 === reach)
    .sort((p, q) => {
      if (p[reach] !== q[reach]) return p[reach]! - q[reach]!;
      for (let i = reach - 1; i >= 1; i--) if (p[i] !== q[i]) return q[i]! - p[i]!;
      return 0;
    })[0]!;
  return { reach, path: best };
}

function unorderedAttempt(f: RefFunnel, evs: Array<Ev & { t: number }>, a: number): { reach: number; path: number[] } {
  const W = (f.window_seconds ?? 14 * 86400) * 1000;
  const t0 = evs[a]!.t;
  const inWindow = evs.filter((e) => e.t >= t0 && e.t <= t0 + W);
  const firsts: number[] = [];
  f.steps.forEach((s) => {
    const hit = inWindow.filter((e) => matches(e, s)).map((e) => e.t);
    if (hit.length) firsts.push(Math.min(...hit));
  });
  firsts.sort((x, y) => x - y);
  return { reach: firsts.length - 1, path: firsts };
}

export function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function answer(units: Array<{ reach: number; path: number[] }>, n: number): RefStepAnswer[] {
  const counts = Array.from({ length: n }, (_, k) => units.filter((u) => u.reach >= k).length);
  return counts.map((count, k) => {
    const gaps = units.filter((u) => u.reach >= k).map((u) => (u.path[k]! - u.path[k - 1]!) / 1000);
    return {
      index: k,
      count,
      conversion_rate: counts[0] ? count / counts[0] : null,
      step_conversion_rate: k === 0 ? (count ? 1 : null) : counts[k - 1] ? count / counts[k - 1]! : null,
      dropped: k === 0 ? 0 : counts[k - 1]! - count,
      median_seconds_from_previous: k === 0 ? null : median(gaps),
      avg_seconds_from_previous: k === 0 || !gaps.length ? null : gaps.reduce((a, b) => a + b, 0) / gaps.length,
    };
  });
}

export function referenceFunnel(f: RefFunnel, events: Ev[]): { steps: RefStepAnswer[]; breakdown?: Array<{ value: string; steps: RefStepAnswer[] }> } {
  return referenceDetail(f, events).answer;
}

/** The answer, and per unit the attempt the answer uses (furthest step, earliest such attempt). */
export function referenceDetail(f: RefFunnel, events: Ev[]) {
  const from = Date.parse(f.from);
  const to = Date.parse(f.to);
  const W = (f.window_seconds ?? 14 * 86400) * 1000;
  const unitOf = (e: Ev) => (f.count_by === 'session' ? e.session_id ?? '' : e.user_id);
  const byUnit = new Map<string, Array<Ev & { t: number }>>();
  for (const e of events) {
    const t = Date.parse(e.timestamp);
    if (t < from || t > to + W || !unitOf(e)) continue;
    const u = unitOf(e);
    if (!byUnit.has(u)) byUnit.set(u, []);
    byUnit.get(u)!.push({ ...e, t });
  }
  const attempts = new Map<string, Attempt[]>();
  for (const [u, list] of byUnit) {
    list.sort((a, b) => a.t - b.t || (a.event_id < b.event_id ? -1 : 1));
    const out: Attempt[] = [];
    list.forEach((e, i) => {
      if (e.t < from || e.t >= to) return;
      const anchor = f.order === 'unordered' ? f.steps.some((s) => matches(e, s)) : matches(e, f.steps[0]!);
      if (!anchor) return;
      const r = f.order === 'unordered' ? unorderedAttempt(f, list, i) : orderedAttempt(f, list, i);
      out.push({ t0: e.t, bd: f.breakdown ? String(e[f.breakdown] ?? '') : '', ...r });
    });
    if (out.length) attempts.set(u, out);
  }
  const pick = (as: Attempt[]) => {
    const reach = Math.max(...as.map((a) => a.reach));
    return as.filter((a) => a.reach === reach).sort((a, b) => a.t0 - b.t0)[0]!;
  };
  const n = f.steps.length;
  const picked = new Map([...attempts.entries()].map(([u, as]) => [u, pick(as)]));
  const result: { steps: RefStepAnswer[]; breakdown?: Array<{ value: string; steps: RefStepAnswer[] }> } = { steps: answer([...picked.values()], n) };
  if (f.breakdown) {
    const byValue = new Map<string, Attempt[]>();
    for (const as of attempts.values()) {
      const values = new Set(as.map((a) => a.bd));
      for (const v of values) {
        if (!byValue.has(v)) byValue.set(v, []);
        byValue.get(v)!.push(pick(as.filter((a) => a.bd === v)));
      }
    }
    result.breakdown = [...byValue.entries()]
      .map(([value, units]) => ({ value, steps: answer(units, n) }))
      .sort((a, b) => b.steps[0]!.count - a.steps[0]!.count || a.value.localeCompare(b.value));
  }
  return { answer: result, units: picked, byUnit };
}

