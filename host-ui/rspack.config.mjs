/**
 * The host build. The entry is a one-line `import('./bootstrap')` so that the shared
 * modules (react, plotly, the SDK) are negotiated with the federation runtime before any
 * of them is evaluated; remotes are not listed here — the host registers them at run time
 * from `GET /api/v1/plugins`.
 */
import { join } from 'node:path';
import { rspack } from '@rspack/core';
import { ModuleFederationPlugin } from '@module-federation/enhanced/rspack';
import { commonConfig } from '../plugin-sdk/build/common.mjs';
import { sharedModules } from '../plugin-sdk/build/shared.mjs';

const root = import.meta.dirname;
const common = commonConfig();

export default {
  ...common,
  context: root,
  entry: { main: './src/index.ts' },
  output: {
    path: join(root, 'dist'),
    publicPath: '/',
    uniqueName: 'orrery_host',
    filename: 'assets/[name].[contenthash:8].js',
    chunkFilename: 'assets/[name].[contenthash:8].js',
    cssFilename: 'assets/[name].[contenthash:8].css',
    cssChunkFilename: 'assets/[name].[contenthash:8].css',
    clean: true,
  },
  plugins: [
    new rspack.HtmlRspackPlugin({ template: './src/index.html', inject: 'body' }),
    new ModuleFederationPlugin({
      name: 'orrery_host',
      remotes: {},
      shared: sharedModules(),
      dts: false,
      manifest: false,
      // one federation runtime for the page: every remote entry uses this one (see
      // plugin-sdk/build/remote.mjs) instead of evaluating a copy of its own
      experiments: { provideExternalRuntime: true },
    }),
  ],
};
