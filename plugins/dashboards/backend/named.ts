/**
 * Named dashboards (API: `GET·POST /api/v1/dashboards`, `GET·PUT·DELETE /api/v1/dashboards/{id}`)
 * and the template library (`GET /api/v1/dashboards/templates`).
 *
 * Who sees what: the owner always sees and edits; `org` sharing shows it to every member of
 * the org, `department` sharing to the members of that department; `access: edit` lets them
 * change its name, widgets, filters and refresh, never its sharing (the owner's) nor delete
 * it. A dashboard the caller may not see answers 404, as one that does not exist.
 */
import { badRequest, forbidden, notFound, ROLES, type Caller, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { createBody, listAnswer, namedAnswer, templatesAnswer, updateBody } from '../answers.ts';
import { checkDoc } from './checkDoc.ts';
import { getDefault, type Doc } from './store.ts';
import { deleteNamed, getNamed, insertNamed, listVisible, updateNamed, type Filters, type NamedDashboard, type Share } from './namedStore.ts';
import { BUILTIN_TEMPLATES, type Template } from './templates.ts';

/** at most this many dashboards per owner */
export const MAX_PER_OWNER = 200;

interface CreateBody {
  name: string;
  description?: string;
  template?: string;
  doc?: Doc;
  share?: Partial<Share>;
  filters?: Filters;
  refresh_seconds?: number;
}
type UpdateBody = Omit<CreateBody, 'template'>;

function caller(ctx: TenantContext): Caller {
  if (!ctx.caller) throw forbidden('a signed-in user is required');
  return ctx.caller;
}

const memberOf = (c: Caller, departmentId: string | null) => !!departmentId && c.departments.some((d) => d.id === departmentId);

export function mayView(c: Caller, d: NamedDashboard): boolean {
  return d.owner_id === c.userId || d.share.scope === 'org' || (d.share.scope === 'department' && memberOf(c, d.share.department_id));
}

export function mayEdit(c: Caller, d: NamedDashboard): boolean {
  return d.owner_id === c.userId || (d.share.scope !== 'private' && d.share.access === 'edit' && mayView(c, d));
}

function present(c: Caller, d: NamedDashboard) {
  return { ...d, widgets: d.doc.items.length, can_edit: mayEdit(c, d), is_owner: d.owner_id === c.userId };
}

async function templates(ctx: TenantContext): Promise<Template[]> {
  const roles: Template[] = [];
  for (const role of ROLES) {
    const d = await getDefault(ctx.db, 'role', role);
    if (d?.doc) roles.push({ id: `role:${role}`, name: `${role} default`, description: `The default dashboard an Admin set for ${role}s`, kind: 'role', doc: d.doc });
  }
  return [...BUILTIN_TEMPLATES, ...roles];
}

/** Sharing as stored: the department is kept for `department` only; checked against the org and the caller. */
async function checkShare(ctx: TenantContext, c: Caller, share: Partial<Share> | undefined): Promise<Share> {
  const scope = share?.scope ?? 'private';
  const access = share?.access ?? 'view';
  if (scope !== 'department') {
    if (share?.department_id) throw badRequest(`share.department_id: only a dashboard shared with a department names one (scope is "${scope}")`, { field: 'share.department_id' });
    return { scope, department_id: null, access };
  }
  const id = share?.department_id;
  if (!id) throw badRequest('share.department_id: name the department to share with', { field: 'share.department_id' });
  const known = (await ctx.directory.departments()).some((d) => d.id === id);
  if (!known) throw badRequest(`share.department_id: no department "${id}" in this organization`, { field: 'share.department_id' });
  if (c.role !== 'Admin' && !memberOf(c, id)) throw forbidden(`share.department_id: you may share only with a department you are in`, { field: 'share.department_id' });
  return { scope, department_id: id, access };
}

async function checkFilters(ctx: TenantContext, filters: Filters | undefined): Promise<Filters> {
  const out: Filters = {};
  if (!filters) return out;
  if (filters.department_id) {
    const known = (await ctx.directory.departments()).some((d) => d.id === filters.department_id);
    if (!known) throw badRequest(`filters.department_id: no department "${filters.department_id}" in this organization`, { field: 'filters.department_id' });
    out.department_id = filters.department_id;
  }
  if (filters.agent_name) out.agent_name = filters.agent_name;
  return out;
}

async function visibleOr404(ctx: TenantContext, c: Caller, id: string): Promise<NamedDashboard> {
  const d = await getNamed(ctx.db, id);
  if (!d || !mayView(c, d)) throw notFound(`no dashboard "${id}" that you may see`);
  return d;
}

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } };

export function registerNamedRoutes(env: PluginEnv) {
  env.route({
    method: 'GET',
    path: '/',
    permission: 'dashboards.read',
    summary: 'The named dashboards the caller may see: their own, their departments\' and the org\'s',
    schema: { response: { 200: listAnswer } },
    async handler(_req, ctx) {
      const c = caller(ctx);
      const rows = await listVisible(ctx.db, c.userId, c.departments.map((d) => d.id));
      return { dashboards: rows.map((d) => { const { doc: _doc, ...rest } = present(c, d); return rest; }) };
    },
  });

  env.route({
    method: 'GET',
    path: '/templates',
    permission: 'dashboards.read',
    summary: 'The template library: built-in dashboards and the role defaults',
    schema: { response: { 200: templatesAnswer } },
    async handler(_req, ctx) {
      return { templates: await templates(ctx) };
    },
  });

  env.route<unknown, unknown, CreateBody>({
    method: 'POST',
    path: '/',
    permission: 'dashboards.read',
    summary: 'Create a named dashboard (empty, from a template, or from a document)',
    description: 'Answers the dashboard. `share.scope` defaults to `private`, `access` to `view`, `refresh_seconds` to 0 (off).',
    schema: { body: createBody, response: { 200: namedAnswer } },
    async handler(req, ctx) {
      const c = caller(ctx);
      const b = req.body;
      let doc: Doc = { version: 1, items: [] };
      if (b.template !== undefined) {
        const t = (await templates(ctx)).find((x) => x.id === b.template);
        if (!t) throw badRequest(`template: no template "${b.template}"`, { field: 'template', allowed: (await templates(ctx)).map((x) => x.id) });
        doc = t.doc;
      }
      if (b.doc) doc = checkDoc(b.doc);
      const own = (await listVisible(ctx.db, c.userId, [])).filter((d) => d.owner_id === c.userId).length;
      if (own >= MAX_PER_OWNER) throw badRequest(`you own ${own} dashboards; at most ${MAX_PER_OWNER}`, { field: 'name' });
      const d = await insertNamed(ctx.db, c.userId, {
        name: b.name.trim(),
        description: b.description ?? '',
        share: await checkShare(ctx, c, b.share),
        filters: await checkFilters(ctx, b.filters),
        refresh_seconds: b.refresh_seconds ?? 0,
        template: b.template ?? null,
        doc,
      });
      await ctx.audit({ action: 'dashboards.create', target: d.id });
      return present(c, d);
    },
  });

  env.route<unknown, { id: string }>({
    method: 'GET',
    path: '/:id',
    permission: 'dashboards.read',
    summary: 'One named dashboard with its widgets (404 when the caller may not see it)',
    schema: { params: idParams, response: { 200: namedAnswer } },
    async handler(req, ctx) {
      const c = caller(ctx);
      return present(c, await visibleOr404(ctx, c, req.params.id));
    },
  });

  env.route<unknown, { id: string }, UpdateBody>({
    method: 'PUT',
    path: '/:id',
    permission: 'dashboards.read',
    summary: 'Change a named dashboard (owner, or a member it is shared with for editing; sharing: owner only)',
    schema: { params: idParams, body: updateBody, response: { 200: namedAnswer } },
    async handler(req, ctx) {
      const c = caller(ctx);
      const d = await visibleOr404(ctx, c, req.params.id);
      if (!mayEdit(c, d)) throw forbidden('this dashboard is shared with you to view, not to edit');
      const b = req.body;
      if (b.share !== undefined && d.owner_id !== c.userId) throw forbidden('share: only the owner changes who a dashboard is shared with', { field: 'share' });
      const next = await updateNamed(ctx.db, d.id, c.userId, {
        name: b.name?.trim() ?? d.name,
        description: b.description ?? d.description,
        share: b.share !== undefined ? await checkShare(ctx, c, b.share) : d.share,
        filters: b.filters !== undefined ? await checkFilters(ctx, b.filters) : d.filters,
        refresh_seconds: b.refresh_seconds ?? d.refresh_seconds,
        doc: b.doc ? checkDoc(b.doc) : d.doc,
      });
      await ctx.audit({ action: 'dashboards.update', target: d.id });
      return present(c, next);
    },
  });

  env.route<unknown, { id: string }>({
    method: 'DELETE',
    path: '/:id',
    permission: 'dashboards.read',
    summary: 'Delete a named dashboard (owner only)',
    schema: { params: idParams, response: { 204: { description: 'Deleted', type: 'null' } } },
    async handler(req, ctx) {
      const c = caller(ctx);
      const d = await visibleOr404(ctx, c, req.params.id);
      if (d.owner_id !== c.userId) throw forbidden('only the owner deletes a dashboard');
      await deleteNamed(ctx.db, d.id);
      await ctx.audit({ action: 'dashboards.delete', target: d.id });
      return undefined;
    },
  });
}
