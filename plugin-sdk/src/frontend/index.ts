/**
 * The frontend half of the plugin contract. A plugin's widgets import only from here
 * (`@orrery/plugin-sdk/frontend`); the host shares this module as a federation singleton, so
 * the contexts the host provides are the ones the widgets' hooks read.
 */
export type {
  Role, WidgetSize, TimeRange, BusMessage, Query, QueryValue, DrillDown,
  WidgetContext, WidgetProps, WidgetDefinition, ApiErrorBody, DashboardFilters,
} from './types.ts';
export { defineWidget, isWidgetDefinition } from './defineWidget.ts';
export { useWidget, WidgetProvider } from './context.tsx';
export { useWidgetData, useRealtime, qualifyTopic, defaultIsEmpty, WidgetRequestError } from './hooks.ts';
export type { WidgetData, WidgetDataOptions } from './hooks.ts';
export { WidgetState, Stat, Button, Badge } from './components.tsx';
export type { BadgeTone } from './components.tsx';
export { formatters, toZonedWallTime, fromZonedWallTime, plotlySeparators } from './format.ts';
export type { Formatters } from './format.ts';
export { toCsv, downloadText, downloadBlob } from './csv.ts';
export type { DataTable } from './csv.ts';
export {
  createWidgetExports, WidgetExportsProvider, useExportable, widgetTables, domTables, tablesCsv, tablesJson, widgetCanvas, jpegPdf, exportWidget,
} from './exports.tsx';
export type { ExportableView, WidgetExports, NamedTable, WidgetExportFormat } from './exports.tsx';
export { throttleBatch } from './throttle.ts';
export { createBatcher } from './batch.ts';
export type { BatchOptions } from './batch.ts';
export { PortalLink, Field, useAction, ActionStatus, ListInput, formGrid } from './forms.tsx';
export {
  ChartFrame, TimeSeriesChart, BarChart, PieChart, Heatmap, SankeyChart, Gauge, DistributionChart, preloadCharts,
} from './charts/Chart.tsx';
export type { ChartCommonProps } from './charts/Chart.tsx';
export {
  timeSeriesSpec, barSpec, pieSpec, heatmapSpec, sankeySpec, gaugeSpec, distributionSpec, formatValue, partialBucketFlags,
} from './charts/specs.ts';
export type {
  PlotSpec, TimeSeriesInput, BarInput, PieInput, HeatmapInput, SankeyInput, GaugeInput, DistributionInput, ValueFormat,
} from './charts/specs.ts';
export { PALETTE } from './charts/palette.ts';
