/**
 * Rspack config for a plugin's federated remote. A plugin's `frontend/rspack.config.mjs`:
 *
 *   import { createRemoteConfig } from '@orrery/plugin-sdk/build/remote.mjs';
 *   export default createRemoteConfig({
 *     name: 'agent_analytics',            // = frontend.remoteName in the plugin declaration
 *     root: import.meta.dirname,
 *     exposes: { './invocations': './src/InvocationsWidget.tsx' }, // `./<widget id>`
 *   });
 *
 * Output goes to `<root>/dist` (what the plugin declares as `frontend.distDir`, relative to
 * the plugin root: `frontend/dist`). The kernel serves it at `/plugins/<id>/`; `publicPath:
 * 'auto'` makes chunks load from wherever remoteEntry.js was fetched.
 */
import { join } from 'node:path';
import { ModuleFederationPlugin } from '@module-federation/enhanced/rspack';
import { commonConfig } from './common.mjs';
import { sharedModules } from './shared.mjs';

/**
 * @param {{ name: string, root: string, exposes: Record<string,string>, outDir?: string, mode?: 'production'|'development' }} o
 */
export function createRemoteConfig({ name, root, exposes, outDir = 'dist', mode }) {
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
        // mf-manifest.json: which files each exposed widget needs; the kernel hands these to
        // the portal (GET /api/v1/plugins) so a dashboard asks for its widgets' code at once
        manifest: true,
        // the host page already carries the federation runtime (provideExternalRuntime in
        // host-ui): remote entries use it instead of each bringing its own ~90 KB copy
        experiments: { externalRuntime: true },
      }),
    ],
  };
}
