/**
 * Saved custom metrics per org: a key, a name and a stored query (an event query or
 * `{source, metric}`, without the range), answered over any range by
 * `GET /custom/{key}?from&to&granularity&tz` exactly like `POST /query`.
 */
import { METRICS_GRANULARITIES, conflict, metricsAnswerSchema, notFound, parseTimeRange, type PgMigration, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { metricsService } from '../service.ts';
import { READ, WRITE } from '../permissions.ts';
import { asQuery, queryDescription, storedQueryProperties } from './query.ts';

const TABLE = 'metrics_custom';

export const customMigrations: PgMigration[] = [
  {
    name: '0001_metrics_custom',
    async up(knex, schema) {
      await knex.schema.withSchema(schema).createTable(TABLE, (t) => {
        t.string('key', 64).primary();
        t.string('name', 200).notNullable();
        t.jsonb('query').notNullable();
        t.string('created_by', 64).notNullable().defaultTo('');
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
    },
    async down(knex, schema) {
      await knex.schema.withSchema(schema).dropTableIfExists(TABLE);
    },
  },
];

type Stored = Record<string, unknown>;
type Row = { key: string; name: string; query: Stored | string; created_by: string; created_at: Date | string; updated_at: Date | string };

const queryBody = { type: 'object', additionalProperties: false, properties: storedQueryProperties };
const keySchema = { type: 'string', pattern: '^[a-z0-9][a-z0-9_.-]{0,63}$', description: 'lower-case letters, digits, `_ . -`; at most 64' };
const createBody = { type: 'object', additionalProperties: false, required: ['key', 'name', 'query'], properties: { key: keySchema, name: { type: 'string', minLength: 1, maxLength: 200 }, query: queryBody } };
const updateBody = { type: 'object', additionalProperties: false, required: ['name', 'query'], properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, query: queryBody } };
const keyParams = { type: 'object', required: ['key'], properties: { key: { type: 'string', minLength: 1, maxLength: 64 } } };
const metricSchema = {
  type: 'object',
  required: ['key', 'name', 'query'],
  properties: { key: { type: 'string' }, name: { type: 'string' }, query: { type: 'object', additionalProperties: true }, created_by: { type: 'string' }, created_at: { type: 'string' }, updated_at: { type: 'string' } },
};

const view = (r: Row) => ({
  key: r.key,
  name: r.name,
  query: typeof r.query === 'string' ? (JSON.parse(r.query) as Stored) : r.query,
  created_by: r.created_by,
  created_at: new Date(r.created_at).toISOString(),
  updated_at: new Date(r.updated_at).toISOString(),
});

/** A stored query is checked as a query over a nominal day, so a saved metric always runs. */
async function check(ctx: TenantContext, query: Stored) {
  const q = asQuery(query, 'query.');
  if ('source' in q) {
    // the source and metric must exist now; the range is nominal
    await metricsService(ctx).run({ ...q, from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date().toISOString(), granularity: undefined });
    return;
  }
  metricsService(ctx).validate(q, 'query.');
}

export function registerCustomRoutes(env: PluginEnv) {
  env.route({
    method: 'GET',
    path: '/custom',
    permission: READ,
    summary: "The org's custom metrics",
    schema: { response: { 200: { type: 'object', properties: { metrics: { type: 'array', items: metricSchema } } } } },
    async handler(_req, ctx) {
      return { metrics: ((await ctx.db.table(TABLE).select('*').orderBy('key')) as Row[]).map(view) };
    },
  });

  env.route<unknown, unknown, { key: string; name: string; query: Stored }>({
    method: 'POST',
    path: '/custom',
    permission: WRITE,
    summary: 'Save a custom metric: a key, a name and a metrics query without its range',
    schema: { body: createBody, response: { 200: metricSchema } },
    async handler(req, ctx) {
      await check(ctx, req.body.query);
      if (await ctx.db.table(TABLE).where({ key: req.body.key }).first()) throw conflict(`key: a custom metric "${req.body.key}" exists`, { field: 'key' });
      const [row] = (await ctx.db
        .table(TABLE)
        .insert({ key: req.body.key, name: req.body.name, query: JSON.stringify(req.body.query), created_by: ctx.caller?.userId ?? '' })
        .returning('*')) as Row[];
      await ctx.audit({ action: 'metrics.custom.create', target: req.body.key, after: req.body });
      return view(row!);
    },
  });

  env.route<{ from?: string; to?: string; granularity?: string; tz?: string }, { key: string }>({
    method: 'GET',
    path: '/custom/:key',
    permission: READ,
    summary: "A custom metric answered over [from, to) (default: the last 7 days), as POST /query answers; granularity and tz override the stored ones",
    description: queryDescription,
    schema: {
      params: keyParams,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          from: { type: 'string', format: 'date-time' },
          to: { type: 'string', format: 'date-time' },
          granularity: { type: 'string', enum: [...METRICS_GRANULARITIES, 'none'], description: '`none`: totals only' },
          tz: { type: 'string', minLength: 1, maxLength: 64 },
        },
      },
      response: { 200: { ...metricsAnswerSchema, properties: { ...metricsAnswerSchema.properties, key: { type: 'string' }, name: { type: 'string' }, query: { type: 'object', additionalProperties: true } } } },
    },
    async handler(req, ctx) {
      const row = (await ctx.db.table(TABLE).where({ key: req.params.key }).first()) as Row | undefined;
      if (!row) throw notFound(`no custom metric "${req.params.key}"`, { field: 'key' });
      const m = view(row);
      const range = parseTimeRange(req.query);
      const stored = { ...m.query } as Record<string, unknown>;
      if (req.query.granularity === 'none') delete stored.granularity;
      else if (req.query.granularity) stored.granularity = req.query.granularity;
      if (req.query.tz) stored.tz = req.query.tz;
      const q = asQuery({ ...stored, from: range.from.toISOString(), to: range.to.toISOString() });
      return { key: m.key, name: m.name, query: m.query, ...(await metricsService(ctx).run(q)) };
    },
  });

  env.route<unknown, { key: string }, { name: string; query: Stored }>({
    method: 'PUT',
    path: '/custom/:key',
    permission: WRITE,
    summary: "Replace a custom metric's name and query",
    schema: { params: keyParams, body: updateBody, response: { 200: metricSchema } },
    async handler(req, ctx) {
      const before = (await ctx.db.table(TABLE).where({ key: req.params.key }).first()) as Row | undefined;
      if (!before) throw notFound(`no custom metric "${req.params.key}"`, { field: 'key' });
      await check(ctx, req.body.query);
      const [row] = (await ctx.db
        .table(TABLE)
        .where({ key: req.params.key })
        .update({ name: req.body.name, query: JSON.stringify(req.body.query), updated_at: new Date() })
        .returning('*')) as Row[];
      await ctx.audit({ action: 'metrics.custom.update', target: req.params.key, before: view(before), after: req.body });
      return view(row!);
    },
  });

  env.route<unknown, { key: string }>({
    method: 'DELETE',
    path: '/custom/:key',
    permission: WRITE,
    summary: 'Delete a custom metric',
    schema: { params: keyParams, response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } } },
    async handler(req, ctx) {
      const gone = (await ctx.db.table(TABLE).where({ key: req.params.key }).delete().returning('key')) as Array<{ key: string }>;
      if (!gone.length) throw notFound(`no custom metric "${req.params.key}"`, { field: 'key' });
      await ctx.audit({ action: 'metrics.custom.delete', target: req.params.key });
      return { ok: true };
    },
  });
}
