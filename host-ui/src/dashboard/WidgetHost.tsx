/**
 * Renders one widget: loads it from its remote, resolves its options, and gives it its
 * context (time range, department, locale, the data and realtime hooks' plumbing).
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { WidgetProvider, type DrillDown, type TimeRange, type WidgetContext, type WidgetDefinition } from '@orrery/plugin-sdk/frontend';
import { api, downloadPluginFile, pluginPath } from '../lib/api.ts';
import { loadWidget, loadedWidget, type CatalogueEntry } from '../lib/plugins.ts';
import { useSession } from '../lib/session.tsx';
import { ErrorBoundary } from './ErrorBoundary.tsx';
import type { DashboardItem } from './layout.ts';
import { resolveOptions } from './options.ts';
import { trackWidgetRequest } from './loadTimer.ts';
import { useDashboardScope } from '../dashboards/scope.tsx';

export function useWidgetDefinition(entry: CatalogueEntry) {
  // a definition loaded already (the dashboard warm-up) renders on the first pass
  const [state, setState] = useState<{ def?: WidgetDefinition<any>; error?: Error }>(() => ({ def: loadedWidget(entry.plugin, entry.widget.id) }));
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let alive = true;
    const known = loadedWidget(entry.plugin, entry.widget.id);
    setState((s) => (known && s.def === known ? s : { def: known }));
    loadWidget(entry.plugin, entry.widget.id).then(
      (def) => alive && setState((s) => (s.def === def ? s : { def })),
      (error: Error) => alive && setState({ error }),
    );
    return () => { alive = false; };
  }, [entry.plugin, entry.widget.id, attempt]);
  return { ...state, retry: () => setAttempt((a) => a + 1) };
}

export function WidgetHost({ item, entry, refreshKey, onOptions, onMigrated, onDrillDown, rangeOverride, extraFilters }: {
  item: DashboardItem;
  entry: CatalogueEntry;
  refreshKey: number;
  onOptions(next: Record<string, unknown>): void;
  /** options were migrated to the current version: persist them */
  onMigrated?(options: Record<string, unknown>, optionsVersion: number, pluginVersion: string): void;
  onDrillDown(d: DrillDown): void;
  rangeOverride?: TimeRange;
  /** drill-down filters merged into the options of a filtered view */
  extraFilters?: Record<string, string | number>;
}) {
  const s = useSession();
  const { def, error, retry } = useWidgetDefinition(entry);

  const resolved = useMemo(
    () => (def ? resolveOptions(item.options, item.optionsVersion, def, entry.widget.optionsSchema) : null),
    [def, item.options, item.optionsVersion, entry.widget.optionsSchema],
  );

  useEffect(() => {
    if (def && resolved?.migrated) onMigrated?.(resolved.options, def.optionsVersion, entry.plugin.version);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [resolved?.migrated]);

  const timeRange = rangeOverride ?? s.resolveRange(item.timeRange ?? s.range);
  const scope = useDashboardScope();
  // a named dashboard's department filter wins over the department picked in the header
  const department = scope?.department ?? (s.departmentId ? s.me.departments.find((d) => d.id === s.departmentId) ?? null : null);
  const filters = scope?.filters;
  const tick = scope?.tick ?? 0;
  // the department's bus messages reach this tab even when the user is not in it (an Admin)
  const watchDepartment = s.hub.watchDepartment;
  useEffect(() => (department?.id ? watchDepartment(department.id) : undefined), [department?.id, watchDepartment]);
  const prefix = `/api/v1/${entry.plugin.routePrefix.replace(/^\/+|\/+$/g, '')}`;

  // one function per plugin prefix: a new one would make every data hook fetch again
  const request = useCallback<WidgetContext<any>['request']>(
    (path, init = {}) => trackWidgetRequest(api.request(init.method ?? 'GET', pluginPath(prefix, path), { query: init.query, body: init.body, signal: init.signal })),
    [prefix],
  );

  const download = useCallback<NonNullable<WidgetContext<any>['download']>>((path, query) => downloadPluginFile(prefix, path, query), [prefix]);

  const ctx = useMemo<WidgetContext<any> | null>(() => {
    if (!resolved) return null;
    const options = extraFilters ? { ...resolved.options, ...extraFilters } : resolved.options;
    return {
      pluginId: entry.plugin.id,
      pluginVersion: entry.plugin.version,
      widgetId: entry.widget.id,
      instanceId: item.i,
      org: s.me.org,
      department: department ? { id: department.id, name: department.name } : null,
      role: s.me.role,
      user: { id: s.me.user.id, email: s.me.user.email, displayName: s.me.user.display_name },
      timeRange,
      tz: s.prefs.tz,
      locale: s.prefs.locale,
      options,
      refreshKey: refreshKey + tick,
      ...(filters ? { filters } : {}),
      request,
      download,
      subscribe: s.hub.subscribe,
      drillDown: onDrillDown,
      setOptions: onOptions,
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [resolved, extraFilters, entry, item.i, s.me, department?.id, department?.name, filters?.agent_name, tick, timeRange.from, timeRange.to, s.prefs.tz, s.prefs.locale, refreshKey, request, download]);

  // The widget's own element, the same object while its context is: a render of the page
  // around it (the filters bar's choices arriving, a notice, the grid measuring its width)
  // then stops here instead of rendering every widget on the dashboard again, each of which
  // rebuilds its charts' data and would have them drawn again.
  const Comp = def?.component;
  const body = useMemo(() => (Comp && ctx ? <Comp context={ctx} options={ctx.options} /> : null), [Comp, ctx]);

  if (error) {
    return (
      <div className="orrery-state orrery-state--error" role="alert">
        <p><strong>Could not load this widget.</strong></p>
        <p className="small">{error.message}</p>
        <button type="button" className="btn btn--small" onClick={retry}>Try again</button>
      </div>
    );
  }
  if (!def || !ctx) return <div className="orrery-state orrery-state--loading" role="status"><span className="orrery-spinner" aria-hidden="true" />Loading widget…</div>;
  return (
    <ErrorBoundary label={entry.widget.title} resetKey={`${refreshKey}|${JSON.stringify(ctx.options)}`}>
      {resolved?.migrationError && <p className="notice small" role="status">Saved settings could not be upgraded ({resolved.migrationError}); showing defaults.</p>}
      <WidgetProvider value={ctx}>
        {body}
      </WidgetProvider>
    </ErrorBoundary>
  );
}
