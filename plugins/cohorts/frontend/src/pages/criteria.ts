/**
 * The cohort editor's criteria: each kind's fields with their defaults, and the sentence a
 * criterion reads as. Kept apart from the page so they are tested without a browser
 * (test/criteria-form.test.ts).
 */
import { EVENT_TYPES } from '@orrery/plugin-sdk/events';

export type Kind = 'performed' | 'first_time' | 'regularly' | 'stopped' | 'restarted' | 'role' | 'score_band';
export type Role = 'Admin' | 'Manager' | 'Developer';
/** a criterion as the API takes it (only the fields of its kind) */
export interface Criterion {
  kind: Kind;
  event_type?: string;
  min_count?: number;
  days?: number;
  period_days?: number;
  min_periods?: number;
  of_periods?: number;
  prior_days?: number;
  gap_days?: number;
  roles?: Role[];
  min?: number;
  max?: number;
}

export const EVENT_CHOICES = ['any', ...EVENT_TYPES.map((t) => t.type)];
export const ROLES: Role[] = ['Admin', 'Manager', 'Developer'];

/** The kinds in the order the form offers them, with their label and the numbers they ask for. */
export const KINDS: Array<{ kind: Kind; label: string; numbers: Array<{ field: keyof Criterion; label: string; min: number; max: number }> }> = [
  { kind: 'performed', label: 'did it at least N times lately', numbers: [{ field: 'min_count', label: 'At least (times)', min: 1, max: 1_000_000 }, { field: 'days', label: 'In the last (days)', min: 1, max: 3650 }] },
  { kind: 'regularly', label: 'does it regularly', numbers: [{ field: 'min_periods', label: 'In at least (windows)', min: 1, max: 366 }, { field: 'of_periods', label: 'Of the last (windows)', min: 1, max: 366 }, { field: 'period_days', label: 'Window (days)', min: 1, max: 365 }] },
  { kind: 'first_time', label: 'did it for the first time lately', numbers: [{ field: 'days', label: 'In the last (days)', min: 1, max: 3650 }] },
  { kind: 'stopped', label: 'stopped doing it', numbers: [{ field: 'days', label: 'Not in the last (days)', min: 1, max: 3650 }, { field: 'prior_days', label: 'But in the (days) before', min: 1, max: 3650 }] },
  { kind: 'restarted', label: 'came back to it', numbers: [{ field: 'days', label: 'Again in the last (days)', min: 1, max: 3650 }, { field: 'gap_days', label: 'After a quiet (days)', min: 1, max: 3650 }] },
  { kind: 'role', label: 'has a role', numbers: [] },
  { kind: 'score_band', label: 'has an adoption score between', numbers: [{ field: 'min', label: 'From score', min: 0, max: 100 }, { field: 'max', label: 'To score', min: 0, max: 100 }] },
];
export const kindOf = (k: Kind) => KINDS.find((x) => x.kind === k)!;

const DEFAULTS: Record<Kind, Criterion> = {
  performed: { kind: 'performed', event_type: 'agent_invocation', min_count: 5, days: 7 },
  regularly: { kind: 'regularly', event_type: 'agent_invocation', min_periods: 3, of_periods: 4, period_days: 7 },
  first_time: { kind: 'first_time', event_type: 'agent_invocation', days: 14 },
  stopped: { kind: 'stopped', event_type: 'agent_invocation', days: 14, prior_days: 30 },
  restarted: { kind: 'restarted', event_type: 'agent_invocation', days: 7, gap_days: 14 },
  role: { kind: 'role', roles: ['Developer'] },
  score_band: { kind: 'score_band', min: 0, max: 40 },
};

/** A criterion of another kind, keeping the event type it had (if the new kind has one). */
export function withKind(c: Criterion, kind: Kind): Criterion {
  const next = { ...DEFAULTS[kind] };
  if (next.event_type !== undefined && c.event_type !== undefined) next.event_type = c.event_type;
  return next;
}
export const blankCriterion = (): Criterion => ({ ...DEFAULTS.performed });

const what = (t?: string) => (t === 'any' || !t ? 'events of any type' : `${t.replace(/_/g, ' ')} events`);
const plural = (n: number | undefined, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The sentence a criterion reads as: "agent invocation events: at least 5 in the last 7 days". */
export function describe(c: Criterion): string {
  switch (c.kind) {
    case 'performed':
      return `${what(c.event_type)}: at least ${c.min_count} in the last ${plural(c.days, 'day')}`;
    case 'regularly':
      return `${what(c.event_type)} in at least ${c.min_periods} of the last ${plural(c.of_periods, 'window')} of ${plural(c.period_days, 'day')}`;
    case 'first_time':
      return `${what(c.event_type)} for the first time in the last ${plural(c.days, 'day')}`;
    case 'stopped':
      return `${what(c.event_type)} in the ${plural(c.prior_days, 'day')} before the last ${plural(c.days, 'day')}, none since`;
    case 'restarted':
      return `${what(c.event_type)} again in the last ${plural(c.days, 'day')} after ${plural(c.gap_days, 'quiet day')}`;
    case 'role':
      return `role ${(c.roles ?? []).join(' or ')}`;
    case 'score_band':
      return `adoption score from ${c.min} to ${c.max}`;
  }
}
