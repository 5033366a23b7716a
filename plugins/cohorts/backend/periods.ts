/**
 * Retention periods in a time zone: one integer key per period, the same in
 * ClickHouse SQL and here, so that the database groups events and this module
 * turns keys back into instants (labels, "has this period started?").
 *
 * Keys: `hour` → unix seconds of the local hour's start (an instant, so the
 * repeated hour of a DST fall-back is two periods); `day` → days since
 * 1970-01-01 of the local date; `week` → the same for the local Monday;
 * `month` → year × 12 + month − 1 of the local date. Period k after key c is
 * key `c + k × step`.
 */
import { bucketIso, zoneOffsetMs } from '@orrery/plugin-sdk';

export type Period = 'hour' | 'day' | 'week' | 'month';
export const PERIODS: readonly Period[] = ['hour', 'day', 'week', 'month'];

/** key distance between successive periods */
export const STEP: Record<Period, number> = { hour: 3600, day: 1, week: 7, month: 1 };

/** ClickHouse Int64 key of the period holding `column` in `{tz:String}`. */
export function periodKeySql(column: string, period: Period): string {
  const local = `toTimeZone(${column}, {tz:String})`;
  switch (period) {
    case 'hour':
      return `toInt64(toUnixTimestamp(toStartOfHour(${local})))`;
    case 'day':
      return `toInt64(toDate(${local}))`;
    case 'week':
      return `toInt64(toMonday(${local}))`;
    case 'month':
      return `toInt64(toYear(${local}) * 12 + toMonth(${local}) - 1)`;
  }
}

const DAY = 86_400_000;
const pad = (n: number) => String(n).padStart(2, '0');
const localDay = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;

/** Key of the period holding instant `at` in zone `tz`. */
export function periodKey(at: Date, period: Period, tz: string): number {
  const off = zoneOffsetMs(at, tz);
  const local = at.getTime() + off;
  if (period === 'hour') return Math.floor((Math.floor(local / 3_600_000) * 3_600_000 - off) / 1000);
  const day = Math.floor(local / DAY);
  if (period === 'day') return day;
  if (period === 'week') return day - ((((day + 3) % 7) + 7) % 7); // 1970-01-01 was a Thursday
  const d = new Date(day * DAY);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}

/** The instant a period starts (local midnight for day/week/month). */
export function periodStart(key: number, period: Period, tz: string): Date {
  if (period === 'hour') return new Date(key * 1000);
  if (period === 'month') {
    const y = Math.floor(key / 12);
    return new Date(bucketIso(`${y}-${pad((key % 12) + 1)}-01 00:00:00`, tz));
  }
  return new Date(bucketIso(`${localDay(new Date(key * DAY))} 00:00:00`, tz));
}

/** Keys of the periods whose start lies in [from, to) and is not after `now`, oldest first. */
export function cohortKeys(from: Date, to: Date, now: Date, period: Period, tz: string, max: number): number[] {
  const step = STEP[period];
  let k = periodKey(from, period, tz);
  if (periodStart(k, period, tz) < from) k += step;
  const keys: number[] = [];
  const end = to < now ? to : new Date(now.getTime() + 1);
  for (; periodStart(k, period, tz) < end; k += step) {
    if (keys.length >= max) return [...keys, Number.NaN]; // the caller reports the range as too long
    keys.push(k);
  }
  return keys;
}
