/** Plugin page URLs: `/p/<plugin>/<page>?<options>` (see pages/PluginPage.tsx). */

/** `/p/<plugin>/<page>` → its two ids, or null for any other path. */
export function parsePagePath(path: string): { pluginId: string; pageId: string } | null {
  const m = /^\/p\/([^/]+)\/([^/]+)\/?$/.exec(path);
  return m ? { pluginId: decodeURIComponent(m[1]!), pageId: decodeURIComponent(m[2]!) } : null;
}

/** The URL's query parameters as a page's options (a repeated key becomes a list). */
export function optionsOfSearch(search: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(search.keys())) {
    const all = search.getAll(key);
    out[key] = all.length > 1 ? all : all[0]!;
  }
  return out;
}

/** A page's options back to a query string: empty values are left out, lists repeat the key. */
export function searchOfOptions(options: Record<string, unknown>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(options)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) for (const x of v) q.append(k, String(x));
    else q.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
