/**
 * The dashboards plugin: where each user's grid lives, and the defaults a user starts from.
 *
 * Resolution for `GET /mine`: the user's own layout → the default of the department in view
 * (or of the first of the user's departments that has one) → the default of the user's role
 * → none (the portal then suggests one from the widgets the user may see).
 */
import { definePlugin, forbidden, metricsQueryRef, need, notFound, ROLES, type Caller, type Role, type TenantContext } from '@orrery/plugin-sdk';
import { widgets } from '../widgets.ts';
import { defaultAnswer, defaultsAnswer, mineAnswer, savedAnswer } from '../answers.ts';
import { checkDoc, docBody } from './checkDoc.ts';
import { namedMigration } from './namedStore.ts';
import { registerNamedRoutes } from './named.ts';
import { demoData } from './demo.ts';
import { recentActivity, recentAnswer, recentQuery, type RecentQuery } from './recentActivity.ts';
import { filterOptions, filterOptionsAnswer, filterOptionsQuery, type FilterOptionsQuery } from './filterOptions.ts';
import { deleteDefault, deleteUserLayout, getDefault, getUserLayout, listDefaults, putDefault, putUserLayout, DEFAULT_TABLE, USER_TABLE, type Doc } from './store.ts';

function caller(ctx: TenantContext): Caller {
  if (!ctx.caller) throw forbidden('a signed-in user is required');
  return ctx.caller;
}

async function resolveDefault(ctx: TenantContext, c: Caller, departmentId?: string) {
  const depts = departmentId && c.departments.some((d) => d.id === departmentId)
    ? [departmentId, ...c.departments.map((d) => d.id).filter((id) => id !== departmentId)]
    : c.departments.map((d) => d.id);
  for (const id of depts) {
    const d = await getDefault(ctx.db, 'department', id);
    if (d?.doc) return { doc: d.doc, source: 'department' as const, updated_at: d.updated_at };
  }
  const r = await getDefault(ctx.db, 'role', c.role);
  if (r?.doc) return { doc: r.doc, source: 'role' as const, updated_at: r.updated_at };
  return { doc: null, source: 'none' as const };
}

const deptQuery = { type: 'object', properties: { department_id: { type: 'string', maxLength: 64 } }, additionalProperties: false };

export default definePlugin({
  from: import.meta.url,
  id: 'dashboards',
  version: '1.0.0',
  sdk: '^2.0.0',
  title: 'Dashboards',
  description: 'Named dashboards (shared privately, with a department or the org; templates, filters, auto-refresh), per-user layouts, role and department defaults, and a getting-started widget.',
  routePrefix: 'dashboards',
  enabledByDefault: true,
  permissions: {
    'dashboards.read': ['Admin', 'Manager', 'Developer'],
    'dashboards.department-default': ['Admin', 'Manager'],
    'dashboards.role-default': ['Admin'],
  },
  migrations: {
    pg: [
      {
        name: '001_layouts',
        async up(knex, schema) {
          await knex.schema.withSchema(schema).createTable(USER_TABLE, (t) => {
            t.string('user_id', 64).primary();
            t.text('doc').notNullable();
            t.timestamp('updated_at', { useTz: true }).notNullable();
          });
          await knex.schema.withSchema(schema).createTable(DEFAULT_TABLE, (t) => {
            t.string('scope', 16).notNullable();
            t.string('key', 64).notNullable();
            t.text('doc').notNullable();
            t.timestamp('updated_at', { useTz: true }).notNullable();
            t.string('updated_by', 64).notNullable();
            t.primary(['scope', 'key']);
          });
        },
        async down(knex, schema) {
          await knex.schema.withSchema(schema).dropTableIfExists(DEFAULT_TABLE);
          await knex.schema.withSchema(schema).dropTableIfExists(USER_TABLE);
        },
      },
      namedMigration,
    ],
  },
  frontend: {
    remoteName: 'dashboards',
    distDir: 'frontend/dist',
    widgets,
  },
  // the agent picker asks the metrics query; without it the picker is empty and free text filters
  needs: [need(metricsQueryRef, '^1.0.0', { optional: true })],
  register(env) {
    registerNamedRoutes(env);
    env.onDemoData(demoData);
    env.route<FilterOptionsQuery>({
      method: 'GET',
      path: '/filter-options',
      permission: 'dashboards.read',
      summary: 'What the dashboard filters offer: the departments the caller may pick and the org\'s agents',
      description: 'Departments from the directory (Admin: every department; Manager: those they manage; Developer: their own). Agents: names of `agent_invocation` events over the last `days` (default 90), busiest first, within what the caller may see, from the metrics query; `department_id` narrows them.',
      schema: { querystring: filterOptionsQuery, response: { 200: filterOptionsAnswer } },
      cache: { maxAgeSeconds: 60 },
      handler: (req, ctx) => filterOptions(ctx, req.query),
    });
    env.route<RecentQuery>({
      method: 'GET',
      path: '/live/recent',
      permission: 'dashboards.read',
      summary: 'The last minutes of events, per minute, for the live event stream',
      description: 'Events of the org (or of `department_id`, which an Admin may pick freely and others only among their own departments, as the realtime bus delivers them) per minute of event time over the last `minutes` (default 15, the current minute included), with the count per event type and the busiest agents of each minute; `last_event_at` is the newest event of the scope over the last 30 days, null when there was none.',
      schema: { querystring: recentQuery, response: { 200: recentAnswer } },
      handler: (req, ctx) => recentActivity(ctx, req.query),
    });
    env.route<{ department_id?: string }>({
      method: 'GET',
      path: '/mine',
      permission: 'dashboards.read',
      summary: "The caller's dashboard, or the default they start from",
      schema: { querystring: deptQuery, response: { 200: mineAnswer } },
      async handler(req, ctx) {
        const c = caller(ctx);
        const own = await getUserLayout(ctx.db, c.userId);
        if (own?.doc) return { doc: own.doc, source: 'user', updated_at: own.updated_at };
        return resolveDefault(ctx, c, req.query.department_id);
      },
    });

    env.route<unknown, unknown, { doc: Doc }>({
      method: 'PUT',
      path: '/mine',
      permission: 'dashboards.read',
      summary: "Save the caller's dashboard",
      schema: { body: docBody, response: { 200: savedAnswer } },
      async handler(req, ctx) {
        const c = caller(ctx);
        return { updated_at: await putUserLayout(ctx.db, c.userId, checkDoc(req.body.doc)) };
      },
    });

    env.route<{ department_id?: string }>({
      method: 'DELETE',
      path: '/mine',
      permission: 'dashboards.read',
      summary: "Reset the caller's dashboard to the default; answers the default",
      schema: { querystring: deptQuery, response: { 200: mineAnswer } },
      async handler(req, ctx) {
        const c = caller(ctx);
        await deleteUserLayout(ctx.db, c.userId);
        return resolveDefault(ctx, c, req.query.department_id);
      },
    });

    env.route({
      method: 'GET',
      path: '/defaults',
      permission: 'dashboards.read',
      summary: 'The role and department defaults saved for the org (without their documents)',
      schema: { response: { 200: defaultsAnswer } },
      async handler(_req, ctx) {
        return { defaults: await listDefaults(ctx.db) };
      },
    });

    const scopeParams = { type: 'object', required: ['key'], properties: { key: { type: 'string', maxLength: 64 } } };

    const mayWrite = (c: Caller, scope: 'role' | 'department', key: string) => {
      if (scope === 'role') {
        if (!ROLES.includes(key as Role)) throw notFound(`no role "${key}"; roles are ${ROLES.join(', ')}`);
        if (c.role !== 'Admin') throw forbidden('only Admins set role defaults');
      } else if (c.role !== 'Admin' && !c.departments.some((d) => d.id === key && d.manager)) {
        throw forbidden(`only a manager of department ${key} (or an Admin) sets its default`);
      }
    };

    for (const scope of ['role', 'department'] as const) {
      const permission = scope === 'role' ? 'dashboards.role-default' : 'dashboards.department-default';
      env.route<unknown, { key: string }>({
        method: 'GET',
        path: `/defaults/${scope}/:key`,
        permission: 'dashboards.read',
        summary: `The default dashboard of a ${scope}`,
        schema: { params: scopeParams, response: { 200: defaultAnswer } },
        async handler(req, ctx) {
          const d = await getDefault(ctx.db, scope, req.params.key);
          if (!d) throw notFound(`no default dashboard for ${scope} ${req.params.key}`);
          return d;
        },
      });
      env.route<unknown, { key: string }, { doc: Doc }>({
        method: 'PUT',
        path: `/defaults/${scope}/:key`,
        permission,
        summary: `Set the default dashboard of a ${scope}`,
        schema: { params: scopeParams, body: docBody, response: { 200: savedAnswer } },
        async handler(req, ctx) {
          const c = caller(ctx);
          mayWrite(c, scope, req.params.key);
          const updated_at = await putDefault(ctx.db, scope, req.params.key, checkDoc(req.body.doc), c.userId);
          await ctx.audit({ action: `dashboards.default.${scope}.set`, target: req.params.key });
          return { updated_at };
        },
      });
      env.route<unknown, { key: string }>({
        method: 'DELETE',
        path: `/defaults/${scope}/:key`,
        permission,
        summary: `Remove the default dashboard of a ${scope}`,
        schema: { params: scopeParams, response: { 204: { description: 'Removed (or there was none)', type: 'null' } } },
        async handler(req, ctx) {
          const c = caller(ctx);
          mayWrite(c, scope, req.params.key);
          await deleteDefault(ctx.db, scope, req.params.key);
          await ctx.audit({ action: `dashboards.default.${scope}.remove`, target: req.params.key });
          return undefined;
        },
      });
    }
  },
});
