/**
 * The modules the host shares with every plugin remote. Keep this list short and
 * explicit: each entry is a contract between the host and every plugin ever built
 * against this SDK, and a duplicate React ("Invalid hook call") is the classic
 * failure of a federated UI. Versions come from what is installed, so host and
 * remotes built from one tree always agree; a remote built elsewhere against an
 * incompatible major gets a clear version error from the federation runtime.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function installedVersion(pkg) {
  const entry = require.resolve(`${pkg}/package.json`);
  return JSON.parse(readFileSync(entry, 'utf8')).version;
}

/** SDK contract version: the frontend SDK is shared under this, not the npm package version. */
export const SDK_VERSION = (() => {
  const src = readFileSync(join(here, '..', 'src', 'version.ts'), 'utf8');
  const m = src.match(/SDK_VERSION\s*=\s*'([^']+)'/);
  if (!m) throw new Error('plugin-sdk/src/version.ts: expected `SDK_VERSION = \'x.y.z\'`');
  return m[1];
})();

const PLOTLY_MODULE = join(here, '..', 'src', 'frontend', 'charts', 'plotly.ts');

const major = (v) => `^${v.split('.')[0]}.0.0`;

/**
 * @param {{ eager?: boolean }} [opts]
 * @returns {Record<string, import('@module-federation/enhanced/rspack').moduleFederationPlugin.SharedConfig>}
 */
export function sharedModules() {
  const react = installedVersion('react');
  const reactDom = installedVersion('react-dom');
  const plotly = installedVersion('plotly.js');
  return {
    react: { singleton: true, requiredVersion: major(react), version: react },
    'react/jsx-runtime': { singleton: true, requiredVersion: major(react), version: react },
    'react-dom': { singleton: true, requiredVersion: major(reactDom), version: reactDom },
    [PLOTLY_MODULE]: { shareKey: '@orrery/plotly', singleton: true, requiredVersion: major(plotly), version: plotly },
    // One instance of the SDK means one set of React contexts: the host's providers are
    // what the remotes' hooks read.
    '@orrery/plugin-sdk/frontend': { singleton: true, requiredVersion: major(SDK_VERSION), version: SDK_VERSION },
  };
}
