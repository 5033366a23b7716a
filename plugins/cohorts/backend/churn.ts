/**
 * Churn prediction: per user, the probability of having no event in the next
 * period, from recency, frequency, regularity, trend and error rate.
 *
 * Method: logistic regression on standardized features, fitted by batch
 * gradient descent with a small L2 penalty, written here. Why: five features
 * and a few thousand examples per org need nothing bigger; the coefficients
 * can be shown and read; it is deterministic (same data, same model) and adds
 * no dependency. Training data are the org's own history: snapshots every
 * period back in time, each labelled by what happened in the period after it.
 *
 * Backtest (time split): the model is fitted on snapshots strictly before the
 * last labelled one and scored on that last one, whose outcome is known — so
 * no example is scored by a model that saw its future. The at-risk list uses a
 * model refitted on every labelled snapshot.
 *
 * ClickHouse gives one row per user and day (events, invocations, failures);
 * features are sums over those rows.
 */
import type { TenantContext } from '@orrery/plugin-sdk';

const DAY = 86_400_000;
export const FEATURES = ['days_since_last_event', 'log_events_4p', 'active_periods_of_4', 'trend', 'error_rate'] as const;
export const HISTORY_PERIODS = 4;

export interface ChurnSpec {
  asOf: number;
  periodDays: number;
  /** labelled snapshots used for training (the backtest holds the last one out) */
  snapshots: number;
  threshold: number;
  departmentId?: string;
}

interface Daily { events: number; invocations: number; failures: number }
export interface Example { user_id: string; department_id: string; x: number[]; y: number | null }

/** Per user: day index (0 = the 24 h before asOf) → counts, and the department of their latest event. */
async function dailyCounts(ctx: TenantContext, spec: ChurnSpec) {
  const days = (spec.snapshots + 1 + HISTORY_PERIODS) * spec.periodDays + 1;
  const params: Record<string, unknown> = { asof_ms: spec.asOf, from: chTime(spec.asOf - days * DAY), to: chTime(spec.asOf) };
  let dept = '';
  if (spec.departmentId) {
    dept = ' AND department_id = {department_id:String}';
    params.department_id = spec.departmentId;
  }
  const rows = await ctx.analytics.query<{ user_id: string; d: string | number; events: string; invocations: string; failures: string; dept: string }>(
    `SELECT user_id, intDiv({asof_ms:Int64} - toUnixTimestamp64Milli(timestamp) - 1, ${DAY}) AS d,
            uniqExact(event_id) AS events, uniqExactIf(event_id, event_type = 'agent_invocation') AS invocations,
            uniqExactIf(event_id, event_type = 'agent_invocation' AND status = 'failure') AS failures,
            argMax(department_id, timestamp) AS dept
       FROM ${ctx.analytics.table('events')}
      WHERE org_id = {org_id:String} AND user_id != '' AND timestamp >= toDateTime64({from:String}, 3, 'UTC') AND timestamp < toDateTime64({to:String}, 3, 'UTC')${dept}
      GROUP BY user_id, d`,
    params,
  );
  const users = new Map<string, { days: Map<number, Daily>; dept: string; deptDay: number }>();
  for (const r of rows) {
    let u = users.get(r.user_id);
    if (!u) users.set(r.user_id, (u = { days: new Map(), dept: r.dept, deptDay: Infinity }));
    const d = Number(r.d);
    u.days.set(d, { events: Number(r.events), invocations: Number(r.invocations), failures: Number(r.failures) });
    if (d < u.deptDay) {
      u.deptDay = d;
      u.dept = r.dept;
    }
  }
  return users;
}

const chTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/**
 * Examples of the snapshot `o` days before asOf: users with an event in the 4 periods before it.
 * Label: 1 when they have no event in the period after the snapshot (null when that period is not over).
 */
export function snapshot(users: Awaited<ReturnType<typeof dailyCounts>>, o: number, p: number): Example[] {
  const out: Example[] = [];
  const horizon = HISTORY_PERIODS * p;
  for (const [user_id, u] of users) {
    let events = 0;
    let inv = 0;
    let fail = 0;
    let last = Infinity;
    const periods = new Array<number>(HISTORY_PERIODS).fill(0);
    let next = 0;
    for (const [d, c] of u.days) {
      if (d >= o && d < o + horizon) {
        events += c.events;
        inv += c.invocations;
        fail += c.failures;
        last = Math.min(last, d - o);
        periods[Math.floor((d - o) / p)]! += c.events;
      } else if (d < o && d >= o - p) next += c.events;
    }
    if (!events) continue;
    const recent = periods[0]!;
    const before = periods[1]!;
    out.push({
      user_id,
      department_id: u.dept,
      x: [last, Math.log1p(events), periods.filter((n) => n > 0).length, (recent - before) / (recent + before + 1), inv ? fail / inv : 0],
      y: o - p >= 0 ? (next === 0 ? 1 : 0) : null,
    });
  }
  return out;
}

export interface Model { mean: number[]; sd: number[]; w: number[]; b: number }

export function fit(examples: Example[], iterations = 800, rate = 0.3, l2 = 0.01): Model {
  const k = FEATURES.length;
  const n = examples.length;
  const mean = new Array<number>(k).fill(0);
  const sd = new Array<number>(k).fill(0);
  for (const e of examples) e.x.forEach((v, j) => (mean[j]! += v / n));
  for (const e of examples) e.x.forEach((v, j) => (sd[j]! += (v - mean[j]!) ** 2 / n));
  for (let j = 0; j < k; j++) sd[j] = Math.sqrt(sd[j]!) || 1;
  const xs = examples.map((e) => e.x.map((v, j) => (v - mean[j]!) / sd[j]!));
  const w = new Array<number>(k).fill(0);
  const base = examples.reduce((a, e) => a + (e.y ?? 0), 0) / Math.max(n, 1);
  let b = Math.log((base + 1e-3) / (1 - base + 1e-3));
  for (let it = 0; it < iterations && n; it++) {
    const gw = new Array<number>(k).fill(0);
    let gb = 0;
    for (let i = 0; i < n; i++) {
      const err = sigmoid(dot(w, xs[i]!) + b) - examples[i]!.y!;
      for (let j = 0; j < k; j++) gw[j]! += err * xs[i]![j]!;
      gb += err;
    }
    for (let j = 0; j < k; j++) w[j]! -= rate * (gw[j]! / n + l2 * w[j]!);
    b -= (rate * gb) / n;
  }
  return { mean, sd, w, b };
}

const dot = (a: number[], c: number[]) => a.reduce((s, v, i) => s + v * c[i]!, 0);
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
export const predict = (m: Model, x: number[]) => sigmoid(dot(m.w, x.map((v, j) => (v - m.mean[j]!) / m.sd[j]!)) + m.b);

/** AUC by ranks (Mann–Whitney), ties counted half. */
export function auc(scores: Array<{ p: number; y: number }>): number | null {
  const sorted = [...scores].sort((a, b) => a.p - b.p);
  const pos = sorted.filter((s) => s.y === 1).length;
  const neg = sorted.length - pos;
  if (!pos || !neg) return null;
  let rankSum = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j < sorted.length && sorted[j]!.p === sorted[i]!.p) j++;
    const avgRank = (i + 1 + j) / 2;
    for (let t = i; t < j; t++) if (sorted[t]!.y === 1) rankSum += avgRank;
    i = j;
  }
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

export function backtestMetrics(scores: Array<{ p: number; y: number }>, threshold: number) {
  const tp = scores.filter((s) => s.p >= threshold && s.y === 1).length;
  const fp = scores.filter((s) => s.p >= threshold && s.y === 0).length;
  const fn = scores.filter((s) => s.p < threshold && s.y === 1).length;
  const tn = scores.length - tp - fp - fn;
  const churned = tp + fn;
  const bins = [0, 0.2, 0.4, 0.6, 0.8, 1.0000001];
  return {
    examples: scores.length,
    churned,
    base_rate: scores.length ? churned / scores.length : null,
    auc: auc(scores),
    threshold,
    accuracy: scores.length ? (tp + tn) / scores.length : null,
    /** accuracy of always answering the more common outcome: what a model has to beat */
    majority_accuracy: scores.length ? Math.max(churned, scores.length - churned) / scores.length : null,
    precision: tp + fp ? tp / (tp + fp) : null,
    recall: tp + fn ? tp / (tp + fn) : null,
    confusion: { tp, fp, fn, tn },
    calibration: bins.slice(0, -1).map((lo, i) => {
      const inBin = scores.filter((s) => s.p >= lo && s.p < bins[i + 1]!);
      return {
        from: lo,
        to: Math.min(bins[i + 1]!, 1),
        examples: inBin.length,
        mean_predicted: inBin.length ? inBin.reduce((a, s) => a + s.p, 0) / inBin.length : null,
        observed_rate: inBin.length ? inBin.filter((s) => s.y === 1).length / inBin.length : null,
      };
    }),
  };
}

/** Backtest, model and current scores in one pass over the org's history. */
export async function churn(ctx: TenantContext, spec: ChurnSpec) {
  const p = spec.periodDays;
  const users = await dailyCounts(ctx, spec);
  // snapshot offsets (days before asOf) with a finished label period: p, 2p, … ; the latest (p) is held out
  const labelled = Array.from({ length: spec.snapshots }, (_, i) => (i + 1) * p).map((o) => snapshot(users, o, p));
  const [test = [], ...train] = labelled;
  const trainSet = train.flat();
  const backtestModel = fit(trainSet);
  const scores = test.map((e) => ({ user_id: e.user_id, p: predict(backtestModel, e.x), y: e.y! }));
  const model = fit(labelled.flat());
  const current = snapshot(users, 0, p).map((e) => ({ ...e, probability: predict(model, e.x) }));
  return {
    method: 'logistic regression (standardized features, L2 0.01, batch gradient descent), fitted on the org\'s own history',
    period_days: p,
    as_of: new Date(spec.asOf).toISOString(),
    features: [...FEATURES],
    model: {
      trained_on: { snapshots: labelled.length, examples: labelled.flat().length },
      // per standard deviation of each feature: positive raises the churn probability
      coefficients: Object.fromEntries(FEATURES.map((f, j) => [f, model.w[j]!])),
      intercept: model.b,
    },
    backtest: {
      trained_on: { snapshots: train.length, examples: trainSet.length },
      scored_snapshot: new Date(spec.asOf - p * DAY).toISOString(),
      ...backtestMetrics(scores, spec.threshold),
      scores,
    },
    current,
  };
}
