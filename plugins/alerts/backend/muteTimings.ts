/**
 * Mute timings (Grafana's, Alertmanager's time intervals): recurring windows in a time
 * zone during which a policy route sends nothing. Evaluation goes on; a group that became
 * due while muted is notified once the window ends (with its state then).
 * `isMuted` is a pure function of (timing, instant), tested with an injected clock.
 */
import { HttpError } from '@orrery/plugin-sdk';

export interface TimeInterval {
  /** 0 = Sunday … 6 = Saturday */
  weekdays?: number[];
  /** `HH:MM` in the timing's zone, start inclusive, end exclusive; `24:00` ends at midnight */
  times?: Array<{ start: string; end: string }>;
  /** 1 … 31, or −1 … −31 counting from the month's end */
  days_of_month?: number[];
  /** 1 … 12 */
  months?: number[];
}

export interface MuteTiming {
  name: string;
  /** IANA zone, e.g. `Europe/Paris` (default UTC) */
  time_zone?: string;
  /** muted when any interval holds; an interval holds when all its fields hold (an absent field always holds) */
  intervals: TimeInterval[];
}

const HHMM = '^(?:[01]\\d|2[0-3]):[0-5]\\d$|^24:00$';
export const muteTimingSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'intervals'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100 },
    time_zone: { type: 'string', minLength: 1, maxLength: 100 },
    intervals: {
      type: 'array',
      minItems: 1,
      maxItems: 20,
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          weekdays: { type: 'array', maxItems: 7, items: { type: 'integer', minimum: 0, maximum: 6 } },
          times: {
            type: 'array',
            maxItems: 10,
            items: { type: 'object', additionalProperties: false, required: ['start', 'end'], properties: { start: { type: 'string', pattern: HHMM }, end: { type: 'string', pattern: HHMM } } },
          },
          days_of_month: { type: 'array', maxItems: 31, items: { type: 'integer', minimum: -31, maximum: 31, not: { const: 0 } } },
          months: { type: 'array', maxItems: 12, items: { type: 'integer', minimum: 1, maximum: 12 } },
        },
      },
    },
  },
} as const;

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string) {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' });
    formatters.set(zone, f);
  }
  return f;
}
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** The wall clock of an instant in a zone. */
export function wallClock(at: Date, zone: string) {
  const parts = Object.fromEntries(formatter(zone).formatToParts(at).map((p) => [p.type, p.value]));
  const year = Number(parts.year);
  const month = Number(parts.month);
  return {
    year,
    month,
    day: Number(parts.day),
    weekday: WEEKDAYS.indexOf(parts.weekday!),
    minute: Number(parts.hour) * 60 + Number(parts.minute),
    daysInMonth: new Date(Date.UTC(year, month, 0)).getUTCDate(),
  };
}

export function isMuted(t: MuteTiming, at: Date): boolean {
  const w = wallClock(at, t.time_zone ?? 'UTC');
  return t.intervals.some((i) => {
    if (i.weekdays?.length && !i.weekdays.includes(w.weekday)) return false;
    if (i.months?.length && !i.months.includes(w.month)) return false;
    if (i.days_of_month?.length && !i.days_of_month.some((d) => (d > 0 ? d : w.daysInMonth + 1 + d) === w.day)) return false;
    if (i.times?.length && !i.times.some((r) => w.minute >= minutes(r.start) && w.minute < minutes(r.end))) return false;
    return true;
  });
}

/** 400s naming the field: a zone the runtime does not know, a time range that ends before it starts. */
export function checkMuteTiming(t: MuteTiming, field = '') {
  const p = field ? `${field}.` : '';
  if (t.time_zone) {
    try {
      formatter(t.time_zone);
    } catch {
      throw new HttpError(400, 'bad_request', `${p}time_zone: unknown time zone "${t.time_zone}"`, { field: `${p}time_zone` });
    }
  }
  t.intervals.forEach((i, n) =>
    (i.times ?? []).forEach((r, k) => {
      if (minutes(r.end) <= minutes(r.start))
        throw new HttpError(400, 'bad_request', `${p}intervals[${n}].times[${k}]: end must be after start (split a range over midnight in two)`, { field: `${p}intervals[${n}].times[${k}].end` });
    }),
  );
}
