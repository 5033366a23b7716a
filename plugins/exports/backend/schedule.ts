/**
 * Report schedules: daily, weekly (a weekday), monthly (a day of the month)
 * or on the last Friday of the month, at a wall-clock time in a zone. The next
 * run is the first instant after a given one whose wall time in the zone is
 * that time on a matching day: a time the zone skips (spring forward) does not
 * happen that day; a time it repeats (fall back) happens at its first occurrence.
 */
import { badRequest } from '@orrery/plugin-sdk';

export type Frequency = 'daily' | 'weekly' | 'monthly' | 'last_friday';
export interface Schedule {
  frequency: Frequency;
  /** HH:MM, 24 h */
  time: string;
  /** IANA zone */
  tz: string;
  /** weekly: 0 = Sunday … 6 = Saturday */
  weekday?: number;
  /** monthly: 1…28 */
  day_of_month?: number;
}

export const scheduleSchema = {
  type: 'object',
  required: ['frequency', 'time'],
  additionalProperties: false,
  properties: {
    frequency: { type: 'string', enum: ['daily', 'weekly', 'monthly', 'last_friday'] },
    time: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM in `tz`' },
    tz: { type: 'string', maxLength: 64, description: 'IANA zone; default UTC' },
    weekday: { type: 'integer', minimum: 0, maximum: 6, description: 'weekly: 0 = Sunday' },
    day_of_month: { type: 'integer', minimum: 1, maximum: 28, description: 'monthly' },
  },
} as const;

const formatters = new Map<string, Intl.DateTimeFormat>();
function fmt(tz: string) {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' });
    if (formatters.size < 500) formatters.set(tz, f);
  }
  return f;
}

export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
}
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** The wall clock in a zone at an instant. */
export function wallTime(at: Date, tz: string): WallTime {
  const parts = Object.fromEntries(fmt(tz).formatToParts(at).map((p) => [p.type, p.value]));
  return { year: +parts.year!, month: +parts.month!, day: +parts.day!, hour: +parts.hour!, minute: +parts.minute!, weekday: WEEKDAYS.indexOf(parts.weekday!) };
}

export function validateSchedule(s: Schedule): Schedule {
  try {
    fmt(s.tz ?? 'UTC');
  } catch {
    throw badRequest(`schedule.tz: "${s.tz}" is not an IANA time zone`, { field: 'schedule.tz' });
  }
  if (s.frequency === 'weekly' && s.weekday === undefined) throw badRequest('schedule.weekday is required for a weekly schedule (0 = Sunday … 6 = Saturday)', { field: 'schedule.weekday' });
  if (s.frequency === 'monthly' && s.day_of_month === undefined) throw badRequest('schedule.day_of_month is required for a monthly schedule (1 … 28)', { field: 'schedule.day_of_month' });
  return { ...s, tz: s.tz ?? 'UTC' };
}

const daysIn = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();

/** Whether a local calendar day (y, m 1-based, d) is one the schedule runs on. */
export function runsOn(s: Schedule, y: number, m: number, d: number): boolean {
  const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  switch (s.frequency) {
    case 'daily':
      return true;
    case 'weekly':
      return weekday === s.weekday;
    case 'monthly':
      return d === s.day_of_month;
    case 'last_friday':
      return weekday === 5 && d + 7 > daysIn(y, m);
  }
}

/** Instants whose wall time in tz is y-m-d hh:mm (none, one, or two around DST), earliest first. */
function instantsOf(y: number, m: number, d: number, hh: number, mm: number, tz: string): number[] {
  const naive = Date.UTC(y, m - 1, d, hh, mm);
  const out = new Set<number>();
  // zone offsets are within ±14 h and change at most once around a given day: try the offsets of the neighbourhood
  for (const probe of [naive - 86_400_000, naive - 3 * 3_600_000, naive, naive + 3 * 3_600_000, naive + 86_400_000]) {
    const w = wallTime(new Date(probe), tz);
    const offset = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute) - Math.floor(probe / 60_000) * 60_000;
    const t = naive - offset;
    const back = wallTime(new Date(t), tz);
    if (back.year === y && back.month === m && back.day === d && back.hour === hh && back.minute === mm) out.add(t);
  }
  return [...out].sort((a, b) => a - b);
}

/** The first run strictly after `after`. */
export function nextRun(s: Schedule, after: Date): Date {
  const [hh, mm] = s.time.split(':').map(Number) as [number, number];
  const start = wallTime(after, s.tz);
  // walk local calendar days from the day `after` falls on; 70 days cover every rule
  let day = Date.UTC(start.year, start.month - 1, start.day);
  for (let i = 0; i < 70; i++, day += 86_400_000) {
    const c = new Date(day);
    const [y, m, d] = [c.getUTCFullYear(), c.getUTCMonth() + 1, c.getUTCDate()];
    if (!runsOn(s, y, m, d)) continue;
    // once a day: a wall time the zone repeats counts at its first occurrence only
    const t = instantsOf(y, m, d, hh, mm, s.tz)[0];
    if (t !== undefined && t > after.getTime()) return new Date(t);
  }
  throw new Error(`no run of ${JSON.stringify(s)} within 70 days of ${after.toISOString()}`);
}
