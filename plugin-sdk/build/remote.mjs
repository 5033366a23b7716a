/**
 * Rspack config for a plugin's federated remote. A plugin's `frontend/rspack.config.mjs`:
 *
 *   import { createRemoteConfig } from '@orrery/plugin-sdk/build/remote.mjs';
 *   export default createRemoteConfig({
 *     name: 'agent_analytics',            // = frontend.remoteName in the plugin declaration
 *     root: import.meta.dirname,
 *     widgets: '../widgets.ts',           // the plugin's widget declarations (their `module`s)
 *   });
 *
 * `widgets` names the module (relative to `root`) that exports the plugin's widget
 * declarations as `widgets`; each is exposed as `./<id>` from its `module`, and its page
 * declarations (optional `pages` export) as `./pages/<id>`. A remote may
 * instead list `exposes: { './<widget id>': './src/Widget.tsx' }` itself.
 *
 * Output goes to `<root>/dist` (what the plugin declares as `frontend.distDir`, relative to
 * the plugin root: `frontend/dist`). The kernel serves it at `/plugins/<id>/`; `publicPath:
 * 'auto'` makes chunks load from wherever remoteEntry.js was fetched.
 */
import { join, resolve } from 'node:path';
import { require as tsxRequire } from 'tsx/cjs/api';
import { ModuleFederationPlugin } from '@module-federation/enhanced/rspack';
import { commonConfig } from './common.mjs';
import { sharedModules } from './shared.mjs';

/**
 * The `exposes` map of a plugin's widget declarations: `./<id>` → `module`. Read with tsx, so
 * the declarations stay the plain TypeScript data the backend and the widgets import.
 * @param {string} file absolute path of the module exporting `widgets`
 * @returns {Record<string,string>}
 */
export function exposesOf(file) {
  const { widgets, pages } = tsxRequire(file, import.meta.url);
  if (!Array.isArray(widgets)) throw new Error(`${file} must export the widget declarations as \`widgets\``);
  const out = {};
  for (const w of widgets) {
    if (typeof w?.module !== 'string') throw new Error(`${file}: widget "${w?.id}" has no \`module\` (the file to expose as ./${w?.id})`);
    out[`./${w.id}`] = w.module;
  }
  // pages (optional) are exposed under ./pages/<id>, so a page and a widget may share an id
  for (const p of Array.isArray(pages) ? pages : []) {
    if (typeof p?.module !== 'string') throw new Error(`${file}: page "${p?.id}" has no \`module\` (the file to expose as ./pages/${p?.id})`);
    out[`./pages/${p.id}`] = p.module;
  }
  return out;
}

/**
 * @param {{ name: string, root: string, widgets?: string, exposes?: Record<string,string>, outDir?: string, mode?: 'production'|'development' }} o
 */
export function createRemoteConfig({ name, root, widgets, exposes: listed, outDir = 'dist', mode }) {
  const exposes = { ...(widgets ? exposesOf(resolve(root, widgets)) : {}), ...(listed ?? {}) };
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new Error(`remote name must be a JS identifier (e.g. agent_analytics), got "${name}"`);
  }
  for (const key of Object.keys(exposes)) {
    if (!key.startsWith('./')) throw new Error(`exposes keys look like "./<widget id>", got "${key}"`);
  }
  const common = commonConfig({ mode });
  return {
    ...common,
    context: root,
    // A remote has no page of its own; the entry only exists so rspack has a root.
    entry: {},
    output: {
      path: join(root, outDir),
      publicPath: 'auto',
      uniqueName: name,
      filename: '[name].[contenthash:8].js',
      chunkFilename: '[name].[contenthash:8].js',
      cssFilename: '[name].[contenthash:8].css',
      cssChunkFilename: '[name].[contenthash:8].css',
      clean: true,
    },
    plugins: [
      new ModuleFederationPlugin({
        name,
        filename: 'remoteEntry.js',
        exposes,
        shared: sharedModules(),
        dts: false,
        manifest: false,
        // the host page already carries the federation runtime (provideExternalRuntime in
        // host-ui): remote entries use it instead of each bringing its own ~90 KB copy
        experiments: { externalRuntime: true },
      }),
      new WidgetAssets(exposes),
    ],
  };
}

/**
 * Writes `widget-assets.json`: for each widget (`./<id>` of `exposes`), the JS and CSS files
 * its module loads, shared modules aside (the host provides those). The kernel hands the list
 * to the portal (`remote.widgetAssets` in GET /api/v1/plugins), which asks for the files of
 * the widgets on a dashboard while it boots instead of after evaluating the remote entry.
 */
export class WidgetAssets {
  constructor(exposes) {
    this.exposes = exposes;
  }

  apply(compiler) {
    const { Compilation, sources } = compiler.webpack;
    // the module each widget id exposes, by its file
    const widgetOf = new Map(Object.entries(this.exposes).map(([key, request]) => [resolve(compiler.context, request), key.replace(/^\.\//, '')]));
    compiler.hooks.thisCompilation.tap('orrery-widget-assets', (compilation) => {
      compilation.hooks.processAssets.tap({ name: 'orrery-widget-assets', stage: Compilation.PROCESS_ASSETS_STAGE_REPORT }, () => {
        const assets = {};
        for (const group of compilation.chunkGroups) {
          // an exposed module's group: loaded by the container entry, holding the widget's file
          if (!(group.origins ?? []).some((o) => o.module?.identifier?.().startsWith('container entry'))) continue;
          const widget = group.chunks
            .flatMap((c) => compilation.chunkGraph.getChunkModules(c))
            // a module concatenated with what it imports (a widget and its declaration) names its root
            .map((m) => widgetOf.get((m.resource ?? m.rootModule?.resource)?.split('?')[0]))
            .find(Boolean);
          if (!widget) continue;
          const files = group.chunks.flatMap((c) => [...c.files]).filter((f) => /\.(js|css)$/.test(f));
          assets[widget] = [...new Set([...(assets[widget] ?? []), ...files])].sort();
        }
        compilation.emitAsset('widget-assets.json', new sources.RawSource(`${JSON.stringify(assets, null, 2)}\n`));
      });
    });
  }
}
