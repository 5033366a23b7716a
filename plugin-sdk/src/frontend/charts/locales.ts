/** The languages plotly.js has month and day names for, as the chart kit registers them. */
export const PLOTLY_LOCALES = ['de', 'es', 'fr', 'it', 'ja', 'nl', 'pl', 'pt-br', 'sv', 'zh-cn'] as const;
export type PlotlyLocale = (typeof PLOTLY_LOCALES)[number];

/**
 * The plotly locale for a user's locale, if there is one: `de-CH` → `de`, `pt-BR` → `pt-br`,
 * `en-US` → none (English is built in). Plotly itself falls back from a region to its
 * language the same way, so the chart is configured with the user's locale as it is.
 */
export function plotlyLocaleFor(locale: string): PlotlyLocale | undefined {
  const l = locale.toLowerCase();
  const known = (x: string): x is PlotlyLocale => (PLOTLY_LOCALES as readonly string[]).includes(x);
  if (known(l)) return l;
  const lang = l.split('-')[0]!;
  return known(lang) ? lang : undefined;
}

/** What plotly reads from a locale's `format` to write dates and currency on axes and in hovers. */
export interface PlotlyLocaleFormat {
  days: string[];
  shortDays: string[];
  months: string[];
  shortMonths: string[];
  periods: [string, string];
  date: string;
  year: string;
  month: string;
  dayMonth: string;
  dayMonthYear: string;
  currency: [string, string];
}

const formats = new Map<string, PlotlyLocaleFormat>();

/**
 * The date and currency patterns of a locale in plotly's (d3's) syntax, read from the
 * browser's own Intl data, for every locale the browser knows, not only the ten plotly ships
 * names for. Without it a German date axis says "Nov 10" and a currency axis "$150.000"
 * while the widget around it writes "10. Nov." and "150.000 $". Passed to plotly per chart
 * (`config.locales`), where it wins over plotly's own locale data.
 */
export function plotlyFormatFor(locale: string): PlotlyLocaleFormat {
  const hit = formats.get(locale);
  if (hit) return hit;
  const utc = (o: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat(locale, { ...o, timeZone: 'UTC' });
  // 2024-01-07 was a Sunday: d3 counts weekdays from Sunday
  const day = (d: number) => new Date(Date.UTC(2024, 0, 7 + d, 12));
  const month = (m: number) => new Date(Date.UTC(2024, m, 10, 12));
  const partOf = (f: Intl.DateTimeFormat, d: Date, type: Intl.DateTimeFormatPartTypes) => f.formatToParts(d).find((p) => p.type === type)?.value ?? '';
  const shortMonthF = utc({ month: 'short', day: 'numeric' });
  const numericMonth = /^\p{Nd}+$/u.test(partOf(shortMonthF, month(10), 'month'));
  /** a pattern in d3 syntax from how the locale writes a sample date */
  const pattern = (o: Intl.DateTimeFormatOptions) =>
    utc(o).formatToParts(month(10)).map((p) => {
      switch (p.type) {
        case 'year': return '%Y';
        case 'month': return o.month === '2-digit' ? '%m' : numericMonth ? '%-m' : '%b';
        case 'day': return o.day === '2-digit' ? '%d' : '%-d';
        default: return p.value.replace(/%/g, '%%');
      }
    }).join('');
  const hour12 = utc({ hour: 'numeric', hour12: true });
  const money = new Intl.NumberFormat(locale, { style: 'currency', currency: 'USD' }).formatToParts(1);
  const firstNumber = money.findIndex((p) => p.type === 'integer');
  const lastNumber = money.length - 1 - [...money].reverse().findIndex((p) => p.type === 'integer' || p.type === 'fraction');
  const f: PlotlyLocaleFormat = {
    days: [...Array(7).keys()].map((d) => utc({ weekday: 'long' }).format(day(d))),
    shortDays: [...Array(7).keys()].map((d) => utc({ weekday: 'short' }).format(day(d))),
    months: [...Array(12).keys()].map((m) => partOf(utc({ month: 'long', day: 'numeric' }), month(m), 'month')),
    shortMonths: [...Array(12).keys()].map((m) => partOf(shortMonthF, month(m), 'month')),
    periods: [partOf(hour12, new Date(Date.UTC(2024, 0, 1, 9)), 'dayPeriod') || 'AM', partOf(hour12, new Date(Date.UTC(2024, 0, 1, 21)), 'dayPeriod') || 'PM'],
    date: pattern({ year: 'numeric', month: '2-digit', day: '2-digit' }),
    year: pattern({ year: 'numeric' }),
    month: pattern({ year: 'numeric', month: 'short' }),
    dayMonth: pattern({ month: 'short', day: 'numeric' }),
    dayMonthYear: pattern({ year: 'numeric', month: 'short', day: 'numeric' }),
    currency: [money.slice(0, firstNumber).map((p) => p.value).join(''), money.slice(lastNumber + 1).map((p) => p.value).join('')],
  };
  formats.set(locale, f);
  return f;
}
