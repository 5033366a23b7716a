import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { toCsv } from './csv.ts';
import { formatters, fromZonedWallTime, plotlySeparators, toZonedWallTime } from './format.ts';
import { plotlyFormatFor, plotlyLocaleFor } from './charts/locales.ts';
import { defaultIsEmpty, qualifyTopic } from './hooks.ts';
import { throttleBatch } from './throttle.ts';
import { readFileSync } from 'node:fs';
import { barSpec, distributionSpec, gaugeSpec, heatmapSpec, pieSpec, sankeySpec, timeSeriesSpec, withMissingBuckets } from './charts/specs.ts';
import { defineWidget, isWidgetDefinition } from './defineWidget.ts';

const env = { locale: 'en-US', tz: 'UTC' };

describe('formatters', () => {
  it('follow the locale', () => {
    expect(formatters('de-DE', 'UTC').number(1234.5)).toBe('1.234,5');
    expect(formatters('en-US', 'UTC').percent(0.1234)).toBe('12.3%');
    expect(formatters('en-US', 'UTC').compact(15300)).toBe('15.3K');
  });
  it('name weekdays (Monday first) and hours as the locale does, whatever the zone', () => {
    expect(formatters('en-US', 'Pacific/Auckland').weekdays).toEqual(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']);
    expect(formatters('de-DE', 'America/Los_Angeles').weekdays).toEqual(['Mo', 'Di', 'Mi', 'Do', 'Fr', 'Sa', 'So']);
    expect(formatters('fr-FR', 'UTC').weekdays[0]).toBe('lun.');
    expect(formatters('en-US', 'UTC').hour(14)).toBe('2 PM');
    expect(formatters('de-DE', 'UTC').hour(14)).toBe('14');
    expect(formatters('fr-FR', 'UTC').hour(7)).toBe('07');
    expect(formatters('en-GB', 'UTC').hour(9)).toBe('09');
  });
  it('format durations for people', () => {
    const f = formatters('en-US', 'UTC');
    expect(f.duration(850)).toBe('850 ms');
    expect(f.duration(2400)).toBe('2.4 s');
    expect(f.duration(185_000)).toBe('3 min 5 s');
    expect(f.duration(7_500_000)).toBe('2 h 5 min');
  });
  it('keep each option set apart when reusing formatters', () => {
    const f = formatters('en-US', 'UTC');
    expect([f.number(1.23456, 1), f.number(1.23456, 3), f.number(1.23456)]).toEqual(['1.2', '1.235', '1.23']);
    expect([f.percent(0.12345, 0), f.percent(0.12345, 2)]).toEqual(['12%', '12.35%']);
    expect([f.currency(0.12345), f.currency(12.345), f.currency(5, 'EUR')]).toEqual(['$0.1235', '$12.35', '€5.00']);
    // no cents once a figure has five digits before the point
    expect([f.currency(9_999.5), f.currency(219_175.4), f.currency(-12_345.67)]).toEqual(['$9,999.50', '$219,175', '-$12,346']);
    expect(formatters('de-DE', 'UTC').currency(5, 'EUR')).toBe('5,00\u00a0€');
    expect([toZonedWallTime('2025-06-01T12:00:00Z', 'Europe/Berlin'), toZonedWallTime('2025-06-01T12:00:00Z', 'Asia/Tokyo')]).toEqual(['2025-06-01 14:00:00', '2025-06-01 21:00:00']);
    expect([formatters('en-US', 'Asia/Tokyo').date('2025-06-01T20:00:00Z'), f.date('2025-06-01T20:00:00Z')]).toEqual(['Jun 2, 2025', 'Jun 1, 2025']);
  });
  it('write a calendar date as that day in every zone', () => {
    expect(['America/Los_Angeles', 'Asia/Tokyo', 'UTC'].map((tz) => formatters('en-US', tz).date('2026-11-22'))).toEqual(['Nov 22, 2026', 'Nov 22, 2026', 'Nov 22, 2026']);
    // an instant is still its day where the user is
    expect(formatters('en-US', 'America/Los_Angeles').date('2026-11-22T00:00:00Z')).toBe('Nov 21, 2026');
  });
  it('show times in the user zone', () => {
    expect(formatters('en-GB', 'Asia/Kolkata').dateTime('2025-01-01T00:00:00Z')).toContain('05:30');
    expect(toZonedWallTime('2025-01-01T00:00:00Z', 'America/Los_Angeles')).toBe('2024-12-31 16:00:00');
  });
  it('wall time converts back to the instant, across DST', () => {
    for (const iso of ['2025-03-09T09:59:00.000Z', '2025-03-09T10:01:00.000Z', '2025-11-02T08:30:00.000Z']) {
      expect(fromZonedWallTime(toZonedWallTime(iso, 'America/New_York'), 'America/New_York')).toBe(iso);
    }
  });
  it('give plotly the locale separators', () => {
    expect(plotlySeparators('en-US')).toBe('.,');
    expect(plotlySeparators('de-DE')).toBe(',.');
  });
  it('give plotly the date patterns and the currency place of the user locale', () => {
    const en = plotlyFormatFor('en-US');
    expect([en.dayMonth, en.dayMonthYear, en.month, en.currency]).toEqual(['%b %-d', '%b %-d, %Y', '%b %Y', ['$', '']]);
    const de = plotlyFormatFor('de-DE');
    expect([de.dayMonth, de.dayMonthYear, de.date, de.currency]).toEqual(['%-d. %b', '%-d. %b %Y', '%d.%m.%Y', ['', '\u00a0$']]);
    expect(de.shortMonths[9]).toMatch(/^Okt/);
    expect(de.shortDays.slice(0, 2)).toEqual(['So', 'Mo']); // d3 counts from Sunday
    // a locale that writes months as numbers gets numbers, not "11月11日"
    expect(plotlyFormatFor('ja-JP').dayMonth).toBe('%-m月%-d日');
    expect(plotlyFormatFor('ja-JP').year).toBe('%Y年');
  });
  it('pick the plotly locale with the month names of the user language', () => {
    expect(['de-CH', 'de', 'pt-BR', 'pt-PT', 'zh-CN', 'ja-JP', 'en-US', 'en'].map(plotlyLocaleFor)).toEqual(['de', 'de', 'pt-br', undefined, 'zh-cn', 'ja', undefined, undefined]);
  });
});

describe('csv', () => {
  it('quotes what needs quoting and defuses formulas', () => {
    expect(toCsv({ columns: ['a', 'b'], rows: [['x,y', 'say "hi"'], ['=SUM(A1)', null], [1.5, 2]] }))
      .toBe('a,b\r\n"x,y","say ""hi"""\r\n\'=SUM(A1),\r\n1.5,2\r\n');
  });
});

describe('throttleBatch', () => {
  it('delivers the first item at once and the rest in one trailing batch', () => {
    let t = 0;
    const timers: Array<{ at: number; cb: () => void }> = [];
    const clock = { now: () => t, setTimeout: (cb: () => void, ms: number) => { const h = { at: t + ms, cb }; timers.push(h); return h; }, clearTimeout: () => undefined };
    const got: number[][] = [];
    const th = throttleBatch<number>((b) => got.push(b), 1000, clock);
    th.push(1);
    t = 100; th.push(2);
    t = 200; th.push(3);
    expect(got).toEqual([[1]]);
    t = 1000; timers.shift()!.cb();
    expect(got).toEqual([[1], [2, 3]]);
  });
});

describe('hooks helpers', () => {
  it('qualify bare topic names with the plugin id', () => {
    expect(qualifyTopic('agent-analytics', 'invocations')).toBe('agent-analytics.invocations');
    expect(qualifyTopic('agent-analytics', 'events.committed')).toBe('events.committed');
  });
  it('treat null, [] and answers whose arrays are all empty as empty', () => {
    expect(defaultIsEmpty(null)).toBe(true);
    expect(defaultIsEmpty([])).toBe(true);
    expect(defaultIsEmpty({ series: [] })).toBe(true);
    // the range and the question asked come back with an empty answer: still empty
    expect(defaultIsEmpty({ range: { from: 'a', to: 'b' }, metric: 'invocations', agents: [] })).toBe(true);
    expect(defaultIsEmpty({ series: [1] })).toBe(false);
    expect(defaultIsEmpty({ series: [], groups: [1] })).toBe(false);
    // with no list in it, an answer is data (a widget that knows better passes isEmpty)
    expect(defaultIsEmpty({ total: 0 })).toBe(false);
  });
});

describe('chart specs', () => {
  it('time series: axis in the user zone, one table row per bucket, drill per point', () => {
    const s = timeSeriesSpec({ series: [{ name: 'runs', points: [{ t: '2025-01-01T00:00:00Z', v: 3 }, { t: '2025-01-01T01:00:00Z', v: 5 }] }] }, { locale: 'en-US', tz: 'Europe/Berlin' });
    expect((s.data[0] as { x: string[] }).x).toEqual(['2025-01-01 01:00:00', '2025-01-01 02:00:00']);
    expect(s.table.columns).toEqual(['time', 'runs']);
    expect(s.table.rows).toHaveLength(2);
    expect(s.drill?.[0]?.[1]).toEqual({ series: 'runs', bucket: '2025-01-01T01:00:00Z' });
  });
  it('time series: calendar dates stay on their day in every zone', () => {
    const days = { series: [{ name: 'score', points: [{ t: '2025-03-01', v: 40 }, { t: '2025-03-02', v: 42 }, { t: '2025-03-05', v: 50 }] }] };
    for (const tz of ['America/Los_Angeles', 'Asia/Tokyo']) {
      const s = timeSeriesSpec(days, { locale: 'en-US', tz });
      // the hole (3 and 4 March) breaks the line on the 3rd, written as a date too
      expect((s.data[0] as { x: string[] }).x).toEqual(['2025-03-01 00:00:00', '2025-03-02 00:00:00', '2025-03-03 00:00:00', '2025-03-05 00:00:00']);
      expect(s.table.rows.map((r) => r[0])).toEqual(['Mar 1, 2025', 'Mar 2, 2025', 'Mar 5, 2025']);
    }
  });
  it('time series: a lone point is drawn, and a lone bucket gets an axis of its own size', () => {
    const one = timeSeriesSpec({ series: [{ name: 'runs', points: [{ t: '2025-01-01T07:00:00Z', v: 2 }] }] }, { locale: 'en-US', tz: 'UTC' });
    // a line of one point is invisible in plotly: it gets a marker
    expect(one.data[0]).toMatchObject({ mode: 'lines+markers', marker: { size: [7] } });
    // an hour either side, not plotly's few milliseconds
    expect((one.layout as { xaxis: { range: string[] } }).xaxis.range).toEqual(['2025-01-01 06:00:00', '2025-01-01 08:00:00']);
    // a point cut off by gaps on both sides gets a marker, its neighbours in lines do not
    const gappy = timeSeriesSpec({ series: [{ name: 'runs', points: ['01', '02', '05', '08', '09'].map((h) => ({ t: `2025-01-01T${h}:00:00Z`, v: 1 })) }] }, env);
    expect(gappy.data[0]).toMatchObject({ mode: 'lines+markers' });
    expect((gappy.data[0] as { marker: { size: number[] } }).marker.size.filter((x) => x > 0)).toHaveLength(1);
    // a long unbroken series draws no markers at all
    const line = timeSeriesSpec({ series: [{ name: 'runs', points: [1, 2, 3].map((h) => ({ t: `2025-01-01T0${h}:00:00Z`, v: h })) }] }, env);
    expect(line.data[0]).toMatchObject({ mode: 'lines' });
    expect((line.data[0] as { marker: { size?: unknown } }).marker.size).toBeUndefined();
  });
  it('time series: a plain number axis never shows exponents, and keeps the digits of small values', () => {
    const axis = (vs: number[]) => (timeSeriesSpec({ series: [{ name: 'n', points: vs.map((v, i) => ({ t: `2025-01-0${i + 1}`, v })) }] }, env).layout as { yaxis: { tickformat: string } }).yaxis.tickformat;
    // plotly's own tick formatter (d3-format, which plotly depends on)
    const { format } = createRequire(import.meta.url)('d3-format') as { format: (spec: string) => (v: number) => string };
    expect(format(',.4~g')(15_000)).toBe('1.5e+4'); // what the axis showed
    for (const vs of [[5_000, 17_054.2], [120_000, 3], [0.125, 0.5], [12, 140], [9_999]]) {
      const f = axis(vs);
      for (const v of vs) expect(format(f)(v), `${f} ${v}`).not.toMatch(/e[+-]/);
    }
    expect(format(axis([0.125, 0.5]))(0.125)).toBe('0.125');
    expect(axis([5_000, 17_054.2])).toBe(',.0f');
    expect(axis([0.125, 0.5])).toBe(',.4~g');
  });
  it('time series: a few whole numbers tick by one, never by halves', () => {
    const yaxis = (vs: number[]) => (timeSeriesSpec({ series: [{ name: 'n', points: vs.map((v, i) => ({ t: `2025-01-0${i + 1}`, v })) }] }, env).layout as { yaxis: { tickformat: string; dtick?: number } }).yaxis;
    expect(yaxis([0, 1, 1])).toMatchObject({ tickformat: ',d', dtick: 1 });
    expect(yaxis([4, 2])).toMatchObject({ dtick: 1 });
    // more than a few, or fractions: plotly picks its own steps
    expect(yaxis([0, 5]).dtick).toBeUndefined();
    expect(yaxis([0, 0.5]).dtick).toBeUndefined();
    expect(yaxis([1.5, 3]).tickformat).toBe(',.4~g');
  });
  it('time series: a step series holds each level until the next change, and its gaps are not holes', () => {
    // changes at 00:00, 00:10 and 05:00: a line series would break after 00:10 (a hole of 28 ten-minute buckets)
    const points = [{ t: '2025-01-01T00:00:00Z', v: 3 }, { t: '2025-01-01T00:10:00Z', v: 5 }, { t: '2025-01-01T05:00:00Z', v: 4 }];
    const step = timeSeriesSpec({ kind: 'step', series: [{ name: 'size', points }] }, env);
    expect(step.data[0]).toMatchObject({ mode: 'lines', line: { shape: 'hv' }, y: [3, 5, 4] });
    expect(timeSeriesSpec({ series: [{ name: 'size', points }] }, env).data[0]).toMatchObject({ y: [3, 5, null, 4] });
  });
  it('time series: a few days get a tick per day, never one at 06:00; a week or more is left to plotly', () => {
    const s = timeSeriesSpec({ series: [{ name: 'score', points: [{ t: '2025-03-01', v: 0 }, { t: '2025-03-02', v: 31 }] }] }, { locale: 'en-US', tz: 'Asia/Tokyo' });
    expect((s.layout as { xaxis: object }).xaxis).toMatchObject({ dtick: 86_400_000, tick0: '2025-03-01 00:00:00' });
    for (const days of [8, 30]) {
      const long = timeSeriesSpec({ series: [{ name: 'score', points: Array.from({ length: days }, (_, i) => ({ t: `2025-04-${String(i + 1).padStart(2, '0')}`, v: i })) }] }, env);
      expect((long.layout as { xaxis: { dtick?: number } }).xaxis.dtick, `${days} days`).toBeUndefined();
    }
  });
  it('time series: a series of another magnitude reads against a right axis', () => {
    const pts = (vs: number[]) => vs.map((v, i) => ({ t: `2025-03-0${i + 1}`, v }));
    const s = timeSeriesSpec({ format: 'currency', series: [{ name: 'value', points: pts([30_000, 28_000]) }, { name: 'cost', points: pts([0.4, 0.6]), axis: 'right' }] }, env);
    const [value, cost] = s.data as Array<{ name: string; yaxis?: string }>;
    expect([value!.name, value!.yaxis, cost!.name, cost!.yaxis]).toEqual(['value', undefined, 'cost (right axis)', 'y2']);
    const layout = s.layout as { yaxis: { tickformat: string }; yaxis2: { overlaying: string; side: string; tickformat: string }; margin: { r: number } };
    // each axis carries the digits of its own values
    expect([layout.yaxis.tickformat, layout.yaxis2.tickformat]).toEqual(['$,.2~f', '$,.4~f']);
    expect(layout.yaxis2).toMatchObject({ overlaying: 'y', side: 'right' });
    expect(layout.margin.r).toBeGreaterThan(16);
    expect(s.table.columns).toEqual(['time', 'value', 'cost']);
    // all on the right is one axis, drawn on the left as usual
    expect((timeSeriesSpec({ series: [{ name: 'cost', points: pts([1]), axis: 'right' }] }, env).layout as Record<string, unknown>).yaxis2).toBeUndefined();
  });
  it('bar: horizontal swaps axes and keeps categories in order', () => {
    const s = barSpec({ categories: ['a', 'b'], series: [{ name: 'n', values: [1, 2] }], horizontal: true, categoryKey: 'agent' }, env);
    expect(s.data[0]).toMatchObject({ orientation: 'h', x: [1, 2], y: ['a', 'b'] });
    expect(s.drill?.[0]?.[1]).toEqual({ agent: 'b', series: 'n' });
    // every row named up to a dozen rows; plotly's own thinning beyond
    const rows = (n: number) => barSpec({ categories: Array.from({ length: n }, (_, i) => `agent-${i}`), series: [{ name: 'n', values: Array(n).fill(1) }], horizontal: true }, env).layout.yaxis as { tickvals?: string[] };
    expect(rows(9).tickvals).toEqual(Array.from({ length: 9 }, (_, i) => `agent-${i}`));
    expect(rows(13).tickvals).toBeUndefined();
  });
  it('currency axes carry the digits their values need, the symbol placed by the locale', () => {
    const axis = (values: number[]) => (barSpec({ categories: values.map((_, i) => `a${i}`), series: [{ name: 'cost', values }], horizontal: true, format: 'currency' }, env).layout.xaxis as { tickformat: string; tickprefix?: string });
    expect(axis([12.5, 240]).tickformat).toBe('$,.2~f');
    expect(axis([0.12, 0.4]).tickformat).toBe('$,.4~f');
    expect(axis([0.0003, 0.0009]).tickformat).toBe('$,.6~f');
    expect(axis([0.0003]).tickprefix).toBeUndefined(); // `$` in the format: before or after, as the locale writes it
  });
  it('margins are sized from the labels before plotly draws', () => {
    type M = { l: number; r: number; t: number; b: number };
    const m = (spec: { layout: Record<string, unknown> }) => spec.layout.margin as M;
    const short = barSpec({ categories: ['a', 'b'], series: [{ name: 'n', values: [1, 2] }], horizontal: true }, env);
    const long = barSpec({ categories: ['a-very-long-agent-name-indeed', 'b'], series: [{ name: 'n', values: [1, 2] }], horizontal: true }, env);
    expect(m(long).l).toBeGreaterThan(m(short).l + 150);
    // a value axis grows with the width of its largest tick label
    const small = timeSeriesSpec({ series: [{ name: 'v', points: [{ t: '2025-01-01T00:00:00Z', v: 5 }] }], format: 'currency' }, env);
    const big = timeSeriesSpec({ series: [{ name: 'v', points: [{ t: '2025-01-01T00:00:00Z', v: 1_500_000 }] }], format: 'currency' }, env);
    expect(m(big).l).toBeGreaterThan(m(small).l + 20);
    // a legend takes the top margin; one series has none
    const two = timeSeriesSpec({ series: [{ name: 'a', points: [{ t: '2025-01-01T00:00:00Z', v: 1 }] }, { name: 'b', points: [{ t: '2025-01-01T00:00:00Z', v: 2 }] }] }, env);
    expect(m(two).t).toBeGreaterThan(m(small).t);
    // columns whose labels cannot sit side by side get room to turn
    const many = barSpec({ categories: Array.from({ length: 24 }, (_, i) => `category number ${i}`), series: [{ name: 'n', values: Array(24).fill(1) }] }, env);
    expect(m(many).b).toBeGreaterThan(100);
    // ... turned straight down, which that bottom margin is sized for: turned 30°, the last
    // labels run right past the plot and plotly draws the chart again with a wider margin
    expect((many.layout.xaxis as { autotickangles?: number[] }).autotickangles).toEqual([0, 90]);
    // the last date label, centred on the end of the time axis, pokes out to the right
    expect(m(small).r).toBeGreaterThanOrEqual(28);
    // a heatmap keeps room right of the plot for its colour bar
    expect(m(heatmapSpec({ x: ['9'], y: ['Mon'], z: [[3]] }, env)).r).toBeGreaterThanOrEqual(48);
  });
  it('pie: shares in the table', () => {
    const s = pieSpec({ slices: [{ label: 'ok', value: 3 }, { label: 'err', value: 1 }], donut: true }, env);
    expect(s.table.rows).toEqual([['ok', 3, '75%'], ['err', 1, '25%']]);
    expect((s.data[0] as { hole: number }).hole).toBeGreaterThan(0);
  });
  it('sankey: nodes are deduplicated', () => {
    const s = sankeySpec({ links: [{ source: 'a', target: 'b', value: 2 }, { source: 'b', target: 'c', value: 1 }] }, env);
    expect((s.data[0] as { node: { label: string[] } }).node.label).toEqual(['a', 'b', 'c']);
  });
  it('gauge: colour follows the thresholds', () => {
    const good = gaugeSpec({ value: 0.95, format: 'percent', thresholds: { warn: 0.8, good: 0.9 } }, env);
    const bad = gaugeSpec({ value: 0.5, format: 'percent', thresholds: { warn: 0.8, good: 0.9 } }, env);
    expect((good.data[0] as any).gauge.bar.color).not.toBe((bad.data[0] as any).gauge.bar.color);
  });
  it('distribution: quartiles in the table', () => {
    const s = distributionSpec({ groups: [{ name: 'lat', values: [1, 2, 3, 4, 5] }], kind: 'box' }, env);
    expect(s.table.rows[0]).toEqual(['lat', 5, 1, 2, 3, 4, 5]);
  });
  it('say when there is nothing to draw, so no axis over the year 2000 appears', () => {
    expect(timeSeriesSpec({ series: [{ name: 'runs', points: [] }] }, env).empty).toBe(true);
    expect(timeSeriesSpec({ series: [] }, env).empty).toBe(true);
    expect(timeSeriesSpec({ series: [{ name: 'runs', points: [{ t: '2025-01-01T00:00:00Z', v: null }] }] }, env).empty).toBe(true);
    expect(timeSeriesSpec({ series: [{ name: 'runs', points: [{ t: '2025-01-01T00:00:00Z', v: 0 }] }] }, env).empty).toBe(false);
    expect(barSpec({ categories: [], series: [{ name: 'n', values: [] }] }, env).empty).toBe(true);
    expect(pieSpec({ slices: [{ label: 'a', value: 0 }] }, env).empty).toBe(true);
    expect(heatmapSpec({ x: [], y: ['mon'], z: [[]] }, env).empty).toBe(true);
    expect(sankeySpec({ links: [] }, env).empty).toBe(true);
    expect(distributionSpec({ groups: [{ name: 'lat', values: [] }] }, env).empty).toBe(true);
    expect(gaugeSpec({ value: 0 }, env).empty).toBeFalsy();
  });
});

describe('chart kit plotly bundle', () => {
  // The kit ships plotly core plus only the traces it registers; a spec emitting any other
  // trace type would draw nothing at all in the browser.
  it('registers every trace type the specs emit', () => {
    const src = readFileSync(new URL('./charts/plotly.ts', import.meta.url), 'utf8');
    // registered at load (`from '…'`) or on first use (`import('…')`)
    const registered = new Set(['scatter', ...[...src.matchAll(/(?:from |import\()'plotly\.js\/lib\/(\w+)'/g)].map((m) => m[1]).filter((t) => t !== 'core')]);
    const specs = [
      timeSeriesSpec({ series: [{ name: 'a', points: [] }] }, env),
      timeSeriesSpec({ series: [{ name: 'a', points: [] }], kind: 'bar' }, env),
      barSpec({ categories: ['a'], series: [{ name: 'n', values: [1] }] }, env),
      pieSpec({ slices: [{ label: 'a', value: 1 }] }, env),
      heatmapSpec({ x: ['a'], y: ['b'], z: [[1]] }, env),
      sankeySpec({ links: [{ source: 'a', target: 'b', value: 1 }] }, env),
      gaugeSpec({ value: 1 }, env),
      distributionSpec({ groups: [{ name: 'a', values: [1] }] }, env),
      distributionSpec({ groups: [{ name: 'a', values: [1] }], kind: 'box' }, env),
    ];
    const used = new Set(specs.flatMap((s) => s.data.map((d) => String(d.type))));
    expect([...used].filter((t) => !registered.has(t))).toEqual([]);
    // and nothing registered that no spec draws: each trace costs bundle size
    expect([...registered].filter((t) => !used.has(t))).toEqual([]);
  });
});

describe('defineWidget', () => {
  it('brands the definition and defaults the options version', () => {
    const w = defineWidget({ component: () => null });
    expect(isWidgetDefinition(w)).toBe(true);
    expect(w.optionsVersion).toBe(1);
    expect(isWidgetDefinition(() => null)).toBe(false);
  });
  it('takes the options version and the defaults from the widget declaration', () => {
    const declaration = {
      id: 'w',
      title: 'W',
      description: '',
      defaultSize: 'M' as const,
      roles: ['Admin' as const],
      optionsVersion: 3,
      optionsSchema: { type: 'object', properties: { limit: { type: 'integer', default: 10 }, agent: { type: 'string' }, by: { type: 'string', default: 'agent' } } },
    };
    const w = defineWidget({ component: () => null, declaration, defaults: { agent: '' } });
    expect(w.optionsVersion).toBe(3);
    expect(w.defaults).toEqual({ limit: 10, by: 'agent', agent: '' });
  });
});

describe('time series with missing buckets', () => {
  const H = 3_600_000;
  const at = (h: number) => new Date(Date.UTC(2026, 0, 5) + h * H).toISOString();
  const pts = [0, 1, 2, 9, 10].map((h) => ({ t: at(h), v: h + 1 }));
  it('breaks the line across a hole, or drops it to zero for counts', () => {
    expect(withMissingBuckets(pts, H, 'gap').map((p) => p.v)).toEqual([1, 2, 3, null, 10, 11]);
    expect(withMissingBuckets(pts, H, 'gap')[3]!.t).toBe(at(3));
    const zero = withMissingBuckets(pts, H, 'zero');
    expect(zero.map((p) => [p.t, p.v])).toEqual([[at(0), 1], [at(1), 2], [at(2), 3], [at(3), 0], [at(8), 0], [at(9), 10], [at(10), 11]]);
    // the data table keeps the buckets the server sent
    const spec = timeSeriesSpec({ series: [{ name: 'runs', points: pts }], missing: 'zero' }, { locale: 'en-US', tz: 'UTC' });
    expect((spec.data[0] as { y: number[] }).y).toEqual([1, 2, 3, 0, 0, 10, 11]);
    expect(spec.table.rows).toHaveLength(5);
  });
  it('does not take a day made longer by a daylight-saving change for a hole', () => {
    // Berlin days around the October change: 24 h, 25 h, 24 h
    const days = ['2026-10-23T22:00:00.000Z', '2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z', '2026-10-26T23:00:00.000Z'].map((t) => ({ t, v: 1 }));
    expect(withMissingBuckets(days, 24 * H, 'gap')).toEqual(days);
  });
});
