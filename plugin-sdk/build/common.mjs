/** Loader and resolve settings shared by the host build and every remote build. */
import { rspack } from '@rspack/core';

export function commonConfig({ mode = process.env.NODE_ENV === 'development' ? 'development' : 'production' } = {}) {
  return {
    mode,
    devtool: mode === 'development' ? 'eval-cheap-module-source-map' : false,
    target: 'web',
    resolve: { extensions: ['.tsx', '.ts', '.mjs', '.js', '.json'] },
    module: {
      // Plotly ships prebuilt and minified: parsing it for imports is wasted time.
      noParse: /plotly\.js-dist-min/,
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
        // Re-minifying the 4.8 MB prebuilt plotly bundle dominates build time for nothing.
        new rspack.SwcJsMinimizerRspackPlugin({ exclude: /plotly/ }),
        new rspack.LightningCssMinimizerRspackPlugin(),
      ],
    },
    performance: { hints: false },
    stats: 'errors-warnings',
  };
}
