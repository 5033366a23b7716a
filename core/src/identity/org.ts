import type { FastifyInstance } from 'fastify';
import { HttpError, type Org } from '@orrery/plugin-sdk';
import type { Internals } from '../internals.ts';
import { ctx, errors, iso, who } from './common.ts';
import { tierNames } from './ratelimit.ts';

/** The kernel services this module uses (a part of the container, not all of it). */
export type OrgDeletionDeps = Pick<Internals, 'analytics' | 'audit' | 'config' | 'invalidateAuth' | 'knex' | 'orgService'>;

/** Org settings an Admin may change, with their JSON schema (unknown keys are refused). */
const SETTINGS = {
  'notifications.slack_webhook_url': { type: 'string', maxLength: 500, pattern: '^(https?://.+)?$' },
  'notifications.webhook_url': { type: 'string', maxLength: 500, pattern: '^(https?://.+)?$' },
  'display.timezone': { type: 'string', maxLength: 64, description: 'IANA zone the portal defaults to' },
  'display.week_start': { type: 'string', enum: ['monday', 'sunday'] },
} as const;

const orgView = {
  type: 'object',
  properties: { id: { type: 'string' }, slug: { type: 'string' }, name: { type: 'string' }, tier: { type: 'string' }, created_at: { type: ['string', 'null'] } },
} as const;

/**
 * Deletes an org at once (the PRD allows no grace period): a record in the
 * platform audit first, so the deletion itself outlives the org; then the
 * ClickHouse rows, the schema, and the catalogue rows (cascading to
 * memberships, tokens, invitations, plugin settings).
 */
export async function deleteOrg(s: OrgDeletionDeps, org: Org, actor: string, ip: string | null) {
  const counts = await s.knex.withSchema('public').table('memberships').where({ org_id: org.id }).count<{ n: string }[]>({ n: '*' });
  await s.knex.withSchema('public').table('platform_audit').insert({
    actor,
    action: 'org.delete',
    target: org.slug,
    detail: JSON.stringify({ org_id: org.id, name: org.name, schema: org.schema, members: Number(counts[0]?.n ?? 0), ip }),
  });
  const tables = await deleteAnalytics(s, org.id);
  const members = (await s.knex.withSchema('public').table('memberships').where({ org_id: org.id }).select('user_id')).map((r: any) => r.user_id as string);
  await s.knex.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [org.schema]);
  await s.knex.withSchema('public').table('job_runs').where({ org_id: org.id }).delete();
  await s.knex.withSchema('public').table('orgs').where({ id: org.id }).delete();
  // identities that belonged to this org only have nothing left to sign in to: remove them too
  if (members.length) {
    const still = new Set(
      (await s.knex.withSchema('public').table('memberships').whereIn('user_id', members).distinct('user_id')).map((r: any) => r.user_id as string),
    );
    const orphans = members.filter((u) => !still.has(u));
    if (orphans.length) await s.knex.withSchema('public').table('users').whereIn('id', orphans).delete();
  }
  s.invalidateAuth(org.id);
  return { analytics_tables: tables };
}

/** Deletes the org's rows from every ClickHouse table that has an org_id column (events, plugins' rollups). */
async function deleteAnalytics(s: OrgDeletionDeps, orgId: string) {
  const a = s.analytics;
  const rs = await a.client.query({
    query: `SELECT table, engine FROM system.columns JOIN system.tables USING (database, table)
            WHERE database = {db:String} AND name = 'org_id' AND engine LIKE '%MergeTree%'`,
    query_params: { db: a.database },
    format: 'JSONEachRow',
  });
  const tables = (await rs.json()) as Array<{ table: string; engine: string }>;
  const onCluster = a.cluster ? ` ON CLUSTER ${a.cluster}` : '';
  for (const t of tables) {
    // a mutation that waits (mutations_sync) so that "deleted" means gone when the call returns
    await a.client.command({
      query: `ALTER TABLE ${a.database}.\`${t.table}\`${onCluster} DELETE WHERE toString(org_id) = {org:String}`,
      query_params: { org: orgId },
      clickhouse_settings: { mutations_sync: '2' },
    });
  }
  return tables.map((t) => t.table);
}

export function orgRoutes(app: FastifyInstance, s: OrgDeletionDeps) {
  const readOrg = async (id: string) => {
    const r = await s.knex.withSchema('public').table('orgs').where({ id }).first();
    return { id: r.id, slug: r.slug, name: r.name, tier: r.tier, created_at: iso(r.created_at) };
  };

  app.get(
    '/api/v1/org',
    {
      config: { permission: 'authenticated' },
      schema: { tags: ['orgs'], summary: "The caller's organization", description: who('authenticated'), response: { 200: orgView, ...errors } },
    },
    async (req) => readOrg(ctx(req).org.id),
  );

  app.patch<{ Body: { name: string } }>(
    '/api/v1/org',
    {
      config: { permission: 'admin' },
      schema: {
        tags: ['orgs'],
        summary: 'Rename the organization',
        description: who('admin'),
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 200 } } },
        response: { 200: orgView, ...errors },
      },
    },
    async (req) => {
      const { org, caller } = ctx(req);
      await s.knex.withSchema('public').table('orgs').where({ id: org.id }).update({ name: req.body.name });
      s.invalidateAuth(org.id);
      await s.audit(org, caller, { action: 'org.rename', target: org.id, before: { name: org.name }, after: { name: req.body.name }, ip: req.ip });
      return readOrg(org.id);
    },
  );

  app.get(
    '/api/v1/org/settings',
    {
      config: { permission: 'admin' },
      schema: {
        tags: ['orgs'],
        summary: "The org's settings, its rate-limit tier and its restricted departments",
        description: who('admin'),
        response: {
          200: {
            type: 'object',
            properties: {
              settings: { type: 'object', properties: SETTINGS },
              rate_limit_tier: { type: 'string' },
              restricted_departments: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } } },
            },
          },
          ...errors,
        },
      },
    },
    async (req) => {
      const { org } = ctx(req);
      const rows = await s.knex.withSchema(org.schema).table('org_settings').whereIn('key', Object.keys(SETTINGS));
      const settings = Object.fromEntries(rows.map((r: any) => [r.key, r.value]));
      const restricted = await s.knex.withSchema(org.schema).table('departments').where({ restricted: true }).select('id', 'name').orderBy('name');
      return { settings, rate_limit_tier: (await readOrg(org.id)).tier, restricted_departments: restricted };
    },
  );

  app.put<{ Body: Record<string, unknown> }>(
    '/api/v1/org/settings',
    {
      config: { permission: 'admin' },
      schema: {
        tags: ['orgs'],
        summary: 'Change org settings (only the keys sent; an empty string clears a webhook)',
        description: who('admin', 'Department restriction is set per department with PATCH /api/v1/departments/{id}.'),
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: SETTINGS },
        response: { 200: { type: 'object', properties: { settings: { type: 'object', properties: SETTINGS } } }, ...errors },
      },
    },
    async (req) => {
      const { org, caller } = ctx(req);
      const keys = Object.keys(req.body);
      const before = Object.fromEntries((await s.knex.withSchema(org.schema).table('org_settings').whereIn('key', keys)).map((r: any) => [r.key, r.value]));
      for (const [key, value] of Object.entries(req.body)) {
        await s.knex
          .withSchema(org.schema)
          .table('org_settings')
          .insert({ key, value: JSON.stringify(value) })
          .onConflict('key')
          .merge({ value: JSON.stringify(value), updated_at: new Date() });
      }
      await s.audit(org, caller, { action: 'settings.change', target: keys.join(','), before, after: req.body, ip: req.ip });
      const rows = await s.knex.withSchema(org.schema).table('org_settings').whereIn('key', Object.keys(SETTINGS));
      return { settings: Object.fromEntries(rows.map((r: any) => [r.key, r.value])) };
    },
  );

  app.delete<{ Body: { confirm_slug: string } }>(
    '/api/v1/org',
    {
      config: { permission: 'admin' },
      schema: {
        tags: ['orgs'],
        summary: "Delete the caller's organization now: its schema, its events, its members' access",
        description: who('admin', 'There is no grace period. `confirm_slug` must repeat the org slug. A record is kept in the platform audit.'),
        body: { type: 'object', required: ['confirm_slug'], additionalProperties: false, properties: { confirm_slug: { type: 'string', maxLength: 63 } } },
        response: { 200: { type: 'object', properties: { deleted: { type: 'string' }, analytics_tables: { type: 'array', items: { type: 'string' } } } }, ...errors },
      },
    },
    async (req) => {
      const { org, caller } = ctx(req);
      if (req.body.confirm_slug !== org.slug) throw new HttpError(400, 'confirmation_mismatch', 'confirm_slug must be the slug of your organization', { field: 'confirm_slug' });
      const r = await deleteOrg(s, org, caller.email, req.ip);
      return { deleted: org.slug, ...r };
    },
  );

  // ---- platform operators ----

  app.get(
    '/api/v1/orgs',
    {
      config: { permission: 'operator' },
      schema: {
        tags: ['orgs'],
        summary: 'Every organization on the platform',
        description: who('operator'),
        response: { 200: { type: 'object', properties: { orgs: { type: 'array', items: orgView } } }, ...errors },
      },
    },
    async () => {
      const rows = await s.knex.withSchema('public').table('orgs').orderBy('created_at');
      return { orgs: rows.map((r: any) => ({ id: r.id, slug: r.slug, name: r.name, tier: r.tier, created_at: iso(r.created_at) })) };
    },
  );

  app.put<{ Params: { slug: string }; Body: { tier: string } }>(
    '/api/v1/orgs/:slug/tier',
    {
      config: { permission: 'operator' },
      schema: {
        tags: ['orgs'],
        summary: "Put an org on a rate-limit tier (e.g. the PRD's `strict` preset)",
        description: who('operator'),
        params: { type: 'object', required: ['slug'], properties: { slug: { type: 'string', maxLength: 63 } } },
        body: { type: 'object', required: ['tier'], additionalProperties: false, properties: { tier: { type: 'string', maxLength: 40 } } },
        response: { 200: orgView, ...errors },
      },
    },
    async (req) => {
      const { caller } = ctx(req);
      const target = await s.orgService.bySlug(req.params.slug);
      if (!target) throw new HttpError(404, 'not_found', `no organization ${req.params.slug}`);
      const tiers = tierNames(s.config);
      if (!tiers.includes(req.body.tier)) throw new HttpError(400, 'unknown_tier', `tier must be one of ${tiers.join(', ')}`, { field: 'tier', tiers });
      const before = await readOrg(target.id);
      await s.knex.withSchema('public').table('orgs').where({ id: target.id }).update({ tier: req.body.tier });
      s.invalidateAuth(target.id);
      await s.knex.withSchema('public').table('platform_audit').insert({ actor: caller.email, action: 'org.tier', target: target.slug, detail: JSON.stringify({ before: before.tier, after: req.body.tier }) });
      await s.audit(target, null, { action: 'org.tier', target: target.id, before: { tier: before.tier }, after: { tier: req.body.tier }, ip: req.ip });
      return readOrg(target.id);
    },
  );

  app.delete<{ Params: { slug: string } }>(
    '/api/v1/orgs/:slug',
    {
      config: { permission: 'operator' },
      schema: {
        tags: ['orgs'],
        summary: 'Delete an organization now (platform operators)',
        description: who('operator'),
        params: { type: 'object', required: ['slug'], properties: { slug: { type: 'string', maxLength: 63 } } },
        response: { 200: { type: 'object', properties: { deleted: { type: 'string' }, analytics_tables: { type: 'array', items: { type: 'string' } } } }, ...errors },
      },
    },
    async (req) => {
      const target = await s.orgService.bySlug(req.params.slug);
      if (!target) throw new HttpError(404, 'not_found', `no organization ${req.params.slug}`);
      if (target.id === ctx(req).org.id) throw new HttpError(409, 'conflict', 'delete your own organization with DELETE /api/v1/org');
      return { deleted: target.slug, ...(await deleteOrg(s, target, ctx(req).caller.email, req.ip)) };
    },
  );
}
