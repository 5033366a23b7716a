/**
 * The brute-force reference of the metrics query, computed from the events a test wrote:
 * filters, groups, buckets (in any IANA zone, across daylight-saving changes) and every
 * measure, in plain TypeScript with no SQL.
 */
export function rng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

export const FROM = Date.parse('2026-06-01T00:00:00Z');
export const SPAN = 3 * 86_400_000;
const AGENTS = ['planner', 'coder', 'reviewer'];
const DEPTS = ['d-eng', 'd-ops'];
const USERS = ['u1', 'u2', 'u3', 'u4', 'u5'];
const MODELS = ['m-small', 'm-large'];

export type Ev = Record<string, any> & { timestamp: string };

export function makeEvents(rand: () => number, n: number, tag: string, from = FROM, span = SPAN): Ev[] {
  const pick = <T,>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  return Array.from({ length: n }, (_, i) => ({
    event_id: `${tag}-${i}`,
    event_type: 'agent_invocation',
    timestamp: new Date(from + Math.floor(rand() * span)).toISOString(),
    user_id: pick(USERS),
    department_id: pick(DEPTS),
    session_id: `s${i % 7}`,
    agent_name: pick(AGENTS),
    agent_version: '1',
    invocation_id: `${tag}-inv-${i}`,
    model_used: pick(MODELS),
    input_tokens: Math.floor(rand() * 1000),
    output_tokens: Math.floor(rand() * 500),
    execution_time_ms: Math.round(rand() * 5000 * 100) / 100,
    cost_usd: Math.round(rand() * 1e6) / 1e6,
    status: rand() < 0.8 ? 'success' : 'failure',
  }));
}

// ---- the reference ------------------------------------------------------------------

function localParts(ms: number, tz: string) {
  const f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short' });
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return { y: +p.year!, mo: +p.month! - 1, d: +p.day!, h: +p.hour!, mi: +p.minute!, s: +p.second!, wd: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(p.weekday!) };
}
/** local wall time minus UTC at an instant, from Intl's formatting */
function offsetAt(ms: number, tz: string) {
  const p = localParts(ms, tz);
  return Date.UTC(p.y, p.mo, p.d, p.h, p.mi, p.s) - Math.floor(ms / 1000) * 1000;
}
/** the instant whose wall clock in tz reads local midnight of the given day (midnight is never skipped or repeated in the zones tested) */
function midnight(y: number, mo: number, d: number, tz: string) {
  const guess = Date.UTC(y, mo, d);
  return guess - offsetAt(guess - offsetAt(guess, tz), tz);
}
/** start of the bucket of `ms`: minutes and hours in absolute time (a repeated wall hour is two buckets), days and longer from the wall calendar */
export function bucketOf(ms: number, g: string, tz: string): number {
  if (g === 'minute' || g === 'hour') {
    const step = g === 'minute' ? 60_000 : 3_600_000;
    return ms - ((((ms + offsetAt(ms, tz)) % step) + step) % step);
  }
  const p = localParts(ms, tz);
  if (g === 'day') return midnight(p.y, p.mo, p.d, tz);
  if (g === 'week') return midnight(p.y, p.mo, p.d - p.wd, tz);
  if (g === 'month') return midnight(p.y, p.mo, 1, tz);
  throw new Error(g);
}
export function quantile(xs: number[], q: number) {
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  return lo + 1 < s.length ? s[lo]! + (h - lo) * (s[lo + 1]! - s[lo]!) : s[lo]!;
}
export function measure(rows: Ev[], q: any): number | null {
  const vals = () => rows.map((r) => Number(r[q.field]));
  switch (q.measure) {
    case 'count':
      return rows.length;
    case 'users':
      return new Set(rows.map((r) => r.user_id)).size;
    case 'sum':
      return vals().reduce((a, b) => a + b, 0);
  }
  if (!rows.length) return null;
  switch (q.measure) {
    case 'avg':
      return vals().reduce((a, b) => a + b, 0) / rows.length;
    case 'min':
      return Math.min(...vals());
    case 'max':
      return Math.max(...vals());
    case 'rate':
      return rows.filter((r) => matchesWhere(r, q.rate_where)).length / rows.length;
    default:
      return quantile(vals(), Number(q.measure.slice(1)) / 100);
  }
}
export function matchesWhere(r: Ev, where: Record<string, unknown> | undefined) {
  return Object.entries(where ?? {}).every(([k, v]) => (Array.isArray(v) ? v : [v]).map(String).includes(String(r[k])));
}
export function reference(events: Ev[], q: any, from: number, to: number) {
  const rows = events.filter((e) => {
    const t = Date.parse(e.timestamp);
    return t >= from && t < to && matchesWhere(e, q.where) && (!q.department_id || e.department_id === q.department_id);
  });
  const groups = new Map<string, Ev[]>();
  for (const r of rows) {
    const k = JSON.stringify((q.group_by ?? []).map((g: string) => String(r[g])));
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  if (!(q.group_by ?? []).length && !groups.size) groups.set('[]', []);
  const tz = q.tz ?? 'UTC';
  const buckets: number[] = [];
  if (q.granularity) {
    for (let b = bucketOf(from, q.granularity, tz); b < to; ) {
      buckets.push(b);
      const step = q.granularity === 'minute' ? 60_000 : 3_600_000;
      let next = b + step;
      while (bucketOf(next, q.granularity, tz) === b) next += step;
      b = bucketOf(next, q.granularity, tz);
    }
  }
  const zero = ['count', 'users', 'sum'].includes(q.measure);
  return [...groups.entries()]
    .map(([k, rs]) => ({
      group: Object.fromEntries((q.group_by ?? []).map((g: string, i: number) => [g, JSON.parse(k)[i]])),
      total: measure(rs, q),
      points: buckets.map((b) => {
        const inB = rs.filter((r) => bucketOf(Date.parse(r.timestamp), q.granularity, tz) === b);
        return { bucket: new Date(b).toISOString(), value: inB.length ? measure(inB, q) : zero ? 0 : null };
      }),
    }))
    .sort((a, b) => JSON.stringify(a.group).localeCompare(JSON.stringify(b.group)));
}

