/**
 * The chart kit's Plotly: plotly.js core plus the trace types the specs in `specs.ts` draw.
 * The full prebuilt bundle (every trace, WebGL, maps) is ~4.5 MB; this is a fraction of that.
 * The build shares this module as a federation singleton (`plugin-sdk/build/shared.mjs`), so
 * the host and every remote register traces on one Plotly instance and the browser fetches
 * it once.
 *
 * Lines, areas, bars and heatmaps (what most dashboards draw) are registered up front. The
 * rarer traces and the month and day names of other languages are chunks of their own,
 * fetched and registered by `prepare` before the first chart that needs them: a dashboard
 * without a Sankey diagram neither downloads nor evaluates one.
 *
 * A new chart kind whose spec emits another trace type must be listed here, or Plotly
 * silently draws nothing for that trace.
 */
import Plotly from 'plotly.js/lib/core';
import bar from 'plotly.js/lib/bar';
import heatmap from 'plotly.js/lib/heatmap';
import { plotlyLocaleFor, type PlotlyLocale } from './locales.ts';

// scatter (line and area time series) is part of core and always registered.
Plotly.register([bar, heatmap]);

type Loader = () => Promise<{ default: unknown }>;

const TRACES: Record<string, Loader> = {
  box: () => import('plotly.js/lib/box'),
  histogram: () => import('plotly.js/lib/histogram'),
  indicator: () => import('plotly.js/lib/indicator'),
  pie: () => import('plotly.js/lib/pie'),
  sankey: () => import('plotly.js/lib/sankey'),
};

// Month and day names on date axes follow the user's locale; a few KB each (see locales.ts).
const LOCALES: Record<PlotlyLocale, Loader> = {
  de: () => import('plotly.js/lib/locales/de'),
  es: () => import('plotly.js/lib/locales/es'),
  fr: () => import('plotly.js/lib/locales/fr'),
  it: () => import('plotly.js/lib/locales/it'),
  ja: () => import('plotly.js/lib/locales/ja'),
  nl: () => import('plotly.js/lib/locales/nl'),
  pl: () => import('plotly.js/lib/locales/pl'),
  'pt-br': () => import('plotly.js/lib/locales/pt-br'),
  sv: () => import('plotly.js/lib/locales/sv'),
  'zh-cn': () => import('plotly.js/lib/locales/zh-cn'),
};

const registered = new Map<Loader, Promise<void>>();

function register(load: Loader): Promise<void> {
  let done = registered.get(load);
  if (!done) {
    done = load().then((m) => { Plotly.register(m.default as Parameters<typeof Plotly.register>[0]); });
    done.catch(() => registered.delete(load)); // a failed download is retried by the next chart
    registered.set(load, done);
  }
  return done;
}

/**
 * Registers what a chart needs before it is drawn: its trace types and the locale's
 * month and day names. Resolves at once when everything is registered already.
 */
export function prepare(traceTypes: Iterable<string>, locale: string): Promise<void> {
  const loads: Promise<void>[] = [];
  for (const t of new Set(traceTypes)) if (TRACES[t]) loads.push(register(TRACES[t]));
  const loc = plotlyLocaleFor(locale);
  if (loc) loads.push(register(LOCALES[loc]));
  return loads.length ? Promise.all(loads).then(() => undefined) : Promise.resolve();
}

export default Plotly;
