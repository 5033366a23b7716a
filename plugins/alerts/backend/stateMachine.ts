/**
 * The state of one alert instance (one group value of a rule), as a pure
 * function of its previous state, one observation and the time. Grafana's
 * states: normal → pending (for `for_seconds`) → firing → recovering (for
 * `keep_firing_for_seconds`) → normal; nodata and error with a chosen behaviour.
 * Added what Grafana's users ask for: a recovery threshold (hysteresis) and
 * flap detection. No clock, no I/O: tests drive it with their own times.
 */

import { bandCondition } from './conditions.ts';

export type AlertState = 'normal' | 'pending' | 'firing' | 'recovering' | 'nodata' | 'error';
export type Op = 'gt' | 'gte' | 'lt' | 'lte' | 'outside' | 'inside';

export interface Condition {
  /** what is compared (conditions.ts): the value (default), its change, its change in %, or the trends band */
  kind?: 'threshold' | 'change' | 'change_percent' | 'anomaly';
  op: Op;
  /** ignored by anomaly conditions (the band is the threshold) */
  threshold: number;
  /** upper bound for outside/inside */
  threshold2?: number;
  /** hysteresis: once firing, the instance stays firing until the value passes this (instead of `threshold`) */
  recovery_threshold?: number;
  /** the same for the upper bound of outside/inside */
  recovery_threshold2?: number;
  /** anomaly: the buckets the band is learnt over */
  granularity?: 'minute' | 'hour' | 'day';
  /** anomaly: robust z-score beyond which a bucket is unusual (the trends service's default 3) */
  sensitivity?: number;
}

export interface StateRule {
  condition: Condition;
  for_seconds: number;
  keep_firing_for_seconds: number;
  /** what a missing value means */
  no_data: 'nodata' | 'ok' | 'alerting' | 'keep_last';
  /** what a failed evaluation means */
  on_error: 'error' | 'ok' | 'alerting' | 'keep_last';
  /** flap detection: `max_changes` firing/resolved changes within `window_seconds` mark the instance flapping */
  flapping?: { window_seconds: number; max_changes: number } | null;
}

export interface InstanceState {
  state: AlertState;
  /** when the current state began (ms) */
  since: number;
  /** when the current breach began (pending/firing), ms */
  active_since: number | null;
  value: number | null;
  /** times (ms) the instance became active or resolved, within the flap window */
  changes: number[];
  flapping: boolean;
}

/** `band`: an anomaly condition's expected band for this value (its edges are the thresholds) */
export type Observation = { kind: 'value'; value: number; band?: { lower: number; upper: number } } | { kind: 'nodata' } | { kind: 'error'; message: string };

/** Something a notification must say: the instance became active, or stopped being active. */
export type Change = 'fired' | 'resolved' | null;

export interface Step {
  next: InstanceState;
  change: Change;
  /** the state changed (recorded in the history) */
  transitioned: boolean;
}

/** States that are routed as a firing alert. */
export const ACTIVE: ReadonlySet<AlertState> = new Set(['firing', 'recovering', 'nodata', 'error']);

export const initialState = (now: number): InstanceState => ({ state: 'normal', since: now, active_since: null, value: null, changes: [], flapping: false });

/** Does `value` breach the condition? `held` uses the recovery thresholds (the instance is already firing). */
export function breaches(c: Condition, value: number, held: boolean): boolean {
  const t = held && c.recovery_threshold !== undefined ? c.recovery_threshold : c.threshold;
  const t2 = held && c.recovery_threshold2 !== undefined ? c.recovery_threshold2 : (c.threshold2 ?? c.threshold);
  switch (c.op) {
    case 'gt':
      return value > t;
    case 'gte':
      return value >= t;
    case 'lt':
      return value < t;
    case 'lte':
      return value <= t;
    case 'outside':
      return value < t || value > t2;
    case 'inside':
      return value >= t && value <= t2;
  }
}

/** Checks that the recovery thresholds lie on the recovering side of the thresholds; returns the bad field or null. */
export function conditionProblem(c: Condition): { field: string; message: string } | null {
  const ranged = c.op === 'outside' || c.op === 'inside';
  if (ranged && c.threshold2 === undefined) return { field: 'condition.threshold2', message: `condition.threshold2 is required for op "${c.op}"` };
  if (ranged && c.threshold2! < c.threshold) return { field: 'condition.threshold2', message: 'condition.threshold2 must not be below condition.threshold' };
  if (!ranged && c.threshold2 !== undefined) return { field: 'condition.threshold2', message: `condition.threshold2 only applies to outside/inside, not "${c.op}"` };
  const r = c.recovery_threshold;
  const r2 = c.recovery_threshold2;
  const wrong = (field: string, want: string) => ({ field, message: `${field} must be ${want} for op "${c.op}" (it is where a firing alert recovers)` });
  if (r !== undefined) {
    if ((c.op === 'gt' || c.op === 'gte') && r > c.threshold) return wrong('condition.recovery_threshold', 'at most condition.threshold');
    if ((c.op === 'lt' || c.op === 'lte') && r < c.threshold) return wrong('condition.recovery_threshold', 'at least condition.threshold');
    if (c.op === 'outside' && r < c.threshold) return wrong('condition.recovery_threshold', 'at least condition.threshold');
    if (c.op === 'inside' && r > c.threshold) return wrong('condition.recovery_threshold', 'at most condition.threshold');
  }
  if (r2 !== undefined) {
    if (!ranged) return { field: 'condition.recovery_threshold2', message: `condition.recovery_threshold2 only applies to outside/inside, not "${c.op}"` };
    if (c.op === 'outside' && r2 > c.threshold2!) return wrong('condition.recovery_threshold2', 'at most condition.threshold2');
    if (c.op === 'inside' && r2 < c.threshold2!) return wrong('condition.recovery_threshold2', 'at least condition.threshold2');
    if (c.op === 'outside' && r !== undefined && r2 < r) return wrong('condition.recovery_threshold2', 'at least condition.recovery_threshold');
  }
  return null;
}

/** One evaluation of one instance at time `now` (ms). */
export function step(rule: StateRule, prev: InstanceState, obs: Observation, now: number): Step {
  const wasActive = ACTIVE.has(prev.state);
  let target: AlertState;
  let activeSince = prev.active_since;
  let value = prev.value;

  // what the observation says: breach, no breach, or a state of its own
  let verdict: 'breach' | 'clear' | 'keep' | 'nodata' | 'error';
  if (obs.kind === 'value') {
    value = obs.value;
    const held = prev.state === 'firing' || prev.state === 'recovering';
    const c = obs.band ? bandCondition(rule.condition.op, obs.band) : rule.condition;
    verdict = breaches(c, obs.value, held) ? 'breach' : 'clear';
  } else if (obs.kind === 'nodata') {
    verdict = rule.no_data === 'nodata' ? 'nodata' : rule.no_data === 'ok' ? 'clear' : rule.no_data === 'alerting' ? 'breach' : 'keep';
  } else {
    verdict = rule.on_error === 'error' ? 'error' : rule.on_error === 'ok' ? 'clear' : rule.on_error === 'alerting' ? 'breach' : 'keep';
  }

  if (verdict === 'keep') {
    target = prev.state;
  } else if (verdict === 'nodata' || verdict === 'error') {
    target = verdict;
    if (prev.state !== verdict) activeSince = wasActive ? prev.active_since : now;
  } else if (verdict === 'breach') {
    switch (prev.state) {
      case 'firing':
      case 'recovering':
        target = 'firing';
        break;
      case 'pending':
        target = now - (prev.active_since ?? now) >= rule.for_seconds * 1000 ? 'firing' : 'pending';
        break;
      default:
        // normal, nodata, error: a breach starts a pending period (or fires at once)
        activeSince = now;
        target = rule.for_seconds <= 0 ? 'firing' : 'pending';
    }
  } else {
    switch (prev.state) {
      case 'firing':
        target = rule.keep_firing_for_seconds > 0 ? 'recovering' : 'normal';
        break;
      case 'recovering':
        target = now - prev.since >= rule.keep_firing_for_seconds * 1000 ? 'normal' : 'recovering';
        break;
      default:
        target = 'normal';
    }
    if (target === 'normal') activeSince = null;
  }

  const isActive = ACTIVE.has(target);
  const change: Change = isActive && !wasActive ? 'fired' : !isActive && wasActive ? 'resolved' : null;
  let changes = prev.changes;
  let flapping = prev.flapping;
  if (rule.flapping) {
    const horizon = now - rule.flapping.window_seconds * 1000;
    changes = [...prev.changes, ...(change ? [now] : [])].filter((t) => t > horizon);
    flapping = changes.length >= rule.flapping.max_changes;
  }
  const transitioned = target !== prev.state;
  return {
    next: { state: target, since: transitioned ? now : prev.since, active_since: activeSince, value, changes, flapping },
    change,
    transitioned,
  };
}
