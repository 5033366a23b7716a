/**
 * A plugin's full page at `/p/<plugin>/<page>`: loaded from the plugin's remote like a widget
 * and given the same context, full width. Its options are the URL's query parameters, so a
 * link or a reload reopens the same view; `setOptions` writes them back (replaceState, so
 * tweaking a form does not flood the history), `navigate` moves to another portal path.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { WidgetProvider, type DrillDown, type WidgetContext, type WidgetDefinition } from '@orrery/plugin-sdk/frontend';
import { api, downloadPluginFile, pluginPath } from '../lib/api.ts';
import { Link, navigate, useSearch } from '../lib/router.tsx';
import { loadPage, navPages, type PluginManifest } from '../lib/plugins.ts';
import { useSession } from '../lib/session.tsx';
import { ErrorBoundary } from '../dashboard/ErrorBoundary.tsx';
import { optionsOfSearch, searchOfOptions } from '../lib/pagePath.ts';

export function PluginPage({ pluginId, pageId }: { pluginId: string; pageId: string }) {
  const s = useSession();
  const search = useSearch();
  const plugin = s.plugins.find((p) => p.id === pluginId && p.enabled !== false);
  const page = plugin?.pages?.find((p) => p.id === pageId);

  useEffect(() => {
    if (page) document.title = `${page.title} · ${s.me.org.name} · Orrery`;
  }, [page, s.me.org.name]);

  if (!s.pluginsLoaded) return <div className="orrery-state orrery-state--loading" role="status"><span className="orrery-spinner" aria-hidden="true" />Loading…</div>;
  if (!plugin || !page || !plugin.remote) {
    // a mistyped or outdated link: the plugin's own pages are the likeliest places meant
    const others = plugin ? navPages([plugin]) : [];
    return (
      <div className="page">
        <h1>Page not available</h1>
        <p>
          {!plugin
            ? `The plugin “${pluginId}” is not turned on for ${s.me.org.name}. An Admin can turn it on in Settings.`
            : `“${pluginId}” has no page “${pageId}” that your role may open.`}
        </p>
        {others.length > 0 && (
          <nav aria-label={`Pages of ${plugin!.title}`}>
            <p>Its pages:</p>
            <ul>{others.map((o) => <li key={o.path}><Link to={o.path}>{o.page.title}</Link></li>)}</ul>
          </nav>
        )}
        <Link to="/">Back to the dashboard</Link>
      </div>
    );
  }
  return <LoadedPage plugin={plugin} pageId={page.id} title={page.title} search={search} />;
}

function LoadedPage({ plugin, pageId, title, search }: { plugin: PluginManifest; pageId: string; title: string; search: URLSearchParams }) {
  const s = useSession();
  const [state, setState] = useState<{ def?: WidgetDefinition<any>; error?: Error }>({});
  const [attempt, setAttempt] = useState(0);
  const [refreshKey, setRefreshKey] = useState(0);

  useEffect(() => {
    let alive = true;
    setState({});
    loadPage(plugin, pageId).then(
      (def) => alive && setState({ def }),
      (error: Error) => alive && setState({ error }),
    );
    return () => { alive = false; };
  }, [plugin, pageId, attempt]);

  const prefix = `/api/v1/${plugin.routePrefix.replace(/^\/+|\/+$/g, '')}`;
  const request = useCallback<WidgetContext<any>['request']>(
    (path, init = {}) => api.request(init.method ?? 'GET', pluginPath(prefix, path), { query: init.query, body: init.body, signal: init.signal }),
    [prefix],
  );
  const download = useCallback<NonNullable<WidgetContext<any>['download']>>((path, query) => downloadPluginFile(prefix, path, query), [prefix]);

  const searchKey = search.toString();
  const timeRange = s.resolveRange(s.range);
  const department = s.departmentId ? s.me.departments.find((d) => d.id === s.departmentId) ?? null : null;

  const ctx = useMemo<WidgetContext<any> | null>(() => {
    if (!state.def) return null;
    const options = { ...(state.def.defaults ?? {}), ...optionsOfSearch(new URLSearchParams(searchKey)) };
    return {
      pluginId: plugin.id,
      pluginVersion: plugin.version,
      widgetId: `pages/${pageId}`,
      instanceId: `page:${plugin.id}/${pageId}`,
      org: s.me.org,
      department: department ? { id: department.id, name: department.name } : null,
      role: s.me.role,
      user: { id: s.me.user.id, email: s.me.user.email, displayName: s.me.user.display_name },
      timeRange,
      tz: s.prefs.tz,
      locale: s.prefs.locale,
      options,
      refreshKey,
      request,
      download,
      subscribe: s.hub.subscribe,
      drillDown: (d: DrillDown) => {
        // a page narrows itself: the drill-down's filters become its query parameters
        navigate(`${location.pathname}${searchOfOptions({ ...options, ...d.filters })}`);
      },
      setOptions: (next: Record<string, unknown>) => navigate(`${location.pathname}${searchOfOptions(next)}`, { replace: true }),
      navigate: (to: string) => navigate(to),
      surface: 'page',
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [state.def, searchKey, plugin, pageId, s.me, department?.id, timeRange.from, timeRange.to, s.prefs.tz, s.prefs.locale, refreshKey, request, download]);

  if (state.error) {
    return (
      <div className="page">
        <h1>{title}</h1>
        <div className="orrery-state orrery-state--error" role="alert">
          <p><strong>Could not load this page.</strong></p>
          <p className="small">{state.error.message}</p>
          <button type="button" className="btn btn--small" onClick={() => setAttempt((a) => a + 1)}>Try again</button>
        </div>
      </div>
    );
  }
  return (
    <div className="page page--plugin">
      <div className="page__head">
        <h1>{title}</h1>
        <button type="button" className="btn btn--small" onClick={() => setRefreshKey((k) => k + 1)}>Refresh</button>
      </div>
      {!state.def || !ctx ? (
        <div className="orrery-state orrery-state--loading" role="status"><span className="orrery-spinner" aria-hidden="true" />Loading {title}…</div>
      ) : (
        <ErrorBoundary label={title} resetKey={`${refreshKey}|${searchKey}`}>
          <WidgetProvider value={ctx}>
            <state.def.component context={ctx} options={ctx.options} />
          </WidgetProvider>
        </ErrorBoundary>
      )}
    </div>
  );
}
