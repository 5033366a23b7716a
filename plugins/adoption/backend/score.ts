/**
 * The adoption score and the needs-support triggers, as pure functions of a
 * user's features (read from events by features.ts) and the org's settings, so
 * that every figure can be checked by hand.
 *
 * score = 100 × (0.4·frequency + 0.3·diversity + 0.2·success + 0.1·workflow), one decimal:
 *   frequency = min(1, active days in the window / targets.activeDays)
 *   diversity = min(1, distinct capabilities used in the window / targets.capabilities),
 *               a capability being one feature, command, tool or agent
 *   success   = successes / (successes + failures) over the window's events with an outcome; 0 with none
 *   workflow  = min(1, workflows completed (goal_reached) / workflows enrolled); with none enrolled,
 *               1 if some completed, else 0
 */
import type { AdoptionSettings, Trigger, UsageBaseline } from './settings.ts';

export interface WindowFeatures {
  active_days: number;
  events: number;
  capabilities: number;
  successes: number;
  failures: number;
  wf_enrolled: number;
  wf_completed: number;
}

export interface UserFeatures {
  user_id: string;
  now: WindowFeatures;
  /** the same window ending 7 days earlier (for the week-over-week drop) */
  before: WindowFeatures;
  commands: number;
  wf_incomplete_or_failed: number;
  successes_24h: number;
  failures_24h: number;
  /** over the expertise lookback */
  workflows_completed_total: number;
  features_succeeded_total: number;
  departments: string[];
}

export interface Components {
  frequency: number;
  diversity: number;
  success: number;
  workflow: number;
}

export const WEIGHTS = { frequency: 0.4, diversity: 0.3, success: 0.2, workflow: 0.1 } as const;

// the epsilon keeps 7.75 from rounding down to 7.7 on its binary representation
const r1 = (x: number) => Math.round(x * 10 + 1e-9) / 10;
const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

export function components(w: WindowFeatures, s: AdoptionSettings): Components {
  const outcomes = w.successes + w.failures;
  return {
    frequency: r4(Math.min(1, w.active_days / s.targets.activeDays)),
    diversity: r4(Math.min(1, w.capabilities / s.targets.capabilities)),
    success: r4(outcomes ? w.successes / outcomes : 0),
    workflow: r4(w.wf_enrolled ? Math.min(1, w.wf_completed / w.wf_enrolled) : w.wf_completed > 0 ? 1 : 0),
  };
}

export function scoreOf(c: Components): number {
  return r1(100 * (WEIGHTS.frequency * c.frequency + WEIGHTS.diversity * c.diversity + WEIGHTS.success * c.success + WEIGHTS.workflow * c.workflow));
}

/**
 * Percentile of each user within their department: the share of the
 * department's other scored users whose score is strictly lower (0 = lowest,
 * 100 = highest); null in a department of one.
 */
export function departmentPercentiles(scores: Array<{ user_id: string; score: number; departments: string[] }>) {
  const byDept = new Map<string, number[]>();
  for (const s of scores) for (const d of s.departments) byDept.set(d, [...(byDept.get(d) ?? []), s.score]);
  const out = new Map<string, Record<string, { percentile: number | null; size: number; lower: number; higher: number }>>();
  for (const s of scores) {
    const per: Record<string, { percentile: number | null; size: number; lower: number; higher: number }> = {};
    for (const d of s.departments) {
      const all = byDept.get(d)!;
      const lower = all.filter((x) => x < s.score).length;
      const higher = all.filter((x) => x > s.score).length;
      per[d] = { percentile: all.length > 1 ? r1((100 * lower) / (all.length - 1)) : null, size: all.length, lower, higher };
    }
    out.set(s.user_id, per);
  }
  return out;
}

export interface Signal {
  trigger: Trigger;
  /** the measured value and the threshold it crossed, plus what it was computed from */
  value: number;
  threshold: number;
  [detail: string]: unknown;
}

/** What a user's events in the window are compared with (settings `thresholds.usageBaseline`). */
export interface UsageBaselineValue {
  baseline: UsageBaseline;
  /** mean or median events per active user of the org, or of the user's department */
  events: number;
  department_id?: string;
}

/**
 * The usage baseline of each user: the mean or median events in the window per
 * active user (one with an event in the window), over the org or over the
 * user's first department with active users (the org's when none has).
 */
export function usageBaselines(users: Array<{ user_id: string; departments: string[] }>, activeEvents: Map<string, number>, departmentsOf: (user: string) => string[], kind: UsageBaseline) {
  const stat = (xs: number[]) => (kind.endsWith('median') ? (median(xs) ?? 0) : xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const org: UsageBaselineValue = { baseline: kind, events: stat([...activeEvents.values()]) };
  const out = new Map<string, UsageBaselineValue>();
  if (kind.startsWith('org')) {
    for (const u of users) out.set(u.user_id, org);
    return out;
  }
  const perDept = new Map<string, number[]>();
  for (const [user, n] of activeEvents) for (const d of departmentsOf(user)) perDept.set(d, [...(perDept.get(d) ?? []), n]);
  const cache = new Map<string, UsageBaselineValue>();
  for (const u of users) {
    const d = u.departments.find((x) => perDept.get(x)?.length);
    if (!d) {
      out.set(u.user_id, org);
      continue;
    }
    if (!cache.has(d)) cache.set(d, { baseline: kind, events: stat(perDept.get(d)!), department_id: d });
    out.set(u.user_id, cache.get(d)!);
  }
  return out;
}

export function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const a = [...xs].sort((x, y) => x - y);
  const m = Math.floor(a.length / 2);
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
}

/**
 * Every trigger that fires for one user, with the signals that raised it.
 * `usage` is the baseline the user's events in the window are compared with
 * (by default the mean events per active user of the org in the window).
 */
export function triggers(
  f: UserFeatures,
  score: number,
  scoreBefore: number,
  percentiles: Record<string, { percentile: number | null; size: number; lower: number; higher: number }>,
  usage: UsageBaselineValue,
  s: AdoptionSettings,
): Signal[] {
  const orgAverageEvents = usage.events;
  const t = s.thresholds;
  const on = new Set(s.enabledTriggers);
  const out: Signal[] = [];
  if (on.has('low_score') && score < t.lowScore) out.push({ trigger: 'low_score', value: score, threshold: t.lowScore });
  if (on.has('bottom_of_department')) {
    for (const [department_id, p] of Object.entries(percentiles)) {
      // a department where everyone scores the same has no bottom
      if (p.percentile !== null && p.size >= t.bottomMinDepartmentSize && p.higher > 0 && p.percentile < t.bottomPercent) {
        out.push({ trigger: 'bottom_of_department', value: p.percentile, threshold: t.bottomPercent, department_id, department_size: p.size });
        break;
      }
    }
  }
  if (on.has('score_drop') && scoreBefore > 0) {
    const drop = r1((100 * (scoreBefore - score)) / scoreBefore);
    if (drop >= t.scoreDropPercent) out.push({ trigger: 'score_drop', value: drop, threshold: t.scoreDropPercent, score, score_7_days_ago: scoreBefore });
  }
  const attempts24 = f.successes_24h + f.failures_24h;
  if (on.has('error_rate_24h') && attempts24 >= t.errorRate24hMinAttempts) {
    const rate = r4(f.failures_24h / attempts24);
    if (rate > t.errorRate24h) out.push({ trigger: 'error_rate_24h', value: rate, threshold: t.errorRate24h, failures: f.failures_24h, attempts: attempts24 });
  }
  if (on.has('low_usage') && orgAverageEvents > 0) {
    const limit = orgAverageEvents * (1 - t.lowUsagePercentBelowAverage / 100);
    if (f.now.events < limit)
      out.push({
        trigger: 'low_usage',
        value: f.now.events,
        threshold: r4(limit),
        baseline: usage.baseline,
        baseline_events: r4(orgAverageEvents),
        ...(usage.baseline === 'org_mean' ? { org_average_events: r4(orgAverageEvents) } : {}),
        ...(usage.department_id ? { department_id: usage.department_id } : {}),
        percent_below_average: t.lowUsagePercentBelowAverage,
      });
  }
  if (on.has('limited_commands') && f.commands < t.minDistinctCommands)
    out.push({ trigger: 'limited_commands', value: f.commands, threshold: t.minDistinctCommands });
  const attempts = f.now.successes + f.now.failures;
  if (on.has('error_rate') && attempts >= t.errorRateMinAttempts) {
    const rate = r4(f.now.failures / attempts);
    if (rate > t.errorRate) out.push({ trigger: 'error_rate', value: rate, threshold: t.errorRate, failures: f.now.failures, attempts });
  }
  if (on.has('workflow_failures') && f.wf_incomplete_or_failed >= t.workflowFailures)
    out.push({ trigger: 'workflow_failures', value: f.wf_incomplete_or_failed, threshold: t.workflowFailures, enrolled: f.now.wf_enrolled, completed: f.now.wf_completed });
  return out;
}

/** Which expertise criteria a user meets (empty: not an expert yet). */
export function expertiseReasons(f: UserFeatures, daysOverThreshold: number, s: AdoptionSettings) {
  const e = s.expertise;
  const out: Array<{ criterion: string; value: number; threshold: number }> = [];
  if (daysOverThreshold >= e.consecutiveDays) out.push({ criterion: 'sustained_score', value: daysOverThreshold, threshold: e.consecutiveDays });
  if (f.workflows_completed_total >= e.successfulWorkflows) out.push({ criterion: 'successful_workflows', value: f.workflows_completed_total, threshold: e.successfulWorkflows });
  if (f.features_succeeded_total >= e.successfulFeatures) out.push({ criterion: 'successful_features', value: f.features_succeeded_total, threshold: e.successfulFeatures });
  return out;
}

/**
 * Kinds of support need, most urgent first: a manager acts on `struggling`
 * (errors, failed workflows) and `slipping` (score falling, bottom of the
 * department) before `not_started` (no use at all, now or a week earlier) and
 * `light_use` (below the usage, score or command thresholds).
 */
export const KINDS = ['struggling', 'slipping', 'not_started', 'light_use'] as const;
export type Kind = (typeof KINDS)[number];
export const KIND_OF_TRIGGER: Record<Trigger, Kind> = {
  error_rate_24h: 'struggling',
  error_rate: 'struggling',
  workflow_failures: 'struggling',
  score_drop: 'slipping',
  bottom_of_department: 'slipping',
  low_score: 'light_use',
  low_usage: 'light_use',
  limited_commands: 'light_use',
};

const clamp01 = (x: number) => Math.max(0, Math.min(1, x));

/**
 * How far past its threshold a signal is, 0 (at the threshold) to 1 (as far as it
 * can go): for "below" rules (threshold − value) / threshold, for rates
 * (value − threshold) / (1 − threshold), for the score drop (value − threshold) /
 * (100 − threshold), for workflow failures (value − threshold) / threshold.
 */
export function signalSeverity(x: Signal): number {
  const v = Number(x.value);
  const t = Number(x.threshold);
  switch (x.trigger) {
    case 'error_rate':
    case 'error_rate_24h':
      return r4(clamp01(t < 1 ? (v - t) / (1 - t) : 0));
    case 'score_drop':
      return r4(clamp01(t < 100 ? (v - t) / (100 - t) : 0));
    case 'workflow_failures':
      return r4(clamp01((v - t) / Math.max(t, 1)));
    default:
      return r4(clamp01(t > 0 ? (t - v) / t : 0));
  }
}

export const severityLevel = (severity: number): 'high' | 'medium' | 'low' => (severity >= 0.5 ? 'high' : severity >= 0.2 ? 'medium' : 'low');

/**
 * A flag's kind (the most urgent kind among its signals; `not_started` when the
 * user has no event in the window nor in the window a week earlier) and its
 * severity (the largest severity among the signals of that kind).
 */
export function classify(signals: Signal[], f?: Pick<UserFeatures, 'now' | 'before'>): { kind: Kind; kinds: Kind[]; severity: number; level: 'high' | 'medium' | 'low' } {
  const kinds = [...new Set(signals.map((x) => KIND_OF_TRIGGER[x.trigger] ?? 'light_use'))].sort((a, b) => KINDS.indexOf(a) - KINDS.indexOf(b));
  let kind: Kind = kinds[0] ?? 'light_use';
  if (f && f.now.events === 0 && f.before.events === 0 && (kind === 'light_use' || kind === 'slipping')) kind = 'not_started';
  const of = kind === 'not_started' ? signals : signals.filter((x) => (KIND_OF_TRIGGER[x.trigger] ?? 'light_use') === kind);
  const severity = of.length ? Math.max(...of.map(signalSeverity)) : 0;
  return { kind, kinds: kinds.includes(kind) ? kinds : [kind, ...kinds], severity, level: severityLevel(severity) };
}

/** Most urgent kind first, then the most severe, then the newest. */
export function bySeverity<T extends { kind: Kind; severity: number; raised_day?: string }>(a: T, b: T) {
  return KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind) || b.severity - a.severity || String(b.raised_day ?? '').localeCompare(String(a.raised_day ?? ''));
}
