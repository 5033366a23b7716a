/**
 * What this server actually offers, read from its own OpenAPI document. Parts of the
 * platform land at different times (and plugins come and go per tenant), so pages that
 * depend on an optional route ask here first and say plainly when it is missing, instead
 * of failing on a 404 halfway through a form.
 */
import type { JsonSchema } from './plugins.ts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

interface Operation {
  summary?: string;
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

export interface RouteCatalogue {
  /** `path` in OpenAPI form: `/api/v1/departments/{id}` */
  has(method: Method, path: string): boolean;
  /** every path (with its methods) matching a test */
  find(test: (path: string) => boolean): Array<{ path: string; methods: Method[] }>;
  /** the JSON body schema a route validates, when it declares one */
  bodySchema(method: Method, path: string): JsonSchema | undefined;
}

let pending: Promise<RouteCatalogue> | null = null;

export function loadRoutes(): Promise<RouteCatalogue> {
  pending ??= fetch('/api/docs/json', { headers: { accept: 'application/json' } })
    .then((r) => {
      if (!r.ok) throw new Error(`the API description answered ${r.status}`);
      return r.json() as Promise<{ paths?: Record<string, Record<string, Operation>> }>;
    })
    .then((doc) => catalogueOf(doc.paths ?? {}))
    .catch((e: unknown) => {
      pending = null; // a failed load is retried by the next caller
      throw e;
    });
  return pending;
}

export function catalogueOf(paths: Record<string, Record<string, Operation>>): RouteCatalogue {
  return {
    has: (method, path) => Boolean(paths[path]?.[method]),
    find: (test) =>
      Object.entries(paths)
        .filter(([p]) => test(p))
        .map(([path, ops]) => ({ path, methods: Object.keys(ops).filter((m): m is Method => ['get', 'post', 'put', 'patch', 'delete'].includes(m)) })),
    bodySchema: (method, path) => paths[path]?.[method]?.requestBody?.content?.['application/json']?.schema,
  };
}
