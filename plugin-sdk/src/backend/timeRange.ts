import { HttpError } from './types.ts';

export type Granularity = 'minute' | 'hour' | 'day' | 'week' | 'month';

const BUCKET_MS: Record<Granularity, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
  month: 31 * 86_400_000,
};

/** At most this many buckets in one series: a minute series over a month would be 43,200 points. */
export const MAX_BUCKETS = 5000;

export interface TimeRange {
  from: Date;
  to: Date;
  /** ClickHouse DateTime64 literal strings, UTC, for query parameters */
  fromCh: string;
  toCh: string;
  tz: string;
}

export const timeRangeQuerySchema = {
  from: { type: 'string', format: 'date-time', description: 'ISO 8601 instant (inclusive); default: 7 days before `to`' },
  to: { type: 'string', format: 'date-time', description: 'ISO 8601 instant (exclusive); default: now' },
  tz: { type: 'string', maxLength: 64, description: 'IANA time zone for buckets; default UTC' },
} as const;

const chLiteral = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

/** Zones checked so far: building a DateTimeFormat costs ~3 ms, and a dashboard asks with one zone. */
const zones = new Map<string, boolean>();

/** Whether `tz` is an IANA time zone this runtime knows; answers are remembered. */
export function validZone(tz: string) {
  let ok = zones.get(tz);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      ok = true;
    } catch {
      ok = false;
    }
    if (zones.size < 1000) zones.set(tz, ok); // bounded: the names come from requests
  }
  return ok;
}

/**
 * Parses `from`/`to`/`tz` as the analytics routes define them (API.md): ISO
 * instants, `to` exclusive, default the last 7 days, buckets in UTC unless a
 * zone is named. Bad input is a 400 naming the parameter.
 */
export function parseTimeRange(q: { from?: string; to?: string; tz?: string }, defaultDays = 7): TimeRange {
  const to = q.to ? new Date(q.to) : new Date();
  if (Number.isNaN(to.getTime())) throw new HttpError(400, 'bad_request', `to: "${q.to}" is not an ISO 8601 instant`, { field: 'to' });
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - defaultDays * 86_400_000);
  if (Number.isNaN(from.getTime())) throw new HttpError(400, 'bad_request', `from: "${q.from}" is not an ISO 8601 instant`, { field: 'from' });
  if (from >= to) throw new HttpError(400, 'bad_request', 'from must be before to', { field: 'from', from: q.from, to: q.to });
  const tz = q.tz ?? 'UTC';
  if (!validZone(tz)) throw new HttpError(400, 'bad_request', `tz: "${tz}" is not an IANA time zone`, { field: 'tz' });
  return { from, to, fromCh: chLiteral(from), toCh: chLiteral(to), tz };
}

/** Refuses a series that would have more than MAX_BUCKETS points, naming the limit. */
export function checkBuckets(range: TimeRange, granularity: Granularity) {
  const n = Math.ceil((range.to.getTime() - range.from.getTime()) / BUCKET_MS[granularity]);
  if (n > MAX_BUCKETS) {
    const maxDays = Math.floor((MAX_BUCKETS * BUCKET_MS[granularity]) / 86_400_000 * 10) / 10;
    throw new HttpError(
      400,
      'range_too_large',
      `a ${granularity} series is limited to ${MAX_BUCKETS} buckets (${maxDays} days); this range needs ${n}. Use a coarser granularity or a shorter range.`,
      { field: 'granularity', buckets: n, max_buckets: MAX_BUCKETS },
    );
  }
  return n;
}

/**
 * ClickHouse expression for the start of a bucket of `column` in `{tz:String}`
 * (bind `tz` from the range). Weeks start on Monday.
 */
export function bucketExpr(column: string, granularity: Granularity): string {
  const fn = {
    minute: 'toStartOfMinute',
    hour: 'toStartOfHour',
    day: 'toStartOfDay',
    week: 'toMonday',
    month: 'toStartOfMonth',
  }[granularity];
  const local = `toTimeZone(${column}, {tz:String})`;
  return granularity === 'week' || granularity === 'month' ? `toDateTime(${fn}(${local}), {tz:String})` : `${fn}(${local})`;
}

/**
 * Answers of the two functions below, remembered: a widget's rows repeat the same few
 * hundred buckets (one per hour of the range, for each agent or department), and asking
 * Intl for a zone's offset costs ~10 µs a time, which made it most of a route's own CPU.
 * Both are pure functions of their arguments; the maps are emptied when they grow large.
 */
const isoByBucket = new Map<string, string>();
const offsetByMinute = new Map<string, number>();
const MEMO_LIMIT = 100_000;

/** Formats a ClickHouse DateTime string (in zone `tz`) as an ISO instant. */
export function bucketIso(value: string, tz: string): string {
  if (tz === 'UTC') return `${value.replace(' ', 'T')}Z`;
  const key = `${tz}|${value}`;
  let iso = isoByBucket.get(key);
  if (iso === undefined) {
    // ClickHouse returns the local wall time; find the UTC instant for it
    const guess = new Date(`${value.replace(' ', 'T')}Z`);
    const offset = zoneOffsetMs(guess, tz);
    const first = new Date(guess.getTime() - offset);
    // correct when the offset differs on the other side of a DST change
    const offset2 = zoneOffsetMs(first, tz);
    iso = new Date(guess.getTime() - offset2).toISOString();
    if (isoByBucket.size >= MEMO_LIMIT) isoByBucket.clear();
    isoByBucket.set(key, iso);
  }
  return iso;
}

const zoneFormatters = new Map<string, Intl.DateTimeFormat>();

/** The UTC offset (ms) of zone `tz` at an instant: local wall time minus UTC. */
export function zoneOffsetMs(at: Date, tz: string): number {
  // zone offsets are whole minutes and change on minute boundaries, so one answer per minute
  const minute = Math.floor(at.getTime() / 60_000);
  const key = `${tz}|${minute}`;
  const known = offsetByMinute.get(key);
  if (known !== undefined) return known;
  let f = zoneFormatters.get(tz);
  if (!f) {
    // one formatter per zone: building it costs far more than formatting with it
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    zoneFormatters.set(tz, f);
  }
  const start = new Date(minute * 60_000);
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(start)) p[part.type] = part.value;
  const offset = Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!, +p.second!) - start.getTime();
  if (offsetByMinute.size >= MEMO_LIMIT) offsetByMinute.clear();
  offsetByMinute.set(key, offset);
  return offset;
}
