import type { FastifyInstance } from 'fastify';
import client from 'prom-client';
import type { KernelModule } from '../types.ts';
import type { Internals } from '../internals.ts';
import type { Metrics } from '../ops/routes.ts';
import { errorSchema } from '../http/schemas.ts';
import { pageDeclSchema, widgetDeclSchema } from '@orrery/plugin-sdk/contract';

const widget = widgetDeclSchema;
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
    remote: {
      type: ['object', 'null'],
      properties: {
        name: { type: 'string' },
        entry: { type: 'string' },
        widgetAssets: {
          type: 'object',
          description: 'per widget id, the files its module needs (the remote build\'s widget-assets.json): the portal asks for them early',
          additionalProperties: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    widgets: { type: 'array', items: widget },
    pages: { type: 'array', items: pageDeclSchema, description: 'full pages the portal routes at /p/<plugin>/<page>' },
  },
};

export const pluginsModule: KernelModule = {
  name: 'plugins',
  register(app: FastifyInstance, s: Internals & { metrics?: Metrics }) {
    const registry = s.metrics?.registry;
    if (registry && !registry.getSingleMetric('orrery_route_answers_total')) {
      const answers = s.plugins.answers;
      let seen = { ...answers.stats };
      new client.Counter({
        name: 'orrery_route_answers_total',
        help: 'Answers of plugin routes that opt in to remembering: remembered (served from memory), computed for the request, joined (waited for the same computation under way), refreshed (recomputed in the background after a change because somebody read it)',
        labelNames: ['outcome'],
        registers: [registry],
        collect() {
          this.inc({ outcome: 'remembered' }, answers.stats.hits - seen.hits);
          this.inc({ outcome: 'computed' }, answers.stats.misses - seen.misses);
          this.inc({ outcome: 'joined' }, answers.stats.joined - seen.joined);
          this.inc({ outcome: 'refreshed' }, answers.stats.refreshed - seen.refreshed);
          seen = { ...answers.stats };
        },
      });
    }
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

    const jobView = {
      type: 'object',
      properties: {
        plugin: { type: 'string' },
        job: { type: 'string' },
        every_seconds: { type: 'integer' },
        last_started_at: { type: ['string', 'null'] },
        last_finished_at: { type: ['string', 'null'] },
        last_status: { type: ['string', 'null'] },
        last_error: { type: ['string', 'null'] },
        running: { type: 'boolean' },
      },
    };
    app.get(
      '/api/v1/admin/jobs',
      {
        config: { permission: 'admin' },
        schema: { tags: ['plugins'], summary: "Plugins' scheduled jobs with this org's last recorded run", response: { 200: { type: 'object', properties: { jobs: { type: 'array', items: jobView } } } } },
      },
      async (req) => ({ jobs: await s.plugins.jobsFor(req.auth!.org) }),
    );
    app.post<{ Params: { plugin: string; job: string } }>(
      '/api/v1/admin/jobs/:plugin/:job/run',
      {
        config: { permission: 'admin' },
        schema: {
          tags: ['plugins'],
          summary: "Run a plugin's job now for this org (under the same lock as the scheduler)",
          params: { type: 'object', required: ['plugin', 'job'], properties: { plugin: { type: 'string', maxLength: 63 }, job: { type: 'string', maxLength: 100 } } },
          response: { 200: { type: 'object', properties: { status: { type: 'string', enum: ['ok', 'failed', 'skipped'] }, result: {}, error: { type: 'string' } } }, 404: errorSchema },
        },
      },
      async (req) => {
        const { org, caller } = req.auth!;
        const r = await s.plugins.runJobForOrg(req.params.plugin, req.params.job, org);
        await s.audit(org, caller, { action: 'job.run', target: `${req.params.plugin}/${req.params.job}`, after: { status: r.status }, ip: req.ip });
        return r;
      },
    );
  },
};
