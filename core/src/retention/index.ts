/**
 * The retention module: each org's data lifecycle through the API (Admin, audited) and the
 * ledger it keeps (public.org_retention). The service (service.ts) is built by the kernel,
 * which owns its timer.
 */
import type { FastifyInstance } from 'fastify';
import { DEFAULT_RETENTION, HttpError, horizonsAt, retentionProblems, type Org, type RetentionPolicy } from '@orrery/plugin-sdk';
import type { KernelModule } from '../types.ts';
import type { Internals } from '../internals.ts';
import { errorSchema } from '../http/schemas.ts';
import { retentionMigrations } from './service.ts';

export { RetentionService, retentionMigrations, type RetentionOptions, type ExpiryResult } from './service.ts';
export { tierStatements, tierProblems, type TierConfig } from './tiers.ts';

const days = (max: number, what: string) => ({ type: 'integer', minimum: 1, maximum: max, description: what });
const policyProps = {
  raw_events_days: days(3650, 'raw events (every column of every event) are kept this many days'),
  aggregates_days: days(7300, "rollups (dashboards' aggregate states) are kept this many days; at least raw_events_days"),
  user_activity_days: days(7300, 'per-user activity rollups and per-user data of plugins are kept this many days; at least raw_events_days'),
};
const policySchema = { type: 'object', required: Object.keys(policyProps), properties: policyProps };
const expiry = {
  type: 'object',
  properties: {
    org_id: { type: 'string' },
    at: { type: 'string', format: 'date-time' },
    horizons: { type: 'object', properties: { raw_events_from: { type: 'string' }, aggregates_from: { type: 'string' }, user_activity_from: { type: 'string' } } },
    raw_events_deleted: { type: 'integer' },
    raw_events_waiting_for_fold: { type: 'integer', description: 'raw events past the horizon kept until every rollup has folded them' },
    rollup_rows_deleted: { type: 'object', additionalProperties: { type: 'integer' } },
    ms: { type: 'integer' },
  },
};
const answer = {
  type: 'object',
  properties: {
    policy: policySchema,
    defaults: policySchema,
    custom: { type: 'boolean', description: 'false while the org follows the platform defaults' },
    horizons: {
      type: 'object',
      description: 'UTC day starts before which data is expired',
      properties: { raw_events_from: { type: 'string', format: 'date-time' }, aggregates_from: { type: 'string', format: 'date-time' }, user_activity_from: { type: 'string', format: 'date-time' } },
    },
    raw_expired_before: { type: ['string', 'null'], description: 'raw events before this may already be deleted; questions about older ranges are answered from rollups' },
    every_seconds: { type: 'number' },
    last_run: { anyOf: [expiry, { type: 'null' }] },
    storage: {
      type: 'object',
      properties: {
        mode: { type: 'string', enum: ['embedded', 'server'] },
        tiers: {
          anyOf: [
            { type: 'null' },
            { type: 'object', properties: { storage_policy: { type: 'string' }, warm_volume: { type: 'string' }, cold_volume: { type: 'string' }, warm_after_days: { type: 'integer' }, cold_after_days: { type: 'integer' } } },
          ],
        },
      },
    },
  },
};

export const retentionModule: KernelModule = {
  name: 'retention',
  migrations: { public: retentionMigrations },
  register(app: FastifyInstance, s: Internals) {
    const describe = async (org: Org) => {
      const p = await s.retention.policy(org.id);
      const h = horizonsAt(p.policy);
      const tiers = s.config.retention?.tiers;
      return {
        policy: p.policy,
        defaults: s.retention.opts.defaults ?? DEFAULT_RETENTION,
        custom: p.custom,
        horizons: { raw_events_from: h.rawEventsFrom.toISOString(), aggregates_from: h.aggregatesFrom.toISOString(), user_activity_from: h.userActivityFrom.toISOString() },
        raw_expired_before: p.rawExpiredBefore?.toISOString() ?? null,
        every_seconds: s.retention.opts.everySeconds,
        last_run: p.lastRun,
        storage: {
          mode: s.analytics.mode,
          tiers:
            s.analytics.mode === 'server' && tiers?.storagePolicy
              ? { storage_policy: tiers.storagePolicy, warm_volume: tiers.warmVolume, cold_volume: tiers.coldVolume, warm_after_days: tiers.warmAfterDays, cold_after_days: tiers.coldAfterDays }
              : null,
        },
      };
    };

    app.get(
      '/api/v1/admin/retention',
      {
        config: { permission: 'admin' },
        schema: {
          tags: ['retention'],
          summary: "The caller's org's data lifecycle: how long raw events, aggregates and user-activity data are kept",
          response: { 200: answer, '4xx': errorSchema },
        },
      },
      async (req) => describe(req.auth!.org),
    );

    app.put<{ Body: Partial<RetentionPolicy> }>(
      '/api/v1/admin/retention',
      {
        config: { permission: 'admin' },
        schema: {
          tags: ['retention'],
          summary: "Sets the caller's org's data lifecycle (any of the three periods; the others stay); audited",
          description:
            'Rollups must outlive raw events: `aggregates_days` and `user_activity_days` at least `raw_events_days` (422 otherwise). A shorter period takes effect at the next expiry run (`every_seconds`, or `POST /api/v1/admin/retention/run`). Raw events already expired do not come back when the period grows.',
          body: { type: 'object', additionalProperties: false, minProperties: 1, properties: policyProps },
          response: { 200: answer, '4xx': errorSchema },
        },
      },
      async (req) => {
        const { org, caller } = req.auth!;
        const before = (await s.retention.policy(org.id)).policy;
        const next: RetentionPolicy = { ...before, ...req.body };
        const problems = retentionProblems(next);
        if (problems.length) throw new HttpError(422, 'invalid_retention', problems.map((p) => `${p.field} ${p.problem}`).join('; '), problems);
        await s.retention.set(org.id, next);
        await s.audit(org, caller, { action: 'retention.update', target: org.slug, before, after: next, ip: req.ip });
        return describe(org);
      },
    );

    app.post(
      '/api/v1/admin/retention/run',
      {
        config: { permission: 'admin' },
        schema: {
          tags: ['retention'],
          summary: "Expires the caller's org's data past its horizons now (the job does it every `every_seconds`); audited",
          response: { 200: expiry, '4xx': errorSchema },
        },
      },
      async (req) => {
        const { org, caller } = req.auth!;
        const r = await s.retention.expireOrg(org);
        await s.audit(org, caller, { action: 'retention.run', target: org.slug, after: { raw_events_deleted: r.raw_events_deleted, rollup_rows_deleted: r.rollup_rows_deleted }, ip: req.ip });
        return r;
      },
    );
  },
};
