/**
 * The JSON body parser of the ingestion routes. Before parsing, one pass over
 * the text measures bracket nesting (outside strings): a hostile body of
 * millions of nested brackets is refused in milliseconds instead of being
 * turned into millions of nested arrays first. No event needs more than
 * MAX_BODY_DEPTH levels (a batch wrapper + an event + a payload of at most 32).
 */
import type { FastifyInstance } from 'fastify';
import { HttpError } from '@orrery/plugin-sdk';

export const MAX_BODY_DEPTH = 40;

/** Nesting depth of a JSON text; stops counting once over `limit`. */
export function textDepth(s: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped char
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 125 || c === 93) depth--;
  }
  return max;
}

export function installJsonParser(scope: FastifyInstance, bodyLimit: number) {
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_req, body, done) => {
    const text = body as string;
    if (textDepth(text, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) {
      return done(new HttpError(400, 'too_deep', `JSON nested deeper than ${MAX_BODY_DEPTH} levels`) as unknown as Error, undefined);
    }
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new HttpError(400, 'invalid_json', `body is not valid JSON: ${(err as Error).message}`) as unknown as Error, undefined);
    }
  });
}
