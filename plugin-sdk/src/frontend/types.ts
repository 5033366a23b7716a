/**
 * What a widget receives from the host. Plain data and two functions: the widget never
 * reaches for the host's modules, so a widget built today keeps working when the host's
 * insides change.
 */
import type { ComponentType } from 'react';

import type { BusMessage, Role } from '../contract/index.ts';
export type { BusMessage, BusScope, PageDecl, Role, WidgetDecl, WidgetSize, OptionsSchema } from '../contract/index.ts';

/** A half-open instant range, ISO 8601 in UTC (`to` exclusive), as the analytics routes take it. */
export interface TimeRange {
  from: string;
  to: string;
  /** the preset it came from (e.g. `7d`), absent for a custom range */
  preset?: string;
}

export interface ApiErrorBody {
  code: string;
  message: string;
  details?: unknown;
}

export type QueryValue = string | number | boolean | null | undefined | Array<string | number>;
export type Query = Record<string, QueryValue>;

/** A drill-down request: the chart point that was clicked, as filters for a narrower view. */
export interface DrillDown {
  /** the widget (or chart) the click came from */
  source?: string;
  /** e.g. `{ agent: 'reviewer', bucket: '2025-01-01T00:00:00Z' }` */
  filters: Record<string, string | number>;
  /** a range to zoom the view to, when the point is a time bucket */
  timeRange?: TimeRange;
}

/** A named dashboard's filters (see `WidgetContext.filters`). */
export interface DashboardFilters {
  agent_name?: string;
}

export interface WidgetContext<O = Record<string, unknown>> {
  pluginId: string;
  pluginVersion: string;
  widgetId: string;
  /** the cell's id on the dashboard: stable across reloads */
  instanceId: string;
  org: { id: string; slug: string; name: string };
  /** the selected department (or a named dashboard's department filter), or null for the whole org */
  department: { id: string; name: string } | null;
  /**
   * Filters of the dashboard the widget sits on, which every widget follows where it can
   * (e.g. add `agent_name` to its query). Absent outside a named dashboard and in hosts
   * before SDK 2.2. The dashboard's department filter arrives as `department`.
   */
  filters?: DashboardFilters;
  role: Role;
  user: { id: string; email: string; displayName: string };
  timeRange: TimeRange;
  /** IANA zone the user reads times in */
  tz: string;
  /** BCP 47 locale for numbers and dates */
  locale: string;
  /** the widget's saved options, defaults applied and migrated to the current version */
  options: O;
  /** bumps when the user presses refresh: data hooks refetch */
  refreshKey: number;
  /**
   * GET/POST against the plugin's own routes: `path` is relative to `/api/v1/<routePrefix>`, or an
   * absolute `/api/v1/<prefix>/…` for a route under one of the plugin's `extraRoutePrefixes`
   */
  request<T = unknown>(path: string, init?: { method?: string; query?: Query; body?: unknown; signal?: AbortSignal }): Promise<T>;
  /**
   * Saves what one of the plugin's routes answers as a file (CSV, PDF…), signed in as the
   * user; the file name comes from the answer's Content-Disposition. Hosts before SDK 1.x
   * may not offer it.
   */
  download?(path: string, query?: Query): Promise<void>;
  /** listen to a bus topic (`<pluginId>.<name>`); returns the unsubscribe */
  subscribe(topic: string, handler: (msg: BusMessage) => void): () => void;
  /** ask the host for a narrower view (a filtered dashboard / the plugin's page) */
  drillDown(d: DrillDown): void;
  /** save new options for this cell (on a page: the URL's query parameters) */
  setOptions(next: O): void;
  /**
   * Moves the portal to another of its paths (e.g. `/p/experiments/results?key=x`), as a link
   * would, without reloading the page. Hosts before SDK 2.1 may not offer it.
   */
  navigate?(to: string): void;
  /** `page` when rendered as a plugin page (full width, options from the URL), else `widget` */
  surface?: 'widget' | 'page';
}

export interface WidgetProps<O = Record<string, unknown>> {
  context: WidgetContext<O>;
  options: O;
}

export interface WidgetDefinition<O = Record<string, unknown>> {
  readonly kind: 'orrery.widget';
  component: ComponentType<WidgetProps<O>>;
  /** defaults for options not saved yet (the optionsSchema `default`s are applied as well) */
  defaults?: Partial<O>;
  /** current options version: must match `optionsVersion` of the widget's declaration */
  optionsVersion: number;
  /** brings options saved under an older version up to `optionsVersion` */
  migrate?(old: Record<string, unknown>, fromVersion: number): Partial<O>;
}
