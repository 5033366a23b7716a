import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { useContext } from 'react';
import { WidgetContextReact } from '../context.tsx';
import { downloadText, toCsv } from '../csv.ts';
import { useExportable } from '../exports.tsx';
import { fromZonedWallTime } from '../format.ts';
import { plotlyFormatFor } from './locales.ts';
import type { DrillDown, TimeRange } from '../types.ts';
import type { DownloadImgopts, ToImgopts } from 'plotly.js';
import {
  barSpec, distributionSpec, gaugeSpec, heatmapSpec, pieSpec, sankeySpec, timeSeriesSpec,
  type BarInput, type ChartEnv, type DistributionInput, type GaugeInput, type HeatmapInput,
  type PieInput, type PlotSpec, type SankeyInput, type TimeSeriesInput,
} from './specs.ts';

type PlotlyKit = typeof import('./plotly.ts');
type PlotlyModule = PlotlyKit['default'];
type PlotlyLayout = Parameters<PlotlyModule['react']>[2];
let kitPromise: Promise<PlotlyKit> | null = null;
let plotlyPromise: Promise<PlotlyModule> | null = null;
/** Plotly is a shared singleton loaded on first use: pages without charts never pay for it. */
function loadKit(): Promise<PlotlyKit> {
  if (!kitPromise) {
    kitPromise = import('./plotly.ts');
    plotlyPromise = kitPromise.then((m) => m.default);
    // a failed load is retried by the next chart
    kitPromise.catch(() => { kitPromise = null; plotlyPromise = null; });
    plotlyPromise.catch(() => undefined);
  }
  return kitPromise;
}
function loadPlotly(): Promise<PlotlyModule> {
  return loadKit().then((m) => m.default);
}

/**
 * Starts loading the chart library now: a host that is about to show chart widgets calls it
 * so the download and compile run while the widgets' own code and data are on the way.
 */
export function preloadCharts(): void {
  loadPlotly().catch(() => undefined);
}

export interface ChartCommonProps {
  /** accessible name of the chart; also the export file name */
  title: string;
  /** one sentence a screen reader announces before the data table */
  summary?: string;
  height?: number | string;
  /** click on a point (or Enter on a table row): filters for a narrower view */
  onDrillDown?(d: DrillDown): void;
  /** hide the PNG/CSV/table buttons */
  hideToolbar?: boolean;
  /** shown instead of the chart when there is nothing to draw */
  emptyText?: string;
}

/**
 * Locale and zone from the widget context, else the browser's; the widget's time range, so a
 * time series can tell the buckets it covers only in part.
 */
function useChartEnv(): ChartEnv {
  const ctx = useContext(WidgetContextReact);
  const locale = ctx?.locale ?? navigator.language;
  const tz = ctx?.tz ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const from = ctx?.timeRange?.from;
  const to = ctx?.timeRange?.to;
  // one object while these stay: the chart specs are memoised on it
  return useMemo(() => ({ locale, tz, ...(from && to ? { range: { from, to } } : {}) }), [locale, tz, from, to]);
}

interface PlotlyEl extends HTMLDivElement {
  on?(event: string, cb: (ev: any) => void): void;
  removeAllListeners?(event: string): void;
}

function slug(s: string) {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'chart';
}

export function ChartFrame(props: ChartCommonProps & { spec: PlotSpec; onZoom?(r: TimeRange): void; tz?: string }) {
  const { spec, title, summary, height = '100%', onDrillDown, onZoom, hideToolbar, emptyText = 'No data for this time range.' } = props;
  const empty = spec.empty ?? false;
  const ref = useRef<PlotlyEl>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const [showTable, setShowTable] = useState(false);
  const tableId = useId();
  const ctx = useContext(WidgetContextReact);
  const drill = onDrillDown ?? (ctx ? (d: DrillDown) => ctx.drillDown(d) : undefined);
  const tz = props.tz ?? ctx?.tz ?? 'UTC';

  const handlers = useRef({ drill, onZoom, spec, tz });
  handlers.current = { drill, onZoom, spec, tz };

  const locale = (ctx?.locale ?? navigator.language).toLowerCase();
  // What is drawn, by content: a widget that renders again (its context, its export menu, a
  // sibling's state) builds an equal spec in new arrays, and plotly's react compares data
  // arrays by reference, so it would draw the whole chart again for nothing.
  const drawnKey = useMemo(() => (spec.empty ? '' : JSON.stringify([spec.data, spec.layout])), [spec]);
  useEffect(() => {
    let cancelled = false;
    const el = ref.current;
    if (!el || spec.empty) return;
    loadKit().then(async (kit) => {
      // the rarer trace types and other languages' month names are registered on first use
      await kit.prepare(spec.data.map((d) => String(d.type ?? 'scatter')), locale);
      if (cancelled) return;
      const Plotly = kit.default;
      const drawStart = performance.now();
      await Plotly.react(el, spec.data, spec.layout as PlotlyLayout, {
        displaylogo: false,
        responsive: true,
        // Plotly's mode bar sits in the same top-right corner as the kit's PNG/CSV/Table
        // buttons and covers them: for good after the first tap on a touch screen, and
        // while hovering with a mouse. The kit's buttons do the export; drag still zooms
        // (and reports the range through onZoom) and a double click or tap resets it.
        displayModeBar: false,
        scrollZoom: false,
        // month and day names, date patterns and the currency symbol's place on axes and in
        // hovers as the user's locale writes them (locales.ts), plotly's own strings too (plotly.ts)
        locale,
        locales: { [locale]: { format: plotlyFormatFor(locale) } },
      });
      // drawing time per chart, in the browser's performance timeline (devtools, benchmarks)
      performance.measure?.(`orrery chart: ${title}`, { start: drawStart, end: performance.now() });
      el.removeAllListeners?.('plotly_click');
      el.removeAllListeners?.('plotly_relayout');
      el.on?.('plotly_click', (ev: { points?: Array<{ curveNumber: number; pointNumber: number | number[]; pointIndex?: number }> }) => {
        const p = ev.points?.[0];
        const h = handlers.current;
        if (!p || !h.drill) return;
        const idx = Array.isArray(p.pointNumber) ? p.pointNumber[0]! * 1 : p.pointNumber;
        const filters = h.spec.drill?.[p.curveNumber]?.[idx];
        if (filters) h.drill({ source: title, filters });
      });
      el.on?.('plotly_relayout', (ev: Record<string, unknown>) => {
        const h = handlers.current;
        const a = ev['xaxis.range[0]'];
        const b = ev['xaxis.range[1]'];
        if (h.onZoom && typeof a === 'string' && typeof b === 'string') {
          try {
            h.onZoom({ from: fromZonedWallTime(a.slice(0, 19), h.tz), to: fromZonedWallTime(b.slice(0, 19), h.tz) });
          } catch { /* a zoom on a non-date axis: nothing to report */ }
        }
      });
    }).catch((e: Error) => !cancelled && setFailed(e.message));
    return () => { cancelled = true; };
    // drawnKey stands for spec: the spec of the render that changed it is the one drawn
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [drawnKey, spec.empty, title, locale]);

  // Grid cells resize without a window resize: follow the element itself.
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    let frame = 0;
    const ro = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => plotlyPromise?.then((P) => el.isConnected && (el as any)._fullLayout && P.Plots.resize(el)));
    });
    ro.observe(el);
    return () => { ro.disconnect(); cancelAnimationFrame(frame); };
  }, []);

  useEffect(() => () => { const el = ref.current; if (el) plotlyPromise?.then((P) => P.purge(el)); }, []);

  const exportPng = async () => {
    const el = ref.current;
    if (!el) return;
    const P = await loadPlotly();
    // `scale` reaches toImage at run time; the published DownloadImgopts type leaves it out.
    const opts: DownloadImgopts & Pick<ToImgopts, 'scale'> = { format: 'png', filename: slug(title), width: null, height: null, scale: 2 };
    await P.downloadImage(el, opts);
  };
  const exportCsv = () => downloadText(`${slug(title)}.csv`, toCsv(spec.table));
  // the widget frame's export menu (CSV, JSON, PNG, PDF of the whole widget) gets this chart too
  useExportable(empty ? null : {
    title,
    table: () => handlers.current.spec.table,
    image: async () => {
      const el = ref.current;
      if (!el || !(el as unknown as { _fullLayout?: unknown })._fullLayout) return null;
      const P = await loadPlotly();
      const opts = { format: 'png', scale: 1 } as unknown as ToImgopts;
      return P.toImage(el, opts);
    },
  });

  return (
    <figure className="orrery-chart" aria-label={title} style={{ height }}>
      {empty && <div className="orrery-state orrery-state--empty" role="status">{emptyText}</div>}
      {!hideToolbar && !empty && (
        <div className="orrery-chart__tools" role="toolbar" aria-label={`${title} export`}>
          <button type="button" onClick={exportPng} title="Download chart as PNG">PNG</button>
          <button type="button" onClick={exportCsv} title="Download data as CSV">CSV</button>
          <button type="button" aria-expanded={showTable} aria-controls={tableId} onClick={() => setShowTable((s) => !s)}>
            {showTable ? 'Chart' : 'Table'}
          </button>
        </div>
      )}
      {failed && <p role="alert" className="orrery-chart__error">Chart could not load: {failed}</p>}
      {/* the drawing is decorative for assistive tech: the table below carries the data */}
      {/* kept mounted while empty so the resize observer and the plotly instance carry over */}
      <div ref={ref} className="orrery-chart__plot" aria-hidden="true" style={{ display: showTable || empty ? 'none' : 'block' }} />
      {!empty && (
        <div id={tableId} className={showTable ? 'orrery-chart__table' : 'orrery-sr-only'}>
          <DataTableView title={title} summary={summary} spec={spec} onDrill={drill ? (f) => drill({ source: title, filters: f }) : undefined} />
        </div>
      )}
    </figure>
  );
}

function DataTableView({ title, summary, spec, onDrill }: { title: string; summary?: string; spec: PlotSpec; onDrill?(f: Record<string, string | number>): void }) {
  // drill filters per table row exist when the chart has one point per row (single-trace charts)
  const rowDrill = spec.drill && spec.drill.length >= 1 && spec.drill[0]!.length === spec.table.rows.length ? spec.drill[0] : undefined;
  return (
    <table>
      <caption>{title}{summary ? ` — ${summary}` : ''}</caption>
      <thead>
        <tr>{spec.table.columns.map((c) => <th key={c} scope="col">{c}</th>)}{rowDrill && onDrill && <th scope="col"><span className="orrery-sr-only">Details</span></th>}</tr>
      </thead>
      <tbody>
        {spec.table.rows.map((r, i) => (
          <tr key={i}>
            {r.map((v, j) => (j === 0 ? <th key={j} scope="row">{v ?? ''}</th> : <td key={j}>{v ?? ''}</td>))}
            {rowDrill && onDrill && (
              <td><button type="button" onClick={() => onDrill(rowDrill[i]!)}>Details<span className="orrery-sr-only"> for {String(r[0])}</span></button></td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function TimeSeriesChart(props: ChartCommonProps & TimeSeriesInput & { onZoom?(r: TimeRange): void }) {
  const env = useChartEnv();
  const { series, kind, format, yTitle, missing } = props;
  const spec = useMemo(() => timeSeriesSpec({ series, kind, format, yTitle, missing }, env), [series, kind, format, yTitle, missing, env]);
  return <ChartFrame {...props} spec={spec} tz={env.tz} />;
}

export function BarChart(props: ChartCommonProps & BarInput) {
  const env = useChartEnv();
  const { categories, series, horizontal, stacked, format, categoryKey } = props;
  const spec = useMemo(() => barSpec({ categories, series, horizontal, stacked, format, categoryKey }, env), [categories, series, horizontal, stacked, format, categoryKey, env]);
  return <ChartFrame {...props} spec={spec} />;
}

export function PieChart(props: ChartCommonProps & PieInput) {
  const env = useChartEnv();
  const { slices, donut, categoryKey } = props;
  const spec = useMemo(() => pieSpec({ slices, donut, categoryKey }, env), [slices, donut, categoryKey, env]);
  return <ChartFrame {...props} spec={spec} />;
}

export function Heatmap(props: ChartCommonProps & HeatmapInput) {
  const env = useChartEnv();
  const { x, y, z, xKey, yKey, format } = props;
  const spec = useMemo(() => heatmapSpec({ x, y, z, xKey, yKey, format }, env), [x, y, z, xKey, yKey, format, env]);
  return <ChartFrame {...props} spec={spec} />;
}

export function SankeyChart(props: ChartCommonProps & SankeyInput) {
  const env = useChartEnv();
  const spec = useMemo(() => sankeySpec({ links: props.links }, env), [props.links, env]);
  return <ChartFrame {...props} spec={spec} />;
}

export function Gauge(props: ChartCommonProps & GaugeInput) {
  const env = useChartEnv();
  const { value, min, max, label, format, thresholds } = props;
  const spec = useMemo(() => gaugeSpec({ value, min, max, label, format, thresholds }, env), [value, min, max, label, format, thresholds, env]);
  return <ChartFrame {...props} hideToolbar={props.hideToolbar ?? true} spec={spec} />;
}

export function DistributionChart(props: ChartCommonProps & DistributionInput) {
  const env = useChartEnv();
  const { groups, kind, format, bins } = props;
  const spec = useMemo(() => distributionSpec({ groups, kind, format, bins }, env), [groups, kind, format, bins, env]);
  return <ChartFrame {...props} spec={spec} />;
}
