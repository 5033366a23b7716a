/**
 * The plugin manifest and the remotes behind it. Remotes are registered with the federation
 * runtime at run time from `GET /api/v1/plugins`; nothing about a plugin is known at build.
 */
import { loadRemote, registerRemotes } from '@module-federation/enhanced/runtime';
import { isWidgetDefinition, type WidgetDefinition, type Role } from '@orrery/plugin-sdk/frontend';
import type { ComponentType } from 'react';
import type { OptionsSchema, PageDecl, WidgetDecl, WidgetSize } from '@orrery/plugin-sdk/contract';

export type SizeName = WidgetSize;

/** A widget as the manifest lists it: the SDK's declaration, its options schema read as the editor reads it. */
export type WidgetManifest = Omit<WidgetDecl, 'optionsSchema' | 'module'> & { optionsSchema?: JsonSchema };

export type JsonSchema = OptionsSchema;

export interface PluginManifest {
  id: string;
  version: string;
  title: string;
  description: string;
  enabled: boolean;
  routePrefix: string;
  /** `widgetAssets`: per widget id, the files of its module (index.html preloads them) */
  remote: { name: string; entry: string; widgetAssets?: Record<string, string[]> } | null;
  widgets: WidgetManifest[];
  /** full pages the role may open, at `/p/<id>/<page id>` (plugins before SDK 2.1 list none) */
  pages?: PageManifest[];
}

/** A page as the manifest lists it (its module stays on the server's side). */
export type PageManifest = Omit<PageDecl, 'module'>;

/** The path the portal shows a plugin's page at. */
export const pagePath = (pluginId: string, pageId: string) => `/p/${pluginId}/${pageId}`;

/** Pages the main navigation lists: enabled plugins with a remote, `nav` pages the role may open. */
export function navPages(plugins: PluginManifest[]): Array<{ plugin: PluginManifest; page: PageManifest; path: string }> {
  return plugins
    .filter((p) => p.enabled !== false && p.remote)
    .flatMap((p) => (p.pages ?? []).filter((pg) => pg.nav).map((page) => ({ plugin: p, page, path: pagePath(p.id, page.id) })));
}

export interface CatalogueEntry {
  plugin: PluginManifest;
  widget: WidgetManifest;
  /** `<pluginId>/<widgetId>`: how a dashboard refers to it */
  ref: string;
}

export const widgetRef = (pluginId: string, widgetId: string) => `${pluginId}/${widgetId}`;

/** The widgets a role may add: enabled plugins with a remote, and the role in the widget's list. */
export function catalogueFor(plugins: PluginManifest[], role: Role): CatalogueEntry[] {
  return plugins
    .filter((p) => p.enabled !== false && p.remote)
    .flatMap((p) => p.widgets.filter((w) => !w.roles?.length || w.roles.includes(role)).map((w) => ({ plugin: p, widget: w, ref: widgetRef(p.id, w.id) })));
}

const registered = new Map<string, string>();
const loaded = new Map<string, Promise<WidgetDefinition<any>>>();
/** definitions whose load has finished: a cell can render them on its first pass */
const ready = new Map<string, WidgetDefinition<any>>();

export function registerPluginRemotes(plugins: PluginManifest[]) {
  const fresh = plugins
    .filter((p) => p.remote && registered.get(p.remote.name) !== p.remote.entry + p.version)
    .map((p) => ({ name: p.remote!.name, entry: new URL(p.remote!.entry, location.origin).href }));
  if (!fresh.length) return;
  // `force` replaces a remote whose entry changed (a plugin upgraded without a page reload)
  registerRemotes(fresh, { force: true });
  for (const p of plugins) if (p.remote) registered.set(p.remote.name, p.remote.entry + p.version);
  for (const k of [...loaded.keys()]) if (fresh.some((f) => k.startsWith(`${f.name}/`))) { loaded.delete(k); ready.delete(k); }
}

/** The widget's definition; a remote may also default-export a bare component. */
export function loadWidget(plugin: PluginManifest, widgetId: string): Promise<WidgetDefinition<any>> {
  return loadExposed(plugin, widgetId);
}

/** A plugin page's definition (exposed as `./pages/<id>`; default-exports `defineWidget(...)`). */
export function loadPage(plugin: PluginManifest, pageId: string): Promise<WidgetDefinition<any>> {
  return loadExposed(plugin, `pages/${pageId}`);
}

function loadExposed(plugin: PluginManifest, widgetId: string): Promise<WidgetDefinition<any>> {
  if (!plugin.remote) return Promise.reject(new Error(`plugin ${plugin.id} has no frontend`));
  const key = `${plugin.remote.name}/${widgetId}`;
  let p = loaded.get(key);
  if (!p) {
    p = loadRemote<{ default?: unknown }>(key).then((mod) => {
      const exp = (mod && typeof mod === 'object' && 'default' in mod ? mod.default : mod) as unknown;
      if (isWidgetDefinition(exp)) return exp;
      if (typeof exp === 'function') return { kind: 'orrery.widget', component: exp as ComponentType<any>, optionsVersion: 1 } as WidgetDefinition<any>;
      throw new Error(`${key} does not export a widget (expected defineWidget(...) as the default export)`);
    });
    p.then((def) => { if (loaded.get(key) === p) ready.set(key, def); }, () => undefined);
    p.catch(() => loaded.delete(key)); // a failed load can be retried
    loaded.set(key, p);
  }
  return p;
}

/** The widget's definition if its load has already finished (see dashboard/warmup.ts), else undefined. */
export function loadedWidget(plugin: PluginManifest, widgetId: string): WidgetDefinition<any> | undefined {
  return plugin.remote ? ready.get(`${plugin.remote.name}/${widgetId}`) : undefined;
}
