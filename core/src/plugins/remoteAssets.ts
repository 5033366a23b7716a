/**
 * The files each widget of a plugin's federated remote needs, read from the remote's
 * `widget-assets.json` (written by the SDK's remote build, `WidgetAssets` in
 * plugin-sdk/build/remote.mjs). The portal's boot script uses them to ask for a dashboard's
 * widget code at once, instead of after the remote entry has been evaluated and asked for
 * each module. Shared modules (react, the chart library) are left out: the host provides
 * those. A remote built without the list simply has no hints.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const cache = new Map<string, { mtimeMs: number; assets: Record<string, string[]> }>();

/** `{ <widget id>: [url, …] }` for the remote in `distDir`, served under `urlPrefix` (ends with `/`). */
export function widgetAssets(distDir: string, urlPrefix: string): Record<string, string[]> {
  const file = join(distDir, 'widget-assets.json');
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
    const listed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    for (const [id, list] of Object.entries(listed)) {
      if (!Array.isArray(list)) continue;
      const files = list.filter((f): f is string => typeof f === 'string' && /^[\w./-]+$/.test(f) && !f.includes('..'));
      if (files.length) assets[id] = files.map((f) => urlPrefix + f.replace(/^\.?\//, ''));
    }
  } catch {
    // a half-written or foreign file: no hints, the widgets still load the usual way
  }
  cache.set(file, { mtimeMs, assets });
  return assets;
}
