/**
 * Brute-force references, written from the definitions in API.md and the
 * plugin README with nothing from the plugin's code: local calendar parts come
 * straight from Intl, every event is looked at one by one.
 */
import { expect } from 'vitest';
import { rng } from '@orrery/backend-test-utils/random';

/** the shared seeded generator, re-exported for this plugin's tests */
export { rng };

export interface Ev {
  event_id: string;
  event_type: string;
  timestamp: string;
  user_id: string;
  department_id: string;
  cost_usd?: number;
  input_tokens?: number;
  output_tokens?: number;
}

export type P = 'hour' | 'day' | 'week' | 'month';

const fmts = new Map<string, Intl.DateTimeFormat>();
function parts(t: number, tz: string) {
  let f = fmts.get(tz);
  if (!f) fmts.set(tz, (f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })));
  const o: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(t))) if (p.type !== 'literal') o[p.type] = Number(p.value);
  return o as { year: number; month: number; day: number; hour: number; minute: number; second: number };
}

/** An id of the period holding instant t; ids of successive periods differ by `step(p)`. */
export function periodId(t: number, p: P, tz: string): number {
  const x = parts(t, tz);
  if (p === 'hour') return t - (x.minute * 60 + x.second) * 1000 - (t % 1000);
  const dayNo = Date.UTC(x.year, x.month - 1, x.day) / 86_400_000;
  if (p === 'day') return dayNo;
  if (p === 'week') return dayNo - ((new Date(dayNo * 86_400_000).getUTCDay() + 6) % 7);
  return x.year * 12 + x.month - 1;
}
export const step = (p: P) => (p === 'hour' ? 3_600_000 : p === 'week' ? 7 : 1);

/** Periods whose start lies in [from, to): every period met walking the range, less the one already running at `from`. */
export function cohortIds(from: number, to: number, p: P, tz: string): number[] {
  const ids = new Set<number>();
  for (let t = from; t < to; t += 15 * 60_000) ids.add(periodId(t, p, tz));
  if (periodId(from - 1, p, tz) === periodId(from, p, tz)) ids.delete(periodId(from, p, tz));
  return [...ids].sort((a, b) => a - b);
}

export interface RefQuery {
  from: string;
  to: string;
  tz: string;
  period: P;
  periods: number;
  mode: 'first_time' | 'recurring';
  counting: 'exact' | 'on_or_after';
  start_event: string;
  return_event: string;
  department_id?: string;
  users?: Set<string>;
}

/** Cohort id → {size, retained[]} (all periods assumed to have begun). */
export function referenceRetention(events: Ev[], q: RefQuery): Map<number, { size: number; retained: number[] }> {
  const from = Date.parse(q.from);
  const to = Date.parse(q.to);
  const ids = cohortIds(from, to, q.period, q.tz);
  const keep = (e: Ev) => (!q.department_id || e.department_id === q.department_id) && (!q.users || q.users.has(e.user_id)) && e.user_id !== '';
  const starts = events.filter((e) => keep(e) && (q.start_event === 'any' || e.event_type === q.start_event));
  const returns = events.filter((e) => keep(e) && (q.return_event === 'any' || e.event_type === q.return_event));
  const members = new Map<number, Set<string>>(ids.map((id) => [id, new Set()]));
  if (q.mode === 'first_time') {
    const first = new Map<string, number>();
    for (const e of starts) {
      const t = Date.parse(e.timestamp);
      if (!first.has(e.user_id) || t < first.get(e.user_id)!) first.set(e.user_id, t);
    }
    for (const [u, t] of first) members.get(periodId(t, q.period, q.tz))?.add(u);
  } else {
    for (const e of starts) members.get(periodId(Date.parse(e.timestamp), q.period, q.tz))?.add(e.user_id);
  }
  const s = step(q.period);
  const out = new Map<number, { size: number; retained: number[] }>();
  for (const [c, users] of members) {
    const retained = new Array<number>(q.periods).fill(0);
    retained[0] = users.size;
    for (const u of users) {
      const ks = new Set<number>();
      for (const e of returns) if (e.user_id === u) ks.add((periodId(Date.parse(e.timestamp), q.period, q.tz) - c) / s);
      if (q.counting === 'exact') {
        for (const k of ks) if (k >= 1 && k < q.periods) retained[k]!++;
      } else {
        const maxK = Math.max(0, ...ks);
        for (let k = 1; k <= Math.min(maxK, q.periods - 1); k++) retained[k]!++;
      }
    }
    out.set(c, { size: users.size, retained });
  }
  return out;
}

/**
 * Rolling windows: cohorts are calendar periods of each user's start instant t0 (first start
 * event ever, or the first one in each period for `recurring`); return window k covers
 * [t0 + k·L, t0 + (k+1)·L). Cohort id → {size, retained[]}.
 */
export function referenceRolling(events: Ev[], q: RefQuery, L: number): Map<number, { size: number; retained: number[] }> {
  const ids = cohortIds(Date.parse(q.from), Date.parse(q.to), q.period, q.tz);
  const keep = (e: Ev) => (!q.department_id || e.department_id === q.department_id) && (!q.users || q.users.has(e.user_id)) && e.user_id !== '';
  const starts = events.filter((e) => keep(e) && (q.start_event === 'any' || e.event_type === q.start_event));
  const returns = events.filter((e) => keep(e) && (q.return_event === 'any' || e.event_type === q.return_event));
  // cohort id → user → t0
  const t0s = new Map<number, Map<string, number>>(ids.map((id) => [id, new Map()]));
  if (q.mode === 'first_time') {
    const first = new Map<string, number>();
    for (const e of starts) {
      const t = Date.parse(e.timestamp);
      if (!first.has(e.user_id) || t < first.get(e.user_id)!) first.set(e.user_id, t);
    }
    for (const [u, t] of first) t0s.get(periodId(t, q.period, q.tz))?.set(u, t);
  } else {
    for (const e of starts) {
      const t = Date.parse(e.timestamp);
      const m = t0s.get(periodId(t, q.period, q.tz));
      if (m && (!m.has(e.user_id) || t < m.get(e.user_id)!)) m.set(e.user_id, t);
    }
  }
  const out = new Map<number, { size: number; retained: number[] }>();
  for (const [c, users] of t0s) {
    const retained = new Array<number>(q.periods).fill(0);
    retained[0] = users.size;
    for (const [u, t0] of users) {
      const ks = new Set<number>();
      for (const e of returns) {
        const t = Date.parse(e.timestamp);
        if (e.user_id === u && t >= t0 + L) ks.add(Math.floor((t - t0) / L));
      }
      if (q.counting === 'exact') {
        for (const k of ks) if (k < q.periods) retained[k]!++;
      } else {
        const maxK = Math.max(0, ...ks);
        for (let k = 1; k <= Math.min(maxK, q.periods - 1); k++) retained[k]!++;
      }
    }
    out.set(c, { size: users.size, retained });
  }
  return out;
}

/**
 * A retention answer's cohorts against the reference: the cohort list is exactly the range's
 * periods, and each cohort's size and retained counts are the reference's. Returns the
 * reference for further checks.
 */
export function expectReference(events: Ev[], q: RefQuery, body: any): Map<number, { size: number; retained: number[] }> {
  const ref = referenceRetention(events, q);
  expect(body.cohorts.map((c: any) => periodId(Date.parse(c.cohort), q.period, q.tz))).toEqual(cohortIds(Date.parse(q.from), Date.parse(q.to), q.period, q.tz));
  for (const c of body.cohorts) {
    const want = ref.get(periodId(Date.parse(c.cohort), q.period, q.tz))!;
    expect({ cohort: c.cohort, size: c.size, retained: c.retained }).toEqual({ cohort: c.cohort, size: want.size, retained: want.retained });
  }
  return ref;
}
