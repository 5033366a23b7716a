/**
 * The rollups module: the watermark ledger (public.rollup_watermarks) and the Admin routes that
 * rebuild a plugin's rollups for a range and show how far each rollup has folded. The service
 * itself (service.ts) is built by the kernel, which owns its timer.
 */
import type { FastifyInstance } from 'fastify';
import { badRequest, notFound } from '@orrery/plugin-sdk';
import type { KernelModule } from '../types.ts';
import type { Internals } from '../internals.ts';
import { errorSchema } from '../http/schemas.ts';
import { rollupMigrations } from './service.ts';

/** The kernel services this module uses (a part of the container, not all of it). */
export type RollupsModuleDeps = Pick<Internals, 'audit' | 'plugins' | 'rollups'>;

export { RollupService, rollupMigrations, type RollupOptions } from './service.ts';

const task = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    org_id: { type: 'string' },
    plugin: { type: 'string' },
    rollups: { type: 'array', items: { type: 'string' } },
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    status: { type: 'string', enum: ['running', 'done', 'failed'] },
    progress: { type: 'object', properties: { done: { type: 'integer' }, total: { type: 'integer' } } },
    rows: { type: 'integer', description: 'source rows aggregated so far' },
    error: { type: ['string', 'null'] },
    started_at: { type: 'string' },
    finished_at: { type: ['string', 'null'] },
  },
};

const MAX_RANGE_DAYS = 3660;

export const rollupsModule: KernelModule<RollupsModuleDeps> = {
  name: 'rollups',
  migrations: { public: rollupMigrations },
  register(app: FastifyInstance, s: RollupsModuleDeps) {
    app.post<{ Body: { plugin: string; rollup?: string; from: string; to: string } }>(
      '/api/v1/admin/materialized-views/refresh',
      {
        config: { permission: 'admin' },
        schema: {
          tags: ['rollups'],
          summary: "Rebuild a plugin's rollups for the caller's org over a range (whole UTC days), in the background; audited",
          description:
            'Recomputes the rollup rows of the days covering `[from, to)` from raw events up to the rollup watermark, a day at a time; answers 202 with a task whose `progress` counts days done. Poll `GET /api/v1/admin/materialized-views/refresh/{id}`.',
          body: {
            type: 'object',
            required: ['plugin', 'from', 'to'],
            additionalProperties: false,
            properties: {
              plugin: { type: 'string', minLength: 1, maxLength: 80, description: 'plugin id' },
              rollup: { type: 'string', minLength: 1, maxLength: 80, description: 'one rollup of the plugin (default: all of them)' },
              from: { type: 'string', format: 'date-time' },
              to: { type: 'string', format: 'date-time' },
            },
          },
          response: { 202: task, '4xx': errorSchema },
        },
      },
      async (req, reply) => {
        const { org, caller } = req.auth!;
        const { plugin, rollup } = req.body;
        const from = new Date(req.body.from), to = new Date(req.body.to);
        if (!(to > from)) throw badRequest('`to` must be after `from`', { field: 'to', from: req.body.from, to: req.body.to });
        if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * 86_400_000) throw badRequest(`a refresh covers at most ${MAX_RANGE_DAYS} days`, { field: 'to' });
        const p = s.plugins.active.find((a) => a.decl.id === plugin);
        if (!p || !(await s.plugins.isEnabled(org.id, plugin))) throw notFound(`no plugin "${plugin}" enabled for this organization`, { field: 'plugin', plugin });
        const names = (p.decl.rollups ?? []).map((r) => r.name);
        if (!names.length) throw badRequest(`plugin "${plugin}" declares no rollups`, { field: 'plugin', plugin });
        if (rollup && !names.includes(rollup)) throw notFound(`plugin "${plugin}" has no rollup "${rollup}"`, { field: 'rollup', rollup, rollups: names });
        const t = s.rollups.startRefresh(org.id, plugin, rollup ? [rollup] : names, from, to);
        await s.audit(org, caller, { action: 'rollups.refresh', target: plugin, after: { id: t.id, rollups: t.rollups, from: t.from, to: t.to }, ip: req.ip });
        return reply.status(202).send(t);
      },
    );

    app.get<{ Params: { id: string } }>(
      '/api/v1/admin/materialized-views/refresh/:id',
      {
        config: { permission: 'admin' },
        schema: {
          tags: ['rollups'],
          summary: 'Progress of a rollup refresh (tasks live on the node that runs them, until it restarts)',
          params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } },
          response: { 200: task, '4xx': errorSchema },
        },
      },
      async (req) => {
        const t = s.rollups.task(req.params.id);
        if (!t || t.org_id !== req.auth!.org.id) throw notFound(`no refresh "${req.params.id}"`, { field: 'id' });
        return t;
      },
    );

    app.get(
      '/api/v1/admin/materialized-views',
      {
        config: { permission: 'admin' },
        schema: {
          tags: ['rollups'],
          summary: 'Declared rollups: tables and cascade, watermark and lag of each',
          response: {
            200: {
              type: 'object',
              properties: {
                grace_ms: { type: 'integer', description: 'how far behind the clock a fold stops' },
                grace: { type: 'string', description: 'what else holds a fold back: with the embedded engine, the oldest write under way' },
                every_seconds: { type: 'number' },
                max_lag_ms: { type: 'integer' },
                lag_ms: { type: 'object', description: 'now − watermark right after each fold (the lowest lag)', properties: { p50: { type: ['number', 'null'] }, p99: { type: ['number', 'null'] }, samples: { type: 'integer' } } },
                peak_lag_ms: { type: 'object', description: 'now − the old watermark as each fold moves it (the highest lag)', properties: { p50: { type: ['number', 'null'] }, p99: { type: ['number', 'null'] }, samples: { type: 'integer' } } },
                fold_ms: { type: 'object', description: 'how long the last folds that took rows ran, start to end (the last 1,000)', properties: { p50: { type: ['number', 'null'] }, p99: { type: ['number', 'null'] }, samples: { type: 'integer' } } },
                rollups: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      plugin: { type: 'string' },
                      rollup: { type: 'string' },
                      watermark: { type: ['string', 'null'] },
                      lag_ms: { type: ['number', 'null'] },
                      tables: {
                        type: 'array',
                        items: { type: 'object', properties: { table: { type: 'string' }, grain: { type: 'string' }, dims: { type: 'array', items: { type: 'string' } }, from: { type: ['string', 'null'] }, stored: { type: 'boolean' } } },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
      async () => s.rollups.status(),
    );
  },
};
