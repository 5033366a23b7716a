/**
 * How route input is checked against its schema. A query string and path params arrive as
 * text, so they are coerced to the declared types ("5" → 5, "a" → ["a"]). A JSON body already
 * carries its types: coercing it would quietly accept what a client got wrong — `""`, `0` or
 * `false` taken as null by an `anyOf` with a null branch (a report's schedule dropped instead of
 * a 400), `"5"` for an integer, `true` for a string. So bodies are validated without coercion.
 */
import { AjvCompiler } from '@fastify/ajv-compiler';

type Compiler = (route: { schema: unknown; method: string; url: string; httpPart?: string }) => unknown;
type BuildValidator = (externalSchemas: unknown, options: { customOptions?: Record<string, unknown>; plugins?: unknown[] }) => Compiler;

export function validatorCompilers(): BuildValidator {
  const pool = AjvCompiler() as unknown as BuildValidator;
  return (externalSchemas, options) => {
    const fromText = pool(externalSchemas, options);
    const typed = pool(externalSchemas, { ...options, customOptions: { ...options.customOptions, coerceTypes: false } });
    return (route) => (route.httpPart === 'body' ? typed : fromText)(route);
  };
}
