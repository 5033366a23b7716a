/**
 * Brute-force references over the raw events a test generated: every figure the
 * executive routes answer, recomputed from the definitions in README.md with plain
 * loops, never with the plugin's code.
 */
export const DAY = 86_400_000;

export interface Inv {
  event_id: string;
  event_type: 'agent_invocation';
  timestamp: string;
  user_id: string;
  session_id: string;
  department_id: string;
  agent_name: string;
  agent_version: string;
  invocation_id: string;
  model_used: string;
  status: 'success' | 'failure';
  cost_usd: number;
  execution_time_ms: number;
  input_tokens: number;
  output_tokens: number;
}

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ms = (e: Inv) => Date.parse(e.timestamp);
export const within = (events: Inv[], from: number, to: number) => events.filter((e) => ms(e) >= from && ms(e) < to);
export const sumCost = (events: Inv[]) => events.reduce((s, e) => s + e.cost_usd, 0);

export function month(at: number) {
  const d = new Date(at);
  return { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
}

export interface Filter {
  department_id?: string;
  agent_name?: string;
}
const matches = (e: Inv, f: Filter) => (!f.department_id || e.department_id === f.department_id) && (!f.agent_name || e.agent_name === f.agent_name);

/** spent, burn rate, projection, share and status of a monthly budget at `at` (README.md → Budgets) */
export function refBudget(events: Inv[], amount: number, f: Filter, at: number) {
  const { start, end } = month(at);
  const spent = sumCost(within(events, start, at).filter((e) => matches(e, f)));
  const elapsed = (at - start) / DAY;
  const rate = elapsed > 0 ? spent / elapsed : 0;
  const projected = spent + rate * ((end - at) / DAY);
  const status = spent > amount ? 'over' : projected > amount ? 'at_risk' : 'on_track';
  return { spent, rate, projected, share: spent / amount, overspend: Math.max(0, projected - amount), status, start, end };
}

/** remaining budget per UTC day of the month: actual through `at`, the ideal line, projected after */
export function refBurnDown(events: Inv[], amount: number, f: Filter, at: number) {
  const b = refBudget(events, amount, f, at);
  const out: Array<{ bucket: string; ideal: number; remaining: number | null; projected: number | null }> = [];
  for (let t = b.start; t < b.end; t += DAY) {
    const end = Math.min(t + DAY, b.end);
    const ideal = amount * (1 - (end - b.start) / (b.end - b.start));
    if (t < at) {
      const cum = sumCost(within(events, b.start, Math.min(end, at)).filter((e) => matches(e, f)));
      out.push({ bucket: new Date(t).toISOString(), ideal, remaining: amount - cum, projected: end >= at ? amount - cum : null });
    } else {
      out.push({ bucket: new Date(t).toISOString(), ideal, remaining: null, projected: amount - (b.spent + b.rate * ((end - at) / DAY)) });
    }
  }
  return out;
}

/** ClickHouse's quantileExactInclusive: linear interpolation at (n − 1)·p of the sorted values */
export function quantileInclusive(values: number[], p: number): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const h = (s.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

export function refKpiValues(events: Inv[]) {
  const n = events.length;
  const cost = sumCost(events);
  return {
    cost_usd: cost,
    invocations: n,
    active_users: new Set(events.map((e) => e.user_id)).size,
    success_rate: n ? events.filter((e) => e.status === 'success').length / n : null,
    cost_per_invocation: n ? cost / n : null,
    p95_latency_ms: quantileInclusive(events.map((e) => e.execution_time_ms), 0.95),
  } as Record<string, number | null>;
}

export const BETTER: Record<string, 'higher' | 'lower'> = { cost_usd: 'lower', invocations: 'higher', active_users: 'higher', success_rate: 'higher', cost_per_invocation: 'lower', p95_latency_ms: 'lower' };

/** The insights of README.md → Insights, by their documented rules and thresholds. */
export function refInsights(events: Inv[], at: number, budgets: Array<{ id: string; amount: number; f: Filter }>) {
  const cur = within(events, at - 7 * DAY, at);
  const prev = within(events, at - 14 * DAY, at - 7 * DAY);
  const out = new Map<string, Record<string, unknown>>();

  // cost
  const c = sumCost(cur);
  const p = sumCost(prev);
  if (p > 0 && c + p >= 1 && Math.abs((c - p) / p) >= 0.2) {
    const pairs = new Map<string, { agent_name: string; model_used: string; d: number }>();
    for (const [list, sign] of [[cur, 1], [prev, -1]] as const)
      for (const e of list) {
        const k = `${e.agent_name}|${e.model_used}`;
        const x = pairs.get(k) ?? { agent_name: e.agent_name, model_used: e.model_used, d: 0 };
        x.d += sign * e.cost_usd;
        pairs.set(k, x);
      }
    const up = c > p;
    let top: { agent_name: string; model_used: string; d: number } | null = null;
    for (const x of pairs.values()) if (!top || (up ? x.d > top.d : x.d < top.d)) top = x;
    out.set('cost_change', { current_usd: c, previous_usd: p, change: (c - p) / p, top: { agent_name: top!.agent_name, model_used: top!.model_used, delta_usd: top!.d, share_of_change: top!.d / (c - p) } });
  }

  // adoption per department
  const deps = new Set([...cur, ...prev].map((e) => e.department_id));
  for (const d of deps) {
    const uc = new Set(cur.filter((e) => e.department_id === d).map((e) => e.user_id)).size;
    const up = new Set(prev.filter((e) => e.department_id === d).map((e) => e.user_id)).size;
    if (Math.max(uc, up) < 5 || up === 0) continue;
    if (Math.abs((uc - up) / up) >= 0.25) out.set(`adoption_change:${d}`, { department_id: d, current_users: uc, previous_users: up, change: (uc - up) / up });
  }

  // error rate per agent
  const agents = new Set([...cur, ...prev].map((e) => e.agent_name));
  for (const a of agents) {
    const ic = cur.filter((e) => e.agent_name === a);
    const ip = prev.filter((e) => e.agent_name === a);
    if (ic.length < 20 || ip.length < 20) continue;
    const fc = ic.filter((e) => e.status === 'failure').length;
    const fp = ip.filter((e) => e.status === 'failure').length;
    if (fc / ic.length - fp / ip.length >= 0.05)
      out.set(`error_rate_jump:${a}`, { agent_name: a, current_rate: fc / ic.length, previous_rate: fp / ip.length, current_failures: fc, current_invocations: ic.length, previous_failures: fp, previous_invocations: ip.length });
  }

  // budgets
  for (const b of budgets) {
    const s = refBudget(events, b.amount, b.f, at);
    if (s.status !== 'on_track') out.set(`budget:${b.id}`, { spent_usd: s.spent, projected_usd: s.projected, status: s.status });
  }
  return out;
}
