import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { LoadedPlugin } from './loader.ts';

/** The folder of the plugin's built federated remote, or null when it has none (not built). */
export function distDir(p: LoadedPlugin): string | null {
  if (!p.decl.frontend || !p.decl.root) return null;
  const dir = resolve(p.decl.root, p.decl.frontend.distDir);
  return existsSync(join(dir, 'remoteEntry.js')) ? dir : null;
}

/** Serves each plugin's built federated remote at /plugins/<id>/. */
export async function serveFrontends(app: FastifyInstance, plugins: LoadedPlugin[]) {
  const fastifyStatic = (await import('@fastify/static')).default;
  let first = true;
  for (const p of plugins) {
    const dist = distDir(p);
    if (!dist) continue;
    await app.register(fastifyStatic, {
      root: dist,
      prefix: `/plugins/${p.decl.id}/`,
      decorateReply: first,
      wildcard: true,
      index: false,
      preCompressed: true,
      setHeaders: (res: any, path: string) => {
        const header = (k: string, v: string) => (typeof res.header === 'function' ? res.header(k, v) : res.setHeader(k, v));
        if (/(remoteEntry\.js|mf-manifest\.json|widget-assets\.json)(\.br|\.gz)?$/.test(path)) header('cache-control', 'no-cache');
        else header('cache-control', 'public, max-age=31536000, immutable');
      },
    });
    first = false;
  }
  return first;
}
