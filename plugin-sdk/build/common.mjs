/** Loader and resolve settings shared by the host build and every remote build. */
import { rspack } from '@rspack/core';

export function commonConfig({ mode = process.env.NODE_ENV === 'development' ? 'development' : 'production' } = {}) {
  return {
    mode,
    devtool: mode === 'development' ? 'eval-cheap-module-source-map' : false,
    target: 'web',
    resolve: {
      extensions: ['.tsx', '.ts', '.mjs', '.js', '.json'],
      // plotly's registry requires the map library's stylesheet (83 KB) whatever traces are
      // registered; the chart kit draws no maps, so every chart page loaded and parsed it
      alias: { 'maplibre-gl/dist/maplibre-gl.css': false },
    },
    module: {
      rules: [
        {
          test: /\.[cm]?tsx?$/,
          exclude: /node_modules/,
          loader: 'builtin:swc-loader',
          options: {
            jsc: {
              parser: { syntax: 'typescript', tsx: true },
              transform: { react: { runtime: 'automatic', development: mode === 'development' } },
              target: 'es2022',
            },
          },
          type: 'javascript/auto',
        },
        { test: /\.css$/, type: 'css/auto' },
      ],
    },
    optimization: {
      minimizer: [
        // Plotly is built from its (unminified, CommonJS) sources with only the chart kit's
        // traces (src/frontend/charts/plotly.ts), so it is minified here like any other chunk.
        new rspack.SwcJsMinimizerRspackPlugin(),
        new rspack.LightningCssMinimizerRspackPlugin(),
      ],
    },
    performance: { hints: false },
    stats: 'errors-warnings',
  };
}
