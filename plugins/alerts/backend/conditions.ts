/**
 * What a rule observes, per group, before the state machine sees it. Four kinds:
 *
 * - `threshold` (default): the query's value over `[now − window, now)`.
 * - `change`: that value minus the same query's value over the window before it
 *   (`[now − 2·window, now − window)`).
 * - `change_percent`: the change as a percentage of the previous window's value
 *   (`100 · (current − previous) / |previous|`; 0 → 0 is 0 %, anything else from 0 has no value).
 * - `anomaly`: the query bucketed by `condition.granularity` over the complete buckets of the
 *   window; the trends plugin's expected band (`trendsRef.anomalies`) for the last bucket is
 *   the threshold: `gt` breaches above the band, `lt` below it, `outside` either way.
 *
 * The combinations are pure functions of the series, so tests check them against the events.
 */
import type { AnomalyPoint, MetricsGranularity, MetricsSeries as Series, TrendPoint } from '@orrery/plugin-sdk';
import type { Condition, Observation } from './stateMachine.ts';

export type ConditionKind = 'threshold' | 'change' | 'change_percent' | 'anomaly';
export const CONDITION_KINDS: ConditionKind[] = ['threshold', 'change', 'change_percent', 'anomaly'];
export const ANOMALY_GRANULARITIES = ['minute', 'hour', 'day'] as const;
export type AnomalyGranularity = (typeof ANOMALY_GRANULARITIES)[number];
/** an anomaly rule needs at least this many complete buckets in its window to learn a band */
export const MIN_ANOMALY_BUCKETS = 8;
export const GRAIN_MS: Record<AnomalyGranularity, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** measures whose missing group means 0 (nothing happened), not "no value" */
export const ZERO_WHEN_MISSING = new Set(['count', 'users', 'sum']);

export interface GroupObservation {
  group: Record<string, string>;
  obs: Observation;
}

export const groupKey = (g: Record<string, string>) => JSON.stringify(Object.keys(g).sort().map((k) => [k, g[k]]));

/** The observation of a plain threshold rule. */
export const thresholdObservations = (series: Series[]): GroupObservation[] =>
  series.map((s) => ({ group: s.group, obs: s.total === null ? { kind: 'nodata' } : { kind: 'value', value: s.total } }));

/** The change of every group present in either window (a group missing from one is 0 for counts, else no value). */
export function changeObservations(measure: string, current: Series[], previous: Series[], percent: boolean): GroupObservation[] {
  const missing = ZERO_WHEN_MISSING.has(measure) ? 0 : null;
  const prev = new Map(previous.map((s) => [groupKey(s.group), s]));
  const groups = new Map<string, Record<string, string>>();
  for (const s of [...current, ...previous]) groups.set(groupKey(s.group), s.group);
  const cur = new Map(current.map((s) => [groupKey(s.group), s]));
  const out: GroupObservation[] = [];
  for (const [k, group] of groups) {
    const c = cur.has(k) ? cur.get(k)!.total : missing;
    const p = prev.has(k) ? prev.get(k)!.total : missing;
    const v = changeValue(c, p, percent);
    out.push({ group, obs: v === null ? { kind: 'nodata' } : { kind: 'value', value: v } });
  }
  return out;
}

export function changeValue(current: number | null, previous: number | null, percent: boolean): number | null {
  if (current === null || previous === null) return null;
  if (!percent) return current - previous;
  if (previous === 0) return current === 0 ? 0 : null;
  return (100 * (current - previous)) / Math.abs(previous);
}

/** The complete buckets an anomaly rule reads at `now`: the window ends at the start of the current bucket. */
export function anomalyRange(now: Date, granularity: AnomalyGranularity, windowSeconds: number): { from: Date; to: Date } {
  const g = GRAIN_MS[granularity];
  const to = Math.floor(now.getTime() / g) * g;
  return { from: new Date(to - windowSeconds * 1000), to: new Date(to) };
}

/** The last bucket of each group against the band the trends service expects for it. */
export function anomalyObservations(series: Series[], anomalies: (points: TrendPoint[]) => AnomalyPoint[]): GroupObservation[] {
  return series.map((s) => {
    const points = anomalies(s.points.map((p) => ({ bucket: p.bucket, value: p.value })));
    const last = points[points.length - 1];
    if (!last || last.value === null || last.lower === null || last.upper === null) return { group: s.group, obs: { kind: 'nodata' } };
    return { group: s.group, obs: { kind: 'value', value: last.value, band: { lower: last.lower, upper: last.upper } } };
  });
}

/** An anomaly rule's condition for one observation: the band's edges are its thresholds. */
export function bandCondition(op: Condition['op'], band: { lower: number; upper: number }): Condition {
  if (op === 'gt' || op === 'gte') return { op, threshold: band.upper };
  if (op === 'lt' || op === 'lte') return { op, threshold: band.lower };
  return { op: 'outside', threshold: band.lower, threshold2: band.upper };
}

/** Checks of the kind-specific fields; returns the bad field or null. */
export function kindProblem(c: Condition, windowSeconds: number): { field: string; message: string } | null {
  const kind = c.kind ?? 'threshold';
  if (kind !== 'anomaly') {
    if (typeof c.threshold !== 'number') return { field: 'condition.threshold', message: `condition.threshold is required for a ${kind} condition` };
    for (const f of ['granularity', 'sensitivity'] as const)
      if (c[f] !== undefined) return { field: `condition.${f}`, message: `condition.${f} only applies to anomaly conditions` };
    return null;
  }
  if (!c.granularity) return { field: 'condition.granularity', message: 'condition.granularity (minute, hour or day) is required for an anomaly condition' };
  if (c.op === 'inside') return { field: 'condition.op', message: 'an anomaly condition is gt (above the expected band), lt (below it) or outside (either way)' };
  for (const f of ['threshold2', 'recovery_threshold', 'recovery_threshold2'] as const)
    if (c[f] !== undefined) return { field: `condition.${f}`, message: `condition.${f} does not apply to an anomaly condition: the band is the threshold` };
  const buckets = Math.floor((windowSeconds * 1000) / GRAIN_MS[c.granularity]);
  if (buckets < MIN_ANOMALY_BUCKETS)
    return { field: 'window_seconds', message: `window_seconds must hold at least ${MIN_ANOMALY_BUCKETS} ${c.granularity} buckets for an anomaly condition (it holds ${buckets})` };
  return null;
}

export type { MetricsGranularity };
