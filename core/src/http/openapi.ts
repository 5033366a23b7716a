/**
 * What the OpenAPI document says about every operation beyond the route's own schema, added
 * in one place (the swagger transform) so that no route can forget it:
 *
 * - who may call it: `x-permission` and, for routes that need no token, `security: []`;
 * - the error answers every authenticated route can give, with the one error body;
 * - a success answer even where a route declares none (written as such, so it shows; a
 *   redirect, 3xx, is a route's success).
 *
 * The document is OpenAPI 3.1, whose schemas are JSON Schema 2020-12: the strict event schemas
 * (with `if`/`then` per action) and nullable types (`type: ['string', 'null']`) are valid as
 * fastify validates them.
 */
import { errorSchema } from './schemas.ts';

type Schema = Record<string, any>;

const AUTH_ERRORS: Record<string, string> = {
  '401': 'No valid token',
  '403': 'The caller lacks the permission',
};

export function documentOperation(input: { schema?: Schema; url: string; route: { method: string | string[]; config?: unknown } }): { schema: Schema; url: string } {
  const schema: Schema = { ...(input.schema ?? {}) };
  if (schema.hide) return { schema, url: input.url };
  const permission = (input.route.config as { permission?: string } | undefined)?.permission;
  const response: Schema = { ...(schema.response ?? {}) };

  if (!Object.keys(response).some((code) => /^[23]/.test(code))) {
    const method = (Array.isArray(input.route.method) ? input.route.method[0] : input.route.method)?.toUpperCase();
    response[method === 'DELETE' ? '204' : '200'] = method === 'DELETE' ? { description: 'Done', type: 'null' } : { description: 'Success (the answer\'s schema is not declared by this route)', type: 'object', additionalProperties: true };
  }
  // a route answering a range ('4xx') documents its errors already; otherwise name the usual ones
  const hasErrorRange = Object.keys(response).some((code) => /^4/.test(code));
  if (!hasErrorRange) {
    response['400'] ??= { description: 'Invalid input: the answer names the field', ...errorSchema };
    if (permission !== 'public') for (const [code, description] of Object.entries(AUTH_ERRORS)) response[code] ??= { description, ...errorSchema };
  }
  schema.response = response;

  if (permission) {
    schema['x-permission'] = permission;
    if (permission === 'public') schema.security = [];
  }
  return { schema, url: input.url };
}
