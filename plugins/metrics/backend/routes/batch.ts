/**
 * `POST /api/v1/metrics/query/batch`: many metrics queries in one request, each answered
 * exactly as `POST /query` answers it alone. A dashboard's Metric widgets mount together;
 * asked one request each, they queue behind the browser's six connections per host and
 * each pays the route's fixed cost (auth, the caller's departments, serialization), as
 * much CPU as a planned statement itself. A query that fails answers its own error in its
 * place; the others are still answered.
 */
import { HttpError, badRequest, metricsAnswerSchema, type PluginEnv } from '@orrery/plugin-sdk';
import { metricsService } from '../service.ts';
import { READ } from '../permissions.ts';
import { asQuery, queryBodySchema } from './query.ts';

/** most queries in one batch (a dashboard of 20+ widgets, two queries each when comparing) */
export const MAX_BATCH = 50;

const errorSchema = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
} as const;

export function registerBatchRoute(env: PluginEnv) {
  env.route<{ rollups?: boolean }, unknown, { queries: Array<Record<string, unknown>> }>({
    method: 'POST',
    path: '/query/batch',
    permission: READ,
    summary: 'Several metrics queries in one request, each answered as POST /query answers it',
    description:
      `\`{queries: [...]}\` (1–${MAX_BATCH} bodies of POST /query) → \`{answers: [...]}\` in the same order: ` +
      'each `{series}` as POST /query answers it, or `{status, error: {code, message, details}}` where that query alone would answer that status ' +
      '(a field named in `details.field` is the query\'s own, e.g. `measure`). The batch itself answers 400 only for its own shape.',
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: { rollups: { type: 'boolean', default: true, description: '`false` reads raw events only, as on POST /query' } },
      },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['queries'],
        properties: { queries: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: queryBodySchema } },
      },
      response: {
        200: {
          type: 'object',
          required: ['answers'],
          properties: {
            answers: {
              type: 'array',
              items: { type: 'object', properties: { series: metricsAnswerSchema.properties.series, status: { type: 'integer' }, error: errorSchema } },
            },
          },
        },
      },
    },
    // remembered like POST /query (the whole batch by its body), unless a query reads a metric source
    cache: {
      maxAgeSeconds: 300,
      when: (req) => {
        const queries = (req.body as { queries?: unknown[] } | null)?.queries;
        return Array.isArray(queries) && queries.every((q) => !(q && typeof q === 'object' && 'source' in q));
      },
    },
    async handler(req, ctx) {
      if (!Array.isArray(req.body?.queries)) throw badRequest('queries: expected an array of queries', { field: 'queries' });
      const service = metricsService(ctx);
      const rollups = req.query.rollups !== false;
      // side by side: a planned statement runs on one thread, so two cores answer two at once
      const answers = await Promise.all(
        req.body.queries.map(async (body) => {
          try {
            return await service.run(asQuery(body), { rollups });
          } catch (e) {
            if (e instanceof HttpError) return { status: e.statusCode, error: { code: e.code, message: e.message, details: e.details ?? null } };
            ctx.logger.error({ err: e }, 'a metrics query of a batch failed');
            return { status: 500, error: { code: 'internal', message: 'the query failed', details: null } };
          }
        }),
      );
      return { answers };
    },
  });
}
