/**
 * Data lifecycle per org: how long raw events, aggregates (rollups) and per-user activity data
 * are kept. The kernel stores each org's policy (Admin, `GET/PUT /api/v1/admin/retention`) and
 * expires data in a job; plugins read the policy through `ctx.retention()` for data they keep
 * themselves, and declare which class each rollup belongs to (`RollupDecl.retention`).
 *
 * Horizons are whole UTC days: everything with a timestamp (or a rollup bucket) before the
 * horizon is expired. Rollups outlive raw events (the kernel refuses a policy that would keep
 * aggregates or user-activity data for less time than raw events), so a question about a range
 * older than the raw horizon is answered from rollups: `planSegments` never reads raw events
 * before the point the org's raw expiry has reached (the kernel moves that point before it
 * deletes a row; whatever raw rows are left there are incomplete).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { DAY_MS } from './rollups.ts';

export interface RetentionPolicy {
  /** raw rows of the events table */
  raw_events_days: number;
  /** rollup tables declared with `retention: 'aggregates'` (the default) */
  aggregates_days: number;
  /** rollup tables declared with `retention: 'user_activity'`, and per-user data plugins keep */
  user_activity_days: number;
}

/** PRD 10.3: raw events 90 days, aggregates 2 years, user-activity data 1 year. */
export const DEFAULT_RETENTION: Readonly<RetentionPolicy> = Object.freeze({ raw_events_days: 90, aggregates_days: 730, user_activity_days: 365 });

/** Which horizon a rollup's rows follow. */
export type RetentionClass = 'aggregates' | 'user_activity';

export interface RetentionHorizons {
  policy: RetentionPolicy;
  /** raw events with a timestamp before this are expired (or about to be) */
  rawEventsFrom: Date;
  /** aggregate rollup rows with a bucket before this are expired */
  aggregatesFrom: Date;
  /** per-user activity data before this is expired */
  userActivityFrom: Date;
}

/** The start of the UTC day `days` days before `now`'s day. */
export const dayHorizon = (now: Date, days: number): Date => new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS - days * DAY_MS);

/** The horizons of a policy at `now`. */
export function horizonsAt(policy: RetentionPolicy, now: Date = new Date()): RetentionHorizons {
  return {
    policy: { ...policy },
    rawEventsFrom: dayHorizon(now, policy.raw_events_days),
    aggregatesFrom: dayHorizon(now, policy.aggregates_days),
    userActivityFrom: dayHorizon(now, policy.user_activity_days),
  };
}

/** Why a policy cannot be kept (rollups must outlive raw events), or null. */
export function retentionProblems(p: RetentionPolicy): Array<{ field: keyof RetentionPolicy; problem: string }> {
  const out: Array<{ field: keyof RetentionPolicy; problem: string }> = [];
  if (p.aggregates_days < p.raw_events_days) out.push({ field: 'aggregates_days', problem: `must be at least raw_events_days (${p.raw_events_days}): rollups answer for ranges whose raw events are gone` });
  if (p.user_activity_days < p.raw_events_days) out.push({ field: 'user_activity_days', problem: `must be at least raw_events_days (${p.raw_events_days}): user-activity rollups answer for ranges whose raw events are gone` });
  return out;
}

const rawHorizonScope = new AsyncLocalStorage<Date | null>();

/**
 * Runs `fn` with the raw horizon of the org it works for (where its raw-event expiry has
 * reached): `planSegments` inside it reads no raw events before that instant. The kernel's `ctx.rollups.read` does this; plugins need not.
 */
export function withRawHorizon<T>(horizon: Date | null, fn: () => T): T {
  return rawHorizonScope.run(horizon, fn);
}

/** The raw horizon set by the enclosing `withRawHorizon` (null outside one). */
export const currentRawHorizon = (): Date | null => rawHorizonScope.getStore() ?? null;
