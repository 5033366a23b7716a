/**
 * Pure builders: simple chart inputs → plotly traces + layout + the data table that backs
 * the CSV export and the screen-reader fallback. Kept free of the DOM so they are tested
 * without a browser and so every chart kind gets its table for free.
 */
import type { DataTable } from '../csv.ts';
import { formatters, isCalendarDate, plotlySeparators, toZonedWallTime } from '../format.ts';
import { BAD, GOOD, GRID, INK, MUTED, WARN, colorAt } from './palette.ts';

export type ValueFormat = 'number' | 'compact' | 'percent' | 'duration' | 'currency';

export interface ChartEnv {
  locale: string;
  tz: string;
  /**
   * The range the data covers, when the chart shows one (a widget's time range). A line's
   * bucket that the range covers only in part (the first, cut at `from`; the one still under
   * way at `to`) is reached by a dotted segment: its count is part of a period's.
   */
  range?: { from: string; to: string };
}

export interface PlotSpec {
  data: Array<Record<string, unknown>>;
  layout: Record<string, unknown>;
  table: DataTable;
  /** drill-down filters per trace/point: `drill[trace][point]` */
  drill?: Array<Array<Record<string, string | number>>>;
  /**
   * Nothing to draw. Plotly given no points still draws axes, and a date axis without data
   * defaults to the year 2000, which reads as data from the wrong period: the chart shows
   * the empty state instead.
   */
  empty?: boolean;
}

export function formatValue(v: number, f: ValueFormat | undefined, env: ChartEnv): string {
  const fm = formatters(env.locale, env.tz);
  switch (f) {
    case 'percent': return fm.percent(v);
    case 'duration': return fm.duration(v);
    case 'currency': return fm.currency(v);
    case 'compact': return fm.compact(v);
    default: return fm.number(v);
  }
}

/** plotly tick format for a value format (d3-format syntax) */
function tickFormat(f: ValueFormat | undefined, values: Iterable<number | null | undefined> = []): Record<string, unknown> {
  switch (f) {
    case 'percent': return { tickformat: '.0%' };
    // `$`: the locale's currency symbol where the locale puts it (Chart passes plotlyFormatFor).
    // Cents for dollars; an axis of fractions of a cent (a few agent calls) shows its digits
    // instead of "$0" on every tick.
    case 'currency': {
      let max = 0;
      for (const v of values) if (typeof v === 'number' && Number.isFinite(v)) max = Math.max(max, Math.abs(v));
      return { tickformat: `$,.${max >= 1 || max === 0 ? 2 : max >= 0.01 ? 4 : 6}~f` };
    }
    case 'duration': return { ticksuffix: ' ms', tickformat: ',.0f' };
    case 'compact': return { tickformat: '.2~s' };
    default: {
      // four significant digits keep small fractions readable, but d3's `g` turns 15,000 into
      // "1.5e+4": an axis that reaches 10,000 gets whole numbers with separators instead
      let max = 0;
      let whole = true;
      for (const v of values) {
        if (typeof v !== 'number' || !Number.isFinite(v)) continue;
        max = Math.max(max, Math.abs(v));
        if (!Number.isInteger(v)) whole = false;
      }
      // a few events, people or runs: plotly would tick 0, 0.5, 1; counts step by one
      if (whole && max <= 4) return { tickformat: ',d', dtick: 1 };
      return { tickformat: max >= 10_000 ? ',.0f' : ',.4~g' };
    }
  }
}

/*
 * Margins estimated from the labels, before plotly draws. With `automargin` plotly draws a
 * chart, measures its tick labels and, when they do not fit the margins, draws it all again;
 * on a dashboard of charts that second pass was a third of the page's drawing time. Margins
 * that already fit make the measurement a no-op; automargin stays on for what an estimate
 * misses (a label longer than expected costs one more pass, never a clipped label).
 * Date and value axes also say `ticklabeloverflow: 'allow'` (category axes do by default):
 * otherwise plotly measures every tick label once more to hide the ones that would poke past
 * the chart's edge, which the margins above already make room for.
 */

/** right margin of a date axis: half of its widest label ("Nov 30") and a little air */
const DATE_LABEL_OVERHANG = 28;

/** px of a label in the kit's 12 px sans-serif font: a generous average per character */
const textPx = (s: string) => Math.ceil(s.length * 7) + 2;
const longest = (labels: readonly string[]) => labels.reduce((m, l) => Math.max(m, textPx(String(l))), 0);
const clampPx = (px: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, Math.ceil(px)));

/** Width of the widest tick label a value axis over `values` gets, in its format. */
function valueTickPx(values: Iterable<number | null | undefined>, format: ValueFormat | undefined, env: ChartEnv): number {
  let max = 0;
  let negative = false;
  for (const v of values) {
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    max = Math.max(max, Math.abs(v));
    if (v < 0) negative = true;
  }
  // ticks are round numbers up to a little above the largest value
  const top = max > 0 ? Math.pow(10, Math.ceil(Math.log10(max * 1.1))) : 1;
  const sample = format === 'percent' ? '100%' : `${negative ? '-' : ''}${formatValue(format === 'compact' ? top : Math.min(top, max * 1.2 + 1), format, env)}`;
  return textPx(sample);
}

/** plotly's margin object, in px */
const margin = (l: number, r: number, t: number, b: number) => ({ l, r, t, b });

export function baseLayout(env: ChartEnv, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    autosize: true,
    margin: { l: 48, r: 16, t: 8, b: 36 },
    paper_bgcolor: 'rgba(0,0,0,0)',
    plot_bgcolor: 'rgba(0,0,0,0)',
    font: { family: 'Inter, ui-sans-serif, system-ui, sans-serif', size: 12, color: INK },
    separators: plotlySeparators(env.locale),
    hoverlabel: { bgcolor: '#ffffff', bordercolor: GRID, font: { color: INK } },
    // above the plot: below it, the legend and the x tick labels compete for the same margin
    legend: { orientation: 'h', x: 0, y: 1, xanchor: 'left', yanchor: 'bottom', font: { color: MUTED } },
    xaxis: { gridcolor: GRID, zerolinecolor: GRID, linecolor: GRID, automargin: true, ticklabeloverflow: 'allow' },
    yaxis: { gridcolor: GRID, zerolinecolor: GRID, linecolor: GRID, automargin: true, ticklabeloverflow: 'allow' },
    ...extra,
  };
}

// ---------------------------------------------------------------- time series

export interface TimeSeriesInput {
  /**
   * `t` is an instant (ISO 8601), drawn at the user's wall-clock time, or a calendar date
   * (`YYYY-MM-DD`): a day as the data names it, drawn on that day whatever the user's zone.
   * `axis: 'right'` draws a series against a second value axis on the right, for a series
   * of another magnitude (spend in cents next to value in thousands) that would otherwise
   * be a flat line along the bottom.
   */
  series: Array<{ name: string; points: Array<{ t: string; v: number | null }>; axis?: 'left' | 'right' }>;
  /**
   * `step`: a level that holds until the next point (a cohort's size between recomputations),
   * drawn flat then straight up or down; its points are instants of change, not buckets, so
   * none is missing between them.
   */
  kind?: 'line' | 'area' | 'bar' | 'step';
  format?: ValueFormat;
  yTitle?: string;
  /**
   * What a bucket missing from a series means. `gap` (default): nothing was measured there,
   * so the line breaks rather than drawing a straight segment across a quiet night. `zero`:
   * the series counts something, and no row means none happened; the line drops to zero.
   */
  missing?: 'gap' | 'zero';
  /** with `kind: 'area'`: each series stacked on the ones before it (shares of a total over time) */
  stacked?: boolean;
}

/** A time as plotly draws it: an instant at the user's wall-clock time, a calendar date at its midnight. */
const plotlyTime = (t: string, tz: string) => (isCalendarDate(t) ? `${t} 00:00:00` : toZonedWallTime(t, tz));

/** The bucket width of the series: the smallest step between consecutive times of any series. */
function bucketStepMs(series: TimeSeriesInput['series']): number | null {
  let step = Infinity;
  for (const s of series) {
    for (let i = 1; i < s.points.length; i++) {
      const d = Date.parse(s.points[i]!.t) - Date.parse(s.points[i - 1]!.t);
      if (d > 0 && d < step) step = d;
    }
  }
  return Number.isFinite(step) ? step : null;
}

/**
 * The points with what a missing bucket means made explicit: one null after the last bucket
 * before a hole (plotly breaks the line there), or zeros at both edges of the hole. Holes
 * are steps over 1.5 buckets, so a day bucket that is 23 or 25 hours long across a
 * daylight-saving change is not one.
 */
export function withMissingBuckets(points: Array<{ t: string; v: number | null }>, stepMs: number | null, missing: 'gap' | 'zero') {
  if (!stepMs || points.length < 2) return points;
  // inserted points are written as the series writes its times
  const write = isCalendarDate(points[0]!.t) ? (ms: number) => new Date(ms).toISOString().slice(0, 10) : (ms: number) => new Date(ms).toISOString();
  const out: Array<{ t: string; v: number | null }> = [points[0]!];
  for (let i = 1; i < points.length; i++) {
    const prev = Date.parse(points[i - 1]!.t);
    const next = Date.parse(points[i]!.t);
    if (next - prev > 1.5 * stepMs) {
      const after = write(prev + stepMs);
      if (missing === 'gap') out.push({ t: after, v: null });
      else {
        out.push({ t: after, v: 0 });
        const before = write(next - stepMs);
        if (before !== after) out.push({ t: before, v: 0 });
      }
    }
    out.push(points[i]!);
  }
  return out;
}

/**
 * Which buckets a range covers only in part: the one `from` falls inside (after its start) and
 * the one `to` falls inside (before its end). Calendar dates name whole days and are never partial.
 */
export function partialBucketFlags(points: Array<{ t: string }>, stepMs: number | null, range: ChartEnv['range']): boolean[] {
  if (!range || !stepMs) return points.map(() => false);
  const from = Date.parse(range.from), to = Date.parse(range.to);
  return points.map((p) => {
    if (isCalendarDate(p.t)) return false;
    const start = Date.parse(p.t), end = start + stepMs;
    return (start < from && from < end) || (start < to && to < end);
  });
}

/**
 * A line split in two: `solid`, the points with the partial buckets left out (the line breaks
 * there), and `dotted`, the segments that reach a partial bucket, with a break (a null at the
 * same time) between two that do not touch. Each segment between present points is in exactly
 * one of them; `hover` says which of the dotted trace's points are the partial buckets (the
 * solid trace answers for the others).
 */
export function splitPartialSegments(points: Array<{ t: string; v: number | null }>, partial: boolean[]) {
  const present = (j: number) => j >= 0 && j < points.length && points[j]!.v !== null && points[j]!.v !== undefined;
  const solid = points.map((p, i) => (partial[i] ? { t: p.t, v: null } : p));
  const dotted: Array<{ t: string; v: number | null }> = [];
  const hover: boolean[] = [];
  for (let i = 0; i < points.length; i++) {
    if (!present(i)) continue;
    // a segment is dotted when either of its ends is a partial bucket
    const dottedLeft = present(i - 1) && (partial[i - 1] || partial[i]);
    const dottedRight = present(i + 1) && (partial[i] || partial[i + 1]);
    const lonePartial = partial[i] && !present(i - 1) && !present(i + 1);
    if (!dottedLeft && !dottedRight && !lonePartial) continue;
    // a point not joined to the one before it by a dotted segment starts a new piece
    if (!dottedLeft && dotted.length) { dotted.push({ t: points[i]!.t, v: null }); hover.push(false); }
    dotted.push(points[i]!);
    hover.push(!!partial[i]);
  }
  return { solid, dotted, hover };
}

export function timeSeriesSpec(input: TimeSeriesInput, env: ChartEnv): PlotSpec {
  const kind = input.kind ?? 'line';
  const fm = formatters(env.locale, env.tz);
  const step = kind === 'bar' || kind === 'step' ? null : bucketStepMs(input.series);
  const right = (s: { axis?: 'left' | 'right' }) => s.axis === 'right';
  // lines and unstacked areas reach a bucket the range covers only in part by a dotted segment
  const dotsPartial = (kind === 'line' || (kind === 'area' && !input.stacked)) && !!env.range;
  const drawn = input.series.map((s) => {
    const all = withMissingBuckets(s.points, step, input.missing ?? 'gap');
    const partial = dotsPartial ? partialBucketFlags(all, step, env.range) : [];
    const split = partial.some((f, i) => f && all[i]!.v !== null && all[i]!.v !== undefined) ? splitPartialSegments(all, partial) : null;
    const points = split ? split.solid : all;
    return { name: s.name, right: right(s), points, split, alone: kind === 'bar' ? null : lonePoints(points) };
  });
  const twoAxes = drawn.some((s) => s.right) && drawn.some((s) => !s.right);
  const data: Array<Record<string, unknown>> = drawn.map((s, i) => ({
    type: kind === 'bar' ? 'bar' : 'scatter',
    // a point with no neighbour on either side is no line at all: it gets a marker (and only
    // then markers: one per point of a long series is a lot of drawing for nothing)
    mode: kind === 'bar' ? undefined : s.alone ? 'lines+markers' : 'lines',
    fill: kind === 'area' ? (input.stacked ? 'tonexty' : 'tozeroy') : undefined,
    ...(kind === 'area' && input.stacked ? { stackgroup: 'one' } : {}),
    // the legend says which axis a series reads against
    name: twoAxes && s.right ? `${s.name} (right axis)` : s.name,
    ...(twoAxes && s.right ? { yaxis: 'y2' } : {}),
    // wall-clock strings in the user's zone: plotly draws them as given
    x: s.points.map((p) => plotlyTime(p.t, env.tz)),
    y: s.points.map((p) => p.v),
    // a count that drops to zero is drawn straight: a spline would dip below zero on the way
    line: { color: colorAt(i), width: 2, shape: kind === 'step' ? 'hv' : input.missing === 'zero' ? 'linear' : 'spline', smoothing: 0.3 },
    marker: { color: colorAt(i), ...(s.alone ? { size: s.alone.map((a) => (a ? 7 : 0)) } : {}) },
    hovertemplate: `%{x}<br>${s.name}: %{y}<extra></extra>`,
    ...(s.split ? { legendgroup: `series-${i}` } : {}),
  }));
  // the dotted companions come after every series, so a trace's index still names its series
  drawn.forEach((s, i) => {
    if (!s.split || !s.split.dotted.length) return;
    const name = twoAxes && s.right ? `${s.name} (right axis)` : s.name;
    const lone = lonePoints(s.split.dotted);
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      fill: kind === 'area' ? 'tozeroy' : undefined,
      name,
      legendgroup: `series-${i}`,
      showlegend: false,
      ...(twoAxes && s.right ? { yaxis: 'y2' } : {}),
      x: s.split.dotted.map((p) => plotlyTime(p.t, env.tz)),
      y: s.split.dotted.map((p) => p.v),
      line: { color: colorAt(i), width: 2, dash: 'dot', shape: 'linear' },
      // a partial bucket with no neighbour is a marker; the others are the dotted line's ends
      marker: { color: colorAt(i), size: lone ? lone.map((a) => (a ? 7 : 0)) : 0 },
      // the solid trace answers for the complete buckets; this one for the partial ones only
      hoverinfo: s.split.hover.map((h) => (h ? 'all' : 'skip')),
      hovertemplate: `%{x}<br>${s.name} (so far): %{y}<extra></extra>`,
    });
  });
  // one table row per timestamp, one column per series
  const times = [...new Set(input.series.flatMap((s) => s.points.map((p) => p.t)))].sort();
  const lookup = input.series.map((s) => new Map(s.points.map((p) => [p.t, p.v])));
  const legend = input.series.length > 1;
  const yValues = input.series.filter((s) => !twoAxes || !right(s)).flatMap((s) => s.points.map((p) => p.v));
  const yTicks = valueTickPx(yValues, input.format, env);
  const y2Values = twoAxes ? input.series.filter(right).flatMap((s) => s.points.map((p) => p.v)) : [];
  const y2Ticks = twoAxes ? valueTickPx(y2Values, input.format, env) : 0;
  return {
    data,
    layout: baseLayout(env, {
      dragmode: 'zoom',
      hovermode: 'x unified',
      showlegend: legend,
      // date ticks take two lines where the day or year changes
      // right: the last date label is centred on the axis' end and pokes half its width past it
      margin: margin(clampPx(yTicks + 16 + (input.yTitle ? 22 : 0), 32, 160), twoAxes ? clampPx(y2Ticks + 16, 32, 160) : DATE_LABEL_OVERHANG, legend ? 44 : 8, 48),
      xaxis: { type: 'date', gridcolor: GRID, linecolor: GRID, automargin: true, ticklabeloverflow: 'allow', ...timeAxisExtent(times, env) },
      yaxis: { title: input.yTitle ? { text: input.yTitle } : undefined, gridcolor: GRID, zerolinecolor: GRID, automargin: true, ticklabeloverflow: 'allow', rangemode: 'tozero', ...tickFormat(input.format, yValues) },
      // its own ticks, no second grid over the first
      ...(twoAxes ? { yaxis2: { overlaying: 'y', side: 'right', showgrid: false, zeroline: false, tickmode: 'auto', nticks: 5, automargin: true, ticklabeloverflow: 'allow', rangemode: 'tozero', ...tickFormat(input.format, y2Values) } } : {}),
    }),
    table: {
      columns: ['time', ...input.series.map((s) => s.name)],
      rows: times.map((t) => [isCalendarDate(t) ? fm.date(t) : fm.dateTime(t), ...lookup.map((m) => m.get(t) ?? null)]),
    },
    drill: input.series.map((s) => s.points.map((p) => ({ series: s.name, bucket: p.t }))),
    // buckets that are all null (e.g. a rate with no events) are as empty as no buckets
    empty: !input.series.some((s) => s.points.some((p) => p.v !== null && p.v !== undefined)),
  };
}

/** Which points of a line series stand alone (no drawn neighbour either side), or null if none does. */
function lonePoints(points: Array<{ v: number | null }>): boolean[] | null {
  const drawn = (j: number) => j >= 0 && j < points.length && points[j]!.v !== null && points[j]!.v !== undefined;
  const alone = points.map((_, j) => drawn(j) && !drawn(j - 1) && !drawn(j + 1));
  return alone.some(Boolean) ? alone : null;
}

/**
 * What plotly cannot guess well about the time axis. One instant alone gets an axis a few
 * milliseconds wide ("06:59:59.999"): it gets an hour on each side, a day alone a day. Two to
 * four days get a tick per day, not ticks at 06:00 and 12:00 between them.
 */
function timeAxisExtent(times: string[], env: ChartEnv): Record<string, unknown> {
  if (!times.length) return {};
  const calendar = times.every(isCalendarDate);
  const wall = (ms: number) => plotlyTime(calendar ? new Date(ms).toISOString().slice(0, 10) : new Date(ms).toISOString(), env.tz);
  const first = Date.parse(times[0]!);
  const last = Date.parse(times[times.length - 1]!);
  const out: Record<string, unknown> = {};
  if (first === last) {
    const pad = calendar ? 86_400_000 : 3_600_000;
    out.range = [wall(first - pad), wall(first + pad)];
  }
  // (only over a few days: a week of day ticks crowds a narrow chart, and there plotly keeps to days anyway)
  if (calendar && last - first <= 3 * 86_400_000) Object.assign(out, { dtick: 86_400_000, tick0: wall(first) });
  return out;
}

// ---------------------------------------------------------------- bar

export interface BarInput {
  categories: string[];
  series: Array<{ name: string; values: number[] }>;
  horizontal?: boolean;
  stacked?: boolean;
  format?: ValueFormat;
  /** name of the category field in drill-down filters (default `category`) */
  categoryKey?: string;
}

export function barSpec(input: BarInput, env: ChartEnv): PlotSpec {
  const h = input.horizontal ?? false;
  const key = input.categoryKey ?? 'category';
  const data = input.series.map((s, i) => ({
    type: 'bar',
    name: s.name,
    orientation: h ? 'h' : 'v',
    x: h ? s.values : input.categories,
    y: h ? input.categories : s.values,
    marker: { color: colorAt(i) },
    hovertemplate: `%{${h ? 'y' : 'x'}}<br>${s.name}: %{${h ? 'x' : 'y'}}<extra></extra>`,
  }));
  // Column labels that do not fit side by side turn straight down (plotly's default tries 30°
  // first, whose labels run down and to the right past the last column: the right margin the
  // estimate cannot know, so plotly drew such a chart twice); the bottom margin below is sized
  // for labels turned 90°.
  // Rows of a horizontal chart are each named: plotly thins category labels it thinks too close
  // (every other one in a short cell), which leaves a bar looking like its neighbour's. Up to a
  // dozen rows every label is drawn, a size smaller; beyond that plotly's thinning stays.
  const named = h && input.categories.length <= 12 ? { tickmode: 'array', tickvals: input.categories, tickfont: { size: 11 } } : {};
  const catAxis = { automargin: true, linecolor: GRID, type: 'category', autorange: h ? 'reversed' : true, ...(h ? named : { autotickangles: [0, 90] }) };
  const legend = input.series.length > 1;
  const values = input.stacked
    ? input.categories.map((_, ci) => input.series.reduce((a, s) => a + (s.values[ci] ?? 0), 0))
    : input.series.flatMap((s) => s.values);
  const valueAxis = { gridcolor: GRID, zerolinecolor: GRID, automargin: true, ticklabeloverflow: 'allow', ...tickFormat(input.format, values) };
  const valuePx = valueTickPx(values, input.format, env);
  const catPx = longest(input.categories);
  // column labels that do not fit side by side are turned 30–90° by plotly: room for that
  const rotated = !h && catPx * input.categories.length > 480;
  return {
    data,
    layout: baseLayout(env, {
      barmode: input.stacked ? 'stack' : 'group',
      bargap: 0.25,
      showlegend: legend,
      xaxis: h ? valueAxis : catAxis,
      yaxis: h ? catAxis : valueAxis,
      margin: h
        ? margin(clampPx(catPx + 20, 24, 260), 24, legend ? 44 : 8, 32)
        : margin(clampPx(valuePx + 16, 32, 160), 16, legend ? 44 : 8, rotated ? clampPx(catPx + 24, 32, 180) : 32),
    }),
    table: {
      columns: [key, ...input.series.map((s) => s.name)],
      rows: input.categories.map((c, ci) => [c, ...input.series.map((s) => s.values[ci] ?? null)]),
    },
    drill: input.series.map((s) => input.categories.map((c) => ({ [key]: c, series: s.name }))),
    empty: input.categories.length === 0 || input.series.length === 0,
  };
}

// ---------------------------------------------------------------- pie / donut

export interface PieInput {
  slices: Array<{ label: string; value: number }>;
  donut?: boolean;
  categoryKey?: string;
}

export function pieSpec(input: PieInput, env: ChartEnv): PlotSpec {
  const key = input.categoryKey ?? 'category';
  const total = input.slices.reduce((a, s) => a + s.value, 0);
  const fm = formatters(env.locale, env.tz);
  return {
    data: [{
      type: 'pie',
      labels: input.slices.map((s) => s.label),
      values: input.slices.map((s) => s.value),
      hole: input.donut ? 0.55 : 0,
      sort: false,
      textinfo: 'percent',
      marker: { colors: input.slices.map((_, i) => colorAt(i)), line: { color: '#fff', width: 2 } },
      hovertemplate: '%{label}: %{value} (%{percent})<extra></extra>',
    }],
    layout: baseLayout(env, { showlegend: true, legend: { orientation: 'v', x: 1, y: 0.5, font: { color: MUTED } }, margin: { l: 8, r: 8, t: 8, b: 8 } }),
    table: {
      columns: [key, 'value', 'share'],
      rows: input.slices.map((s) => [s.label, s.value, total ? fm.percent(s.value / total) : null]),
    },
    drill: [input.slices.map((s) => ({ [key]: s.label }))],
    // a pie of zeros draws nothing at all
    empty: total === 0,
  };
}

// ---------------------------------------------------------------- heatmap

export interface HeatmapInput {
  x: string[];
  y: string[];
  /** z[row = y index][col = x index] */
  z: Array<Array<number | null>>;
  xKey?: string;
  yKey?: string;
  format?: ValueFormat;
}

export function heatmapSpec(input: HeatmapInput, env: ChartEnv): PlotSpec {
  const xKey = input.xKey ?? 'x';
  const yKey = input.yKey ?? 'y';
  return {
    data: [{
      type: 'heatmap',
      x: input.x,
      y: input.y,
      z: input.z,
      colorscale: [[0, '#f1f5fb'], [0.5, '#8fb0ea'], [1, '#1f4fb0']],
      xgap: 2,
      ygap: 2,
      hovertemplate: `%{y} · %{x}: %{z}<extra></extra>`,
      colorbar: { thickness: 10, outlinewidth: 0, ticklabeloverflow: 'allow' },
    }],
    layout: baseLayout(env, {
      xaxis: { type: 'category', automargin: true, showgrid: false },
      yaxis: { type: 'category', automargin: true, showgrid: false, autorange: 'reversed' },
      // the colour bar sits right of the plot, its ticks right of it
      margin: margin(
        clampPx(longest(input.y) + 20, 24, 260),
        clampPx(valueTickPx(input.z.flat(), input.format, env) + 50, 48, 140),
        8,
        longest(input.x) * input.x.length > 560 ? clampPx(longest(input.x) + 24, 32, 180) : 32,
      ),
    }),
    table: {
      columns: [`${yKey} \\ ${xKey}`, ...input.x],
      rows: input.y.map((y, r) => [y, ...input.x.map((_, c) => input.z[r]?.[c] ?? null)]),
    },
    drill: [input.y.flatMap((y) => input.x.map((x) => ({ [xKey]: x, [yKey]: y })))],
    empty: input.x.length === 0 || input.y.length === 0,
  };
}

// ---------------------------------------------------------------- sankey

export interface SankeyInput {
  links: Array<{ source: string; target: string; value: number }>;
}

export function sankeySpec(input: SankeyInput, env: ChartEnv): PlotSpec {
  const nodes: string[] = [];
  const idx = (n: string) => {
    let i = nodes.indexOf(n);
    if (i < 0) i = nodes.push(n) - 1;
    return i;
  };
  const src = input.links.map((l) => idx(l.source));
  const tgt = input.links.map((l) => idx(l.target));
  return {
    data: [{
      type: 'sankey',
      arrangement: 'snap',
      node: { label: nodes, pad: 14, thickness: 14, color: nodes.map((_, i) => colorAt(i)), line: { width: 0 } },
      link: { source: src, target: tgt, value: input.links.map((l) => l.value), color: 'rgba(59,111,216,0.18)' },
    }],
    layout: baseLayout(env, { margin: { l: 8, r: 8, t: 8, b: 8 } }),
    table: { columns: ['from', 'to', 'value'], rows: input.links.map((l) => [l.source, l.target, l.value]) },
    drill: [input.links.map((l) => ({ from: l.source, to: l.target }))],
    empty: input.links.length === 0,
  };
}

// ---------------------------------------------------------------- gauge

export interface GaugeInput {
  value: number;
  min?: number;
  max?: number;
  label?: string;
  format?: ValueFormat;
  /** colour bands: below `warn` is bad, below `good` is warn, above is good (or reversed) */
  thresholds?: { warn: number; good: number; higherIsBetter?: boolean };
}

export function gaugeSpec(input: GaugeInput, env: ChartEnv): PlotSpec {
  const min = input.min ?? 0;
  const max = input.max ?? (input.format === 'percent' ? 1 : 100);
  const t = input.thresholds;
  const up = t?.higherIsBetter ?? true;
  const steps = t
    ? [
        { range: [min, t.warn], color: up ? '#f8dde3' : '#d9f0ec' },
        { range: [t.warn, t.good], color: '#fbecc8' },
        { range: [t.good, max], color: up ? '#d9f0ec' : '#f8dde3' },
      ]
    : [];
  const bar = !t ? colorAt(0) : (up ? input.value >= t.good : input.value <= t.warn) ? GOOD : (up ? input.value >= t.warn : input.value <= t.good) ? WARN : BAD;
  return {
    data: [{
      type: 'indicator',
      mode: 'gauge+number',
      value: input.value,
      number: { valueformat: input.format === 'percent' ? '.1%' : ',.4~g', font: { size: 28, color: INK } },
      gauge: { axis: { range: [min, max], tickformat: input.format === 'percent' ? '.0%' : undefined }, bar: { color: bar, thickness: 0.3 }, steps, borderwidth: 0 },
    }],
    layout: baseLayout(env, { margin: { l: 32, r: 32, t: 26, b: 8 } }),
    table: { columns: [input.label ?? 'value', 'min', 'max'], rows: [[formatValue(input.value, input.format, env), min, max]] },
  };
}

// ---------------------------------------------------------------- histogram / box

export interface DistributionInput {
  groups: Array<{ name: string; values: number[] }>;
  kind?: 'histogram' | 'box';
  format?: ValueFormat;
  bins?: number;
}

export function distributionSpec(input: DistributionInput, env: ChartEnv): PlotSpec {
  const kind = input.kind ?? 'histogram';
  const data = input.groups.map((g, i) =>
    kind === 'box'
      ? { type: 'box', name: g.name, y: g.values, marker: { color: colorAt(i) }, boxpoints: false }
      : { type: 'histogram', name: g.name, x: g.values, nbinsx: input.bins ?? 30, marker: { color: colorAt(i) }, opacity: input.groups.length > 1 ? 0.65 : 1 },
  );
  const q = (sorted: number[], p: number) => {
    if (!sorted.length) return null;
    const pos = (sorted.length - 1) * p;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
  };
  return {
    data,
    layout: baseLayout(env, {
      barmode: 'overlay',
      showlegend: input.groups.length > 1,
      margin: margin(48, 16, input.groups.length > 1 ? 44 : 8, 36),
      [kind === 'box' ? 'yaxis' : 'xaxis']: { gridcolor: GRID, zerolinecolor: GRID, automargin: true, ticklabeloverflow: 'allow', ...tickFormat(input.format, input.groups.flatMap((g) => g.values)) },
    }),
    table: {
      columns: ['group', 'count', 'min', 'p25', 'median', 'p75', 'max'],
      rows: input.groups.map((g) => {
        const s = [...g.values].sort((a, b) => a - b);
        return [g.name, s.length, s[0] ?? null, q(s, 0.25), q(s, 0.5), q(s, 0.75), s[s.length - 1] ?? null];
      }),
    },
    empty: input.groups.every((g) => g.values.length === 0),
  };
}
