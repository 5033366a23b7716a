import type { FastifyInstance } from 'fastify';
import type { KernelModule } from '../types.ts';
import type { Internals } from '../internals.ts';
import { errorSchema } from '../http/schemas.ts';

const widget = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    title: { type: 'string' },
    description: { type: 'string' },
    defaultSize: { type: 'string', enum: ['S', 'M', 'L', 'F'] },
    minSize: { type: 'object', properties: { w: { type: 'integer' }, h: { type: 'integer' } } },
    roles: { type: 'array', items: { type: 'string' } },
    optionsSchema: { type: 'object', additionalProperties: true },
    optionsVersion: { type: 'integer' },
    topics: { type: 'array', items: { type: 'string' } },
  },
};
const pluginView = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    version: { type: 'string' },
    title: { type: 'string' },
    description: { type: 'string' },
    enabled: { type: 'boolean' },
    status: { type: 'string' },
    routePrefix: { type: 'string' },
    topics: { type: 'array', items: { type: 'string' } },
    remote: { type: ['object', 'null'], properties: { name: { type: 'string' }, entry: { type: 'string' } } },
    widgets: { type: 'array', items: widget },
  },
};

export const pluginsModule: KernelModule = {
  name: 'plugins',
  register(app: FastifyInstance, s: Internals) {
    app.get<{ Querystring: { all?: boolean } }>(
      '/api/v1/plugins',
      {
        config: { permission: 'authenticated' },
        schema: {
          tags: ['plugins'],
          summary: "Plugins enabled for the caller's org, with the widgets the caller's role may see and each frontend remote",
          description: 'Admins may pass `all=true` to list disabled and failed plugins too (for the settings page).',
          querystring: { type: 'object', additionalProperties: false, properties: { all: { type: 'boolean', default: false } } },
          response: {
            200: {
              type: 'object',
              properties: {
                sdkVersion: { type: 'string' },
                plugins: { type: 'array', items: pluginView },
                refused: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, error: { type: 'string' } } } },
              },
            },
          },
        },
      },
      async (req) => {
        const { org, caller } = req.auth!;
        const all = !!req.query.all && caller.role === 'Admin';
        return {
          sdkVersion: s.version.sdkVersion,
          plugins: await s.plugins.manifest(org, caller, all),
          ...(all ? { refused: s.plugins.refused.map((r) => ({ id: r.id, error: r.error })) } : {}),
        };
      },
    );

    app.put<{ Params: { id: string }; Body: { enabled: boolean } }>(
      '/api/v1/admin/plugins/:id',
      {
        config: { permission: 'admin' },
        schema: {
          tags: ['plugins'],
          summary: "Turn a plugin on or off for the caller's org (takes effect at once, on every node)",
          params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 63 } } },
          body: { type: 'object', required: ['enabled'], additionalProperties: false, properties: { enabled: { type: 'boolean' } } },
          response: { 200: { type: 'object', properties: { id: { type: 'string' }, enabled: { type: 'boolean' } } }, 404: errorSchema },
        },
      },
      async (req) => {
        const { org, caller } = req.auth!;
        const before = await s.plugins.isEnabled(org.id, req.params.id);
        await s.plugins.setEnabled(org, req.params.id, req.body.enabled);
        await s.audit(org, caller, { action: 'plugin.enablement', target: req.params.id, before: { enabled: before }, after: { enabled: req.body.enabled }, ip: req.ip });
        return { id: req.params.id, enabled: req.body.enabled };
      },
    );
  },
};
