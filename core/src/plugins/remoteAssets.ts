/**
 * The files each widget of a plugin's federated remote needs, read from the remote's
 * `mf-manifest.json` (written by the SDK's remote build). The portal's boot script uses
 * them to ask for a dashboard's widget code at once, instead of after the remote entry has
 * been evaluated and asked for each module. Shared modules (react, the chart library) are
 * left out: the host provides those. A remote built without a manifest simply has none.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface FederationManifest {
  exposes?: Array<{ path?: string; name?: string; assets?: { js?: { sync?: string[] }; css?: { sync?: string[] } } }>;
}

const cache = new Map<string, { mtimeMs: number; assets: Record<string, string[]> }>();

/** `{ <widget id>: [url, …] }` for the remote in `distDir`, served under `urlPrefix` (ends with `/`). */
export function widgetAssets(distDir: string, urlPrefix: string): Record<string, string[]> {
  const file = join(distDir, 'mf-manifest.json');
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    return {};
  }
  const known = cache.get(file);
  if (known && known.mtimeMs === mtimeMs) return known.assets;
  const assets: Record<string, string[]> = {};
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as FederationManifest;
    for (const e of m.exposes ?? []) {
      const id = (e.path ?? '').replace(/^\.\//, '') || e.name;
      if (!id) continue;
      const files = [...(e.assets?.js?.sync ?? []), ...(e.assets?.css?.sync ?? [])].filter((f) => /^[\w./-]+$/.test(f) && !f.includes('..'));
      if (files.length) assets[id] = files.map((f) => urlPrefix + f.replace(/^\.?\//, ''));
    }
  } catch {
    // a half-written or foreign manifest: no hints, the widgets still load the usual way
  }
  cache.set(file, { mtimeMs, assets });
  return assets;
}
