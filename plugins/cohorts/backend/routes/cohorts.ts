/**
 * Saved cohorts: CRUD, members (list, CSV upload), recomputation, membership
 * history, and spend of the members per period. Also `GET /api/v1/users/cohorts`.
 */
import { badRequest, parseTimeRange, timeRangeQuerySchema, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { COHORTS, HISTORY, MEMBERS } from '../store.ts';
import { checkCriteria, createCohort, criterionSchema, evaluate, getCohort, membersOf, parseCsv, recompute, setMembers, toRecord, type CohortRecord } from '../cohorts.ts';
import { spend, spendQueryProperties, type SpendQuery } from '../spend.ts';
import { READ, WRITE } from '../permissions.ts';

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid', description: 'cohort id' } } };

const cohortSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    description: { type: 'string' },
    kind: { type: 'string', enum: ['static', 'dynamic'] },
    criteria: { type: 'array', items: { type: 'object', additionalProperties: true } },
    department_id: { type: ['string', 'null'] },
    size: { type: 'integer' },
    created_by: { type: ['string', 'null'] },
    created_at: { type: 'string' },
    updated_at: { type: 'string' },
    computed_at: { type: ['string', 'null'] },
  },
};
const listSchema = {
  type: 'object',
  properties: {
    cohorts: {
      type: 'array',
      items: { ...cohortSchema, properties: { ...cohortSchema.properties, department_name: { type: ['string', 'null'], description: 'the name of `department_id` in the directory (null when none, or when the department was deleted)' } } },
    },
  },
};

const userIds = { type: 'array', maxItems: 100_000, items: { type: 'string', minLength: 1, maxLength: 200 } };
const csv = { type: 'string', maxLength: 5_000_000, description: 'CSV text: one user id per line (first column, or the `user_id` column when the header names one)' };

/** how many of the people a dry run selects it names (the rest are a count) */
const PREVIEW_SAMPLE = 10;

/** A cohort's size at `from` and after each change in [from, to), from its membership history. */
async function sizesOf(ctx: TenantContext, id: string, range: { from: Date; to: Date }) {
  const before = (await ctx.db.table(HISTORY).where({ cohort_id: id }).where('at', '<', range.from).select('change').count('* as n').groupBy('change')) as Array<{ change: string; n: string | number }>;
  let size = before.reduce((a, r) => a + (r.change === 'joined' ? 1 : -1) * Number(r.n), 0);
  const rows = (await ctx.db.table(HISTORY).where({ cohort_id: id }).where('at', '>=', range.from).where('at', '<', range.to).select('at', 'change').count('* as n').groupBy('at', 'change').orderBy('at')) as Array<{ at: string; change: string; n: string | number }>;
  const points = [{ at: range.from.toISOString(), size, joined: 0, left: 0 }];
  for (const r of rows) {
    const at = new Date(r.at).toISOString();
    let p = points[points.length - 1]!;
    if (p.at !== at || points.length === 1) points.push((p = { at, size, joined: 0, left: 0 }));
    if (r.change === 'joined') p.joined += Number(r.n);
    else p.left += Number(r.n);
    size += (r.change === 'joined' ? 1 : -1) * Number(r.n);
    p.size = size;
  }
  return points;
}

async function list(ctx: TenantContext) {
  const rows = await ctx.db.table(COHORTS).select('*').orderBy('name');
  return { cohorts: (rows as Array<Record<string, unknown>>).map(toRecord) };
}

/** The list as the routes answer it: each cohort's department named, for people to read. */
async function listNamed(ctx: TenantContext) {
  const { cohorts } = await list(ctx);
  const names = cohorts.some((c) => c.department_id) ? await ctx.directory.departmentNames() : new Map<string, string>();
  return { cohorts: cohorts.map((c) => ({ ...c, department_name: c.department_id ? names.get(c.department_id) ?? null : null })) };
}

/** A members search: the text in lower case, and the ids of the org's people whose name or email contains it. */
async function memberSearch(ctx: TenantContext, q: string): Promise<{ text: string; ids: string[] }> {
  const text = q.toLowerCase();
  const people = await ctx.directory.members({ includeInactive: true });
  return { text, ids: people.filter((m) => m.displayName.toLowerCase().includes(text) || m.email.toLowerCase().includes(text)).map((m) => m.id) };
}

export function registerCohortRoutes(env: PluginEnv) {
  const listRoute = (prefix?: string) =>
    env.route({
      method: 'GET',
      path: '/',
      ...(prefix ? { prefix } : {}),
      permission: READ,
      summary: 'Saved cohorts of the organization, with their current size',
      schema: { response: { 200: listSchema } },
      handler: async (_req, ctx) => listNamed(ctx),
    });
  listRoute();
  listRoute('users/cohorts');

  env.route<{ from?: string; to?: string; cohort_ids?: string }>({
    method: 'GET',
    path: '/sizes',
    permission: READ,
    summary: 'Saved cohorts\' sizes over time: the size at `from` and after each recomputation or member-list change in [from, to)',
    description:
      'Per cohort (the ones named in `cohort_ids`, else the first 10 by name), `points` starts with the size at `from` (every join and leave before it counted) ' +
      'and adds one point per instant in [from, to) at which members joined or left, with the size after it. Sizes only: no user ids, so every reader may see them.',
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          ...timeRangeQuerySchema,
          cohort_ids: { type: 'string', maxLength: 400, description: 'comma-separated ids of up to 10 saved cohorts' },
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            from: { type: 'string' },
            to: { type: 'string' },
            cohorts: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  id: { type: 'string' },
                  name: { type: 'string' },
                  kind: { type: 'string' },
                  size: { type: 'integer', description: 'current size' },
                  points: { type: 'array', items: { type: 'object', properties: { at: { type: 'string' }, size: { type: 'integer' }, joined: { type: 'integer' }, left: { type: 'integer' } } } },
                },
              },
            },
          },
        },
      },
    },
    async handler(req, ctx) {
      const range = parseTimeRange(req.query, 90);
      const ids = req.query.cohort_ids?.split(',').map((x) => x.trim()).filter(Boolean);
      if (ids && (!ids.length || ids.length > 10)) throw badRequest('cohort_ids must name 1 to 10 saved cohorts', { field: 'cohort_ids' });
      const cohorts = ids ? await Promise.all(ids.map((id) => getCohort(ctx, id, 'cohort_ids'))) : (await list(ctx)).cohorts.slice(0, 10);
      return { from: range.from.toISOString(), to: range.to.toISOString(), cohorts: await Promise.all(cohorts.map(async (c: CohortRecord) => ({ id: c.id, name: c.name, kind: c.kind, size: c.size, points: await sizesOf(ctx, c.id, range) }))) };
    },
  });

  env.route<unknown, unknown, { name: string; description?: string; kind: 'static' | 'dynamic'; criteria?: unknown[]; department_id?: string; user_ids?: string[]; csv?: string }>({
    method: 'POST',
    path: '/',
    permission: WRITE,
    summary: 'Save a cohort: static (user ids or CSV) or dynamic (behavioural criteria, all of which must hold, within a department if given)',
    description:
      'Criteria: `performed` (did `event_type` ≥ `min_count` times in the last `days` days), `first_time` (first ever in the last `days` days), ' +
      '`regularly` (in ≥ `min_periods` of the last `of_periods` windows of `period_days` days), `stopped` (active in the `prior_days` before ' +
      'the last `days` days, not since), `restarted` (active in the last `days` days, quiet in the `gap_days` before, active before that). ' +
      'A dynamic cohort is computed at once, then hourly and on `POST /cohorts/{id}/recompute`.',
    schema: {
      body: {
        type: 'object',
        required: ['name', 'kind'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200 },
          description: { type: 'string', maxLength: 2000 },
          kind: { type: 'string', enum: ['static', 'dynamic'] },
          criteria: { type: 'array', maxItems: 10, items: criterionSchema },
          department_id: { type: 'string', minLength: 1, maxLength: 64 },
          user_ids: userIds,
          csv,
        },
      },
      response: { 200: cohortSchema },
    },
    handler: async (req, ctx) => createCohort(ctx, req.body),
  });

  env.route<unknown, unknown, { criteria: unknown[]; department_id?: string; as_of?: string }>({
    method: 'POST',
    path: '/preview',
    permission: WRITE,
    summary: 'How many people behavioural criteria select now (or as of an instant), without saving a cohort',
    description:
      'The editor\'s dry run: the same criteria and department as `POST /cohorts` with `kind: dynamic`, evaluated as a recomputation would. ' +
      `Answers the count and a sample of up to ${PREVIEW_SAMPLE} of the people (the first user ids in order, with their names where the directory knows them), ` +
      'which the same callers see in full once the cohort is saved (`GET /cohorts/{id}/members`).',
    schema: {
      body: {
        type: 'object',
        required: ['criteria'],
        additionalProperties: false,
        properties: {
          criteria: { type: 'array', minItems: 1, maxItems: 10, items: criterionSchema },
          department_id: { type: 'string', minLength: 1, maxLength: 64 },
          as_of: { type: 'string', format: 'date-time', description: 'evaluate at this instant; default now' },
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            size: { type: 'integer' },
            as_of: { type: 'string' },
            sample: { type: 'array', items: { type: 'object', properties: { user_id: { type: 'string' }, name: { type: ['string', 'null'], description: 'the directory\'s display name; null for an id it does not know' } } } },
          },
        },
      },
    },
    async handler(req, ctx) {
      const criteria = checkCriteria(req.body.criteria);
      const asOf = req.body.as_of ? new Date(req.body.as_of) : new Date();
      const users = await evaluate(ctx, criteria, req.body.department_id ?? null, asOf.getTime());
      const sample = [...users].sort().slice(0, PREVIEW_SAMPLE);
      const names = new Map((sample.length ? await ctx.directory.members({ ids: sample, includeInactive: true }) : []).map((m) => [m.id, m.displayName]));
      return { size: users.length, as_of: asOf.toISOString(), sample: sample.map((id) => ({ user_id: id, name: names.get(id) ?? null })) };
    },
  });

  env.route<unknown, { id: string }>({
    method: 'GET',
    path: '/:id',
    permission: READ,
    summary: 'One saved cohort',
    schema: { params: idParams, response: { 200: cohortSchema } },
    handler: async (req, ctx) => getCohort(ctx, req.params.id),
  });

  env.route<unknown, { id: string }, { name?: string; description?: string; criteria?: unknown[]; department_id?: string | null; user_ids?: string[] }>({
    method: 'PATCH',
    path: '/:id',
    permission: WRITE,
    summary: 'Change a cohort: name, description, criteria and department (dynamic: recomputed at once) or its member list (static)',
    schema: {
      params: idParams,
      body: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200 },
          description: { type: 'string', maxLength: 2000 },
          criteria: { type: 'array', maxItems: 10, items: criterionSchema },
          department_id: { type: ['string', 'null'], maxLength: 64 },
          user_ids: userIds,
        },
      },
      response: { 200: cohortSchema },
    },
    async handler(req, ctx) {
      const before = await getCohort(ctx, req.params.id);
      const b = req.body;
      if (b.criteria && before.kind === 'static') throw badRequest('a static cohort has members, not criteria', { field: 'criteria' });
      if (b.user_ids && before.kind === 'dynamic') throw badRequest('a dynamic cohort is computed from its criteria; it takes no user list', { field: 'user_ids' });
      if (b.name && b.name !== before.name && (await ctx.db.table(COHORTS).where({ name: b.name }).first())) throw badRequest(`a cohort named "${b.name}" exists`, { field: 'name' });
      const update: Record<string, unknown> = { updated_at: new Date() };
      if (b.name !== undefined) update.name = b.name;
      if (b.description !== undefined) update.description = b.description;
      if (b.department_id !== undefined) update.department_id = b.department_id;
      if (b.criteria) update.criteria = JSON.stringify(checkCriteria(b.criteria));
      await ctx.db.table(COHORTS).where({ id: before.id }).update(update);
      const after = await getCohort(ctx, before.id);
      if (after.kind === 'dynamic' && (b.criteria || b.department_id !== undefined)) await recompute(ctx, after);
      if (b.user_ids) await setMembers(ctx, before.id, [...new Set(b.user_ids)], new Date(), false);
      await ctx.audit({ action: 'cohort.update', target: before.id, before, after: b });
      return getCohort(ctx, before.id);
    },
  });

  env.route<unknown, { id: string }>({
    method: 'DELETE',
    path: '/:id',
    permission: WRITE,
    summary: 'Delete a cohort with its members and history',
    schema: { params: idParams },
    async handler(req, ctx) {
      const before = await getCohort(ctx, req.params.id);
      await ctx.db.table(COHORTS).where({ id: before.id }).delete();
      await ctx.audit({ action: 'cohort.delete', target: before.id, before });
      return undefined;
    },
  });

  env.route<{ limit?: number; offset?: number; q?: string }, { id: string }>({
    method: 'GET',
    path: '/:id/members',
    // a list of named users: those who define cohorts (Admins, Managers) see it
    permission: WRITE,
    summary: 'Current members of a cohort (user ids, with the directory\'s name when the id is a person of the org), newest first; `q` searches ids, names and emails',
    schema: {
      params: idParams,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 1000 },
          offset: { type: 'integer', minimum: 0, default: 0 },
          q: { type: 'string', minLength: 1, maxLength: 200, description: 'only members whose user id, name or email contains this text (any case)' },
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            size: { type: 'integer' },
            matching: { type: 'integer', description: 'members that match `q` (the size without it): what the pages cover' },
            members: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  user_id: { type: 'string' },
                  display_name: { type: ['string', 'null'], description: 'the directory\'s name; null for an id that is no person of the org (events name users the org has not invited)' },
                  since: { type: 'string' },
                },
              },
            },
          },
        },
      },
    },
    async handler(req, ctx) {
      const c = await getCohort(ctx, req.params.id);
      const search = req.query.q ? await memberSearch(ctx, req.query.q) : null;
      const matching = (q: ReturnType<TenantContext['db']['table']>) => {
        q.where({ cohort_id: c.id });
        // an array parameter, not one binding per id: an org's people can outnumber PostgreSQL's bindings
        if (search) q.where((w) => void w.whereRaw('position(? in lower(user_id)) > 0', [search.text]).orWhereRaw('user_id = any(?::text[])', [search.ids]));
        return q;
      };
      const matched = search ? Number(((await matching(ctx.db.table(MEMBERS)).count({ n: '*' })) as Array<{ n: string | number }>)[0]!.n) : c.size;
      const rows = await matching(ctx.db.table(MEMBERS))
        .select('user_id', 'since')
        .orderBy([{ column: 'since', order: 'desc' }, { column: 'user_id' }])
        .limit(req.query.limit ?? 1000)
        .offset(req.query.offset ?? 0);
      const ids = rows.map((r: { user_id: string }) => r.user_id);
      const names = new Map((ids.length ? await ctx.directory.members({ ids, includeInactive: true }) : []).map((m) => [m.id, m.displayName]));
      return { size: c.size, matching: matched, members: rows.map((r: { user_id: string; since: string }) => ({ user_id: r.user_id, display_name: names.get(r.user_id) ?? null, since: new Date(r.since).toISOString() })) };
    },
  });

  env.route<unknown, { id: string }, { csv: string; replace?: boolean }>({
    method: 'POST',
    path: '/:id/members/csv',
    permission: WRITE,
    summary: 'Upload members of a static cohort as CSV (added, or replacing the list with `replace: true`)',
    schema: {
      params: idParams,
      body: { type: 'object', required: ['csv'], additionalProperties: false, properties: { csv, replace: { type: 'boolean', default: false } } },
      response: { 200: { type: 'object', properties: { size: { type: 'integer' }, joined: { type: 'integer' }, left: { type: 'integer' } } } },
    },
    async handler(req, ctx) {
      const c = await getCohort(ctx, req.params.id);
      if (c.kind !== 'static') throw badRequest('only static cohorts take a member list', { field: 'id' });
      const ids = parseCsv(req.body.csv);
      if (!ids.length) throw badRequest('the CSV names no user id', { field: 'csv' });
      const users = req.body.replace ? ids : [...new Set([...(await membersOf(ctx, c.id)), ...ids])];
      return setMembers(ctx, c.id, users, new Date(), false);
    },
  });

  env.route<unknown, { id: string }, { as_of?: string }>({
    method: 'POST',
    path: '/:id/recompute',
    permission: WRITE,
    summary: 'Recompute a dynamic cohort now (or as of an instant): members who joined and left are recorded',
    schema: {
      params: idParams,
      body: { type: 'object', additionalProperties: false, properties: { as_of: { type: 'string', format: 'date-time', description: 'evaluate the criteria at this instant; default now' } } },
      response: {
        200: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            as_of: { type: 'string' },
            size: { type: 'integer' },
            joined: { type: 'integer' },
            left: { type: 'integer' },
            ms: { type: 'object', description: 'time spent finding the members (ClickHouse) and storing them with their history (PostgreSQL)', properties: { evaluate: { type: 'integer' }, store: { type: 'integer' } } },
          },
        },
      },
    },
    async handler(req, ctx) {
      const c = await getCohort(ctx, req.params.id);
      const asOf = req.body?.as_of ? new Date(req.body.as_of) : new Date();
      const res = await recompute(ctx, c, asOf);
      await ctx.bus.publish('cohort-recomputed', { id: res.id, size: res.size, joined: res.joined, left: res.left });
      return res;
    },
  });

  env.route<{ limit?: number }, { id: string }>({
    method: 'GET',
    path: '/:id/history',
    permission: WRITE,
    summary: 'Membership history: who joined and who left, and when; with the size after each change',
    schema: {
      params: idParams,
      querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 1000 } } },
      response: {
        200: {
          type: 'object',
          properties: {
            sizes: { type: 'array', items: { type: 'object', properties: { at: { type: 'string' }, joined: { type: 'integer' }, left: { type: 'integer' }, size: { type: 'integer' } } } },
            changes: { type: 'array', items: { type: 'object', properties: { user_id: { type: 'string' }, change: { type: 'string' }, at: { type: 'string' } } } },
          },
        },
      },
    },
    async handler(req, ctx) {
      const c = await getCohort(ctx, req.params.id);
      const counts = await ctx.db.table(HISTORY).where({ cohort_id: c.id }).select('at', 'change').count('* as n').groupBy('at', 'change').orderBy('at');
      const byAt = new Map<string, { at: string; joined: number; left: number; size: number }>();
      for (const r of counts as Array<{ at: string; change: string; n: string | number }>) {
        const at = new Date(r.at).toISOString();
        let step = byAt.get(at);
        if (!step) byAt.set(at, (step = { at, joined: 0, left: 0, size: 0 }));
        if (r.change === 'joined') step.joined += Number(r.n);
        else step.left += Number(r.n);
      }
      let size = 0;
      const sizes = [...byAt.values()].map((s) => ({ ...s, size: (size += s.joined - s.left) }));
      const changes = await ctx.db.table(HISTORY).where({ cohort_id: c.id }).select('user_id', 'change', 'at').orderBy([{ column: 'at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(req.query.limit ?? 1000);
      return { sizes, changes: changes.map((r: { user_id: string; change: string; at: string }) => ({ ...r, at: new Date(r.at).toISOString() })) };
    },
  });

  env.route<SpendQuery, { id: string }>({
    method: 'GET',
    path: '/:id/spend',
    permission: READ,
    summary: "Spend of a cohort's current members per period: agent invocation cost and tokens",
    schema: {
      params: idParams,
      querystring: { type: 'object', additionalProperties: false, properties: spendQueryProperties },
      response: {
        200: {
          type: 'object',
          properties: {
            period: { type: 'string' },
            members: { type: 'integer' },
            series: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  period: { type: 'string' },
                  invocations: { type: 'integer' },
                  active_members: { type: 'integer' },
                  cost_usd: { type: 'number' },
                  input_tokens: { type: 'integer' },
                  output_tokens: { type: 'integer' },
                  cost_per_active_member_usd: { type: ['number', 'null'] },
                },
              },
            },
          },
        },
      },
    },
    async handler(req, ctx) {
      const users = await membersOf(ctx, req.params.id, 'id');
      return spend(ctx, req.query, users);
    },
  });
}
