/**
 * Saved funnels: a name and a funnel definition (everything of `/funnels/query` but the
 * range), kept in the plugin's own table in the org's schema.
 */
import { badRequest, notFound, parseTimeRange, timeRangeQuerySchema, type PgMigration, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { funnelBodySchema, planFunnel, type FunnelInput } from './spec.ts';
import { HEAVY, READ, WRITE, funnelAnswerSchema, runFunnel } from './routes.ts';
import { inDepartment } from '../../inDepartment.ts';

const TABLE = 'funnels_saved';

export const savedMigrations: PgMigration[] = [
  {
    name: '0001_funnels_saved',
    async up(knex, schema) {
      await knex.schema.withSchema(schema).createTable(TABLE, (t) => {
        t.increments('id');
        t.string('name', 200).notNullable();
        t.jsonb('definition').notNullable();
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

type Definition = Omit<FunnelInput, 'from' | 'to'>;
const { from: _f, to: _t, ...definitionProperties } = funnelBodySchema.properties;
const definitionSchema = { type: 'object', required: ['steps'], additionalProperties: false, properties: definitionProperties };
const savedBody = { type: 'object', required: ['name', 'definition'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, definition: definitionSchema } };
const savedSchema = {
  type: 'object',
  properties: { id: { type: 'integer' }, name: { type: 'string' }, definition: { type: 'object', additionalProperties: true }, created_by: { type: 'string' }, created_at: { type: 'string' }, updated_at: { type: 'string' } },
};
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } };

type Row = { id: number; name: string; definition: Definition | string; created_by: string; created_at: Date | string; updated_at: Date | string };
const view = (r: Row) => ({
  id: r.id,
  name: r.name,
  definition: typeof r.definition === 'string' ? (JSON.parse(r.definition) as Definition) : r.definition,
  created_by: r.created_by,
  created_at: new Date(r.created_at).toISOString(),
  updated_at: new Date(r.updated_at).toISOString(),
});

/** A definition is checked as a query over a nominal range, so a saved funnel always runs. */
function check(definition: Definition) {
  try {
    planFunnel({ ...definition, from: '2000-01-01T00:00:00Z', to: '2000-01-02T00:00:00Z' });
  } catch (e) {
    if (e instanceof Error && 'details' in e) {
      const d = (e as { details?: { field?: string } }).details;
      throw badRequest(`definition.${e.message}`, { ...d, field: d?.field ? `definition.${d.field}` : 'definition' });
    }
    throw e;
  }
}

/** Checks and stores a saved funnel (the create route, and the demo org's example). */
export async function saveFunnel(ctx: TenantContext, name: string, definition: Definition) {
  check(definition);
  const [row] = (await ctx.db.table(TABLE).insert({ name: name.trim(), definition: JSON.stringify(definition), created_by: ctx.caller?.userId ?? '' }).returning('*')) as Row[];
  return view(row!);
}

export function registerSavedRoutes(env: PluginEnv) {
  env.route({
    method: 'GET',
    path: '/saved',
    permission: READ,
    summary: 'Saved funnels of the organization',
    schema: { response: { 200: { type: 'object', properties: { funnels: { type: 'array', items: savedSchema } } } } },
    async handler(_req, ctx) {
      const rows = (await ctx.db.table(TABLE).select('*').orderBy('name').orderBy('id')) as Row[];
      return { funnels: rows.map(view) };
    },
  });

  env.route<unknown, unknown, { name: string; definition: Definition }>({
    method: 'POST',
    path: '/saved',
    permission: WRITE,
    summary: 'Save a funnel definition',
    schema: { body: savedBody, response: { 200: savedSchema } },
    async handler(req, ctx) {
      const saved = await saveFunnel(ctx, req.body.name, req.body.definition);
      await ctx.audit({ action: 'funnels.saved.create', target: String(saved.id), after: { name: saved.name } });
      return saved;
    },
  });

  env.route<unknown, { id: number }>({
    method: 'GET',
    path: '/saved/:id',
    permission: READ,
    summary: 'One saved funnel',
    schema: { params: idParams, response: { 200: savedSchema } },
    async handler(req, ctx) {
      const row = (await ctx.db.table(TABLE).where({ id: req.params.id }).first()) as Row | undefined;
      if (!row) throw notFound(`no saved funnel ${req.params.id}`, { field: 'id' });
      return view(row);
    },
  });

  env.route<unknown, { id: number }, { name: string; definition: Definition }>({
    method: 'PUT',
    path: '/saved/:id',
    permission: WRITE,
    summary: 'Replace a saved funnel',
    schema: { params: idParams, body: savedBody, response: { 200: savedSchema } },
    async handler(req, ctx) {
      check(req.body.definition);
      const [row] = (await ctx.db
        .table(TABLE)
        .where({ id: req.params.id })
        .update({ name: req.body.name.trim(), definition: JSON.stringify(req.body.definition), updated_at: new Date() })
        .returning('*')) as Row[];
      if (!row) throw notFound(`no saved funnel ${req.params.id}`, { field: 'id' });
      await ctx.audit({ action: 'funnels.saved.update', target: String(row.id), after: { name: row.name } });
      return view(row);
    },
  });

  env.route<unknown, { id: number }>({
    method: 'DELETE',
    path: '/saved/:id',
    permission: WRITE,
    summary: 'Delete a saved funnel',
    schema: { params: idParams, response: { 200: { type: 'object', properties: { deleted: { type: 'boolean' } } } } },
    async handler(req, ctx) {
      const gone = (await ctx.db.table(TABLE).where({ id: req.params.id }).delete().returning('id')) as unknown[];
      if (!gone.length) throw notFound(`no saved funnel ${req.params.id}`, { field: 'id' });
      await ctx.audit({ action: 'funnels.saved.delete', target: String(req.params.id) });
      return { deleted: true };
    },
  });

  env.route<{ from?: string; to?: string; tz?: string; department_id?: string }, { id: number }>({
    method: 'GET',
    path: '/saved/:id/results',
    permission: READ,
    rateLimit: HEAVY,
    cache: { maxAgeSeconds: 300 },
    summary: 'Run a saved funnel over a range (default the last 30 days), optionally within one department',
    description:
      'What a dashboard widget sends: the range, the viewer’s time zone (checked; a funnel has no buckets, so it changes nothing) and the ' +
      'dashboard’s department, which limits every step and exclusion to events recorded in that department.',
    schema: {
      params: idParams,
      querystring: { type: 'object', additionalProperties: false, properties: { ...timeRangeQuerySchema, department_id: { type: 'string', minLength: 1, maxLength: 64 } } },
      response: { 200: funnelAnswerSchema },
    },
    async handler(req, ctx) {
      const row = (await ctx.db.table(TABLE).where({ id: req.params.id }).first()) as Row | undefined;
      if (!row) throw notFound(`no saved funnel ${req.params.id}`, { field: 'id' });
      const range = parseTimeRange(req.query, 30);
      const definition = req.query.department_id ? inDepartment(view(row).definition, req.query.department_id) : view(row).definition;
      return runFunnel(ctx, planFunnel({ ...definition, from: range.from.toISOString(), to: range.to.toISOString() }));
    },
  });
}
