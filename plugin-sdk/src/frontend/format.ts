/**
 * Formatting that follows the user's locale and time zone. Times are UTC at rest; they are
 * only ever turned into wall-clock text here.
 */

export interface Formatters {
  locale: string;
  tz: string;
  number(n: number, digits?: number): string;
  compact(n: number): string;
  percent(ratio: number, digits?: number): string;
  currency(n: number, currency?: string): string;
  /** milliseconds → "850 ms", "2.4 s", "3 min 5 s" */
  duration(ms: number): string;
  dateTime(iso: string | Date): string;
  /** an instant's day in the user's zone; a calendar date (`YYYY-MM-DD`) is that day in every zone */
  date(iso: string | Date): string;
  /** "3 min ago" style, relative to `now` */
  relative(iso: string | Date, now?: Date): string;
  /** short weekday names in the locale, Monday first (ISO weekday 1 … 7), for heatmap axes */
  weekdays: readonly string[];
  /** an hour of the day (0–23) as the locale writes it on an axis: "14" in de-DE, "2 PM" in en-US */
  hour(h: number): string;
}

/** A calendar date (`YYYY-MM-DD`) names a day, not an instant: no zone moves it to the evening before. */
export const isCalendarDate = (t: string) => /^\d{4}-\d{2}-\d{2}$/.test(t);

const cache = new Map<string, Formatters>();

// Building an Intl formatter costs far more than using one (~0.2–1 ms each in a browser, and
// the first of a page loads the locale data), and tables and charts format hundreds of values
// while a dashboard loads: each distinct formatter is built once and kept.
const numberFormats = new Map<string, Intl.NumberFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();

function numberFormat(locale: string, key: string, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  const k = `${locale}|${key}`;
  let f = numberFormats.get(k);
  if (!f) numberFormats.set(k, (f = new Intl.NumberFormat(locale, opts)));
  return f;
}

function dateFormat(locale: string, key: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const k = `${locale}|${key}`;
  let f = dateFormats.get(k);
  if (!f) dateFormats.set(k, (f = new Intl.DateTimeFormat(locale, opts)));
  return f;
}

/** A value computed on first use: most widgets use two or three of the formatters. */
function lazy<T>(make: () => T): () => T {
  let v: T | undefined;
  let made = false;
  return () => {
    if (!made) { v = make(); made = true; }
    return v as T;
  };
}

export function formatters(locale: string, tz: string): Formatters {
  const key = `${locale}|${tz}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const fixed = (digits: number) => numberFormat(locale, `fixed${digits}`, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const upTo = (digits: number) => numberFormat(locale, `upto${digits}`, { maximumFractionDigits: digits });
  const rtf = lazy(() => new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }));
  // 2024-01-01 was a Monday; formatted in UTC so the zone cannot shift the day
  const weekdays = lazy(() => {
    const wdf = dateFormat(locale, 'weekday-utc', { weekday: 'short', timeZone: 'UTC' });
    return Object.freeze([...Array(7).keys()].map((i) => wdf.format(new Date(Date.UTC(2024, 0, 1 + i)))));
  });
  const f: Formatters = {
    locale,
    tz,
    number: (n, digits) => (digits === undefined ? upTo(2) : fixed(digits)).format(n),
    compact: (n) => numberFormat(locale, 'compact', { notation: 'compact', maximumFractionDigits: 1 }).format(n),
    percent: (r, digits = 1) => numberFormat(locale, `percent${digits}`, { style: 'percent', maximumFractionDigits: digits }).format(r),
    currency: (n, currency = 'USD') => {
      // fractions of a cent matter in a call's cost; cents do not in a figure of five digits or more
      const a = Math.abs(n);
      const digits = a < 1 ? 4 : a < 10_000 ? 2 : 0;
      return numberFormat(locale, `currency-${currency}-${digits}`, { style: 'currency', currency, maximumFractionDigits: digits, ...(digits === 0 ? { minimumFractionDigits: 0 } : {}) }).format(n);
    },
    duration: (ms) => {
      if (ms < 1000) return `${upTo(0).format(ms)} ms`;
      if (ms < 60_000) return `${upTo(1).format(ms / 1000)} s`;
      const min = Math.floor(ms / 60_000);
      const s = Math.round((ms % 60_000) / 1000);
      if (min < 60) return s ? `${min} min ${s} s` : `${min} min`;
      const h = Math.floor(min / 60);
      return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
    },
    dateTime: (iso) => dateFormat(locale, `datetime-${tz}`, { timeZone: tz, dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso)),
    date: (iso) => (typeof iso === 'string' && isCalendarDate(iso)
      // a day as the data names it: formatted at its UTC midnight in UTC, so no zone moves it
      ? dateFormat(locale, 'date-UTC', { timeZone: 'UTC', dateStyle: 'medium' }).format(new Date(`${iso}T00:00:00Z`))
      : dateFormat(locale, `date-${tz}`, { timeZone: tz, dateStyle: 'medium' }).format(new Date(iso))),
    get weekdays() { return weekdays(); },
    // the hour and, in 12-hour locales, its period: "14" (de-DE, fr-FR), "2 PM" (en-US), without "Uhr" or "h"
    hour: (h) =>
      dateFormat(locale, 'hour-utc', { hour: 'numeric', timeZone: 'UTC' })
        .formatToParts(new Date(Date.UTC(2024, 0, 1, h)))
        .filter((p) => p.type === 'hour' || p.type === 'dayPeriod')
        .map((p) => p.value)
        .join(' '),
    relative: (iso, now = new Date()) => {
      const diff = (new Date(iso).getTime() - now.getTime()) / 1000;
      const abs = Math.abs(diff);
      if (abs < 60) return rtf().format(Math.round(diff), 'second');
      if (abs < 3600) return rtf().format(Math.round(diff / 60), 'minute');
      if (abs < 86400) return rtf().format(Math.round(diff / 3600), 'hour');
      return rtf().format(Math.round(diff / 86400), 'day');
    },
  };
  cache.set(key, f);
  return f;
}

/**
 * An instant as the wall-clock time in `tz`, as "YYYY-MM-DD HH:mm:ss". Plotly draws naive
 * date strings as they are, so feeding it these puts the axis in the user's zone instead of
 * the browser's.
 */
export function toZonedWallTime(iso: string | Date, tz: string): string {
  const parts = dateFormat('en-CA', `wall-${tz}`, {
    timeZone: tz,
    year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(iso));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '00';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')}`;
}

/**
 * The inverse of `toZonedWallTime`: a wall-clock string in `tz` back to a UTC ISO instant.
 * Needed when the user zooms a chart and the zoomed axis range becomes a time range.
 */
export function fromZonedWallTime(wall: string, tz: string): string {
  const m = wall.match(/^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?$/);
  if (!m) throw new Error(`expected "YYYY-MM-DD HH:mm:ss", got "${wall}"`);
  const [, y, mo, d, h = '00', mi = '00', s = '00'] = m;
  const asUtc = Date.UTC(+y!, +mo! - 1, +d!, +h, +mi, +s);
  // The zone's offset at that instant, found by formatting the guess back; two passes
  // settle the DST edges.
  let guess = asUtc;
  for (let i = 0; i < 2; i++) {
    const shown = Date.parse(toZonedWallTime(new Date(guess), tz).replace(' ', 'T') + 'Z');
    guess += asUtc - shown;
  }
  return new Date(guess).toISOString();
}

/** Plotly's `separators` (decimal, then thousands) for a locale. */
export function plotlySeparators(locale: string): string {
  const parts = numberFormat(locale, 'default', {}).formatToParts(12345.6);
  const dec = parts.find((p) => p.type === 'decimal')?.value ?? '.';
  const grp = parts.find((p) => p.type === 'group')?.value ?? ',';
  return `${dec}${grp === '\u202f' || grp === '\u00a0' ? ' ' : grp}`;
}
