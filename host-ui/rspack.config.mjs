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

/**
 * Writes into index.html what the page will certainly load after main.js: `<link rel=preload>`
 * tags for the chunks of `./bootstrap` and of the shared modules the host provides (react,
 * react-dom, the SDK), so they download alongside main.js instead of after it has run; and,
 * for the boot script, the chart library's files, which it asks for when the dashboard has
 * widgets. Chunks only reachable as a consume fallback are left out: with the host's own
 * copies loaded first (shareStrategy below) they are never fetched.
 */
class PreloadHints {
  apply(compiler) {
    compiler.hooks.thisCompilation.tap('orrery-preload-hints', (compilation) => {
      compilation.hooks.processAssets.tap({ name: 'orrery-preload-hints', stage: rspack.Compilation.PROCESS_ASSETS_STAGE_REPORT }, () => {
        const boot = [];
        const charts = [];
        for (const chunk of compilation.chunks) {
          if (chunk.canBeInitial()) continue;
          const origins = [...chunk.groupsIterable].flatMap((g) => g.origins ?? []);
          const provides = origins.map((o) => o.module?.identifier?.() ?? '').filter((id) => id.startsWith('provide shared module'));
          const fromBootstrap = origins.some((o) => o.request === './bootstrap');
          if (!fromBootstrap && !provides.length) continue;
          (provides.some((id) => id.includes('@orrery/plotly@')) ? charts : boot).push(...[...chunk.files].map((f) => `/${f}`));
        }
        const page = compilation.getAsset('index.html');
        if (!page) return;
        const as = (f) => (f.endsWith('.css') ? 'style' : 'script');
        const html = page.source.source().toString()
          .replace(/<meta name="?orrery-boot-preload"?\s*\/?>/, boot.sort().map((f) => `<link rel="preload" as="${as(f)}" href="${f}">`).join(''))
          .replace(/<meta name="?orrery-chart-files"?[^>]*>/, `<meta name="orrery-chart-files" content="${charts.sort().join(' ')}">`);
        compilation.updateAsset('index.html', new rspack.sources.RawSource(html));
      });
    });
  }
}

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
    new PreloadHints(),
    new ModuleFederationPlugin({
      name: 'orrery_host',
      remotes: {},
      shared: sharedModules(),
      dts: false,
      manifest: false,
      // The host's own copies of the shared modules win over the remotes' equal versions
      // (version-first would first load and initialise every remote entry to compare, then
      // pick the remote whose name sorts last): the chart library the page loads is the
      // host's chunk, known when the host is built, so index.html can ask for it early.
      shareStrategy: 'loaded-first',
      // one federation runtime for the page: every remote entry uses this one (see
      // plugin-sdk/build/remote.mjs) instead of evaluating a copy of its own
      experiments: { provideExternalRuntime: true },
    }),
  ],
};
