import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePlugin } from '@orrery/plugin-sdk';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';

/**
 * `ctx.records`: the org's audit log and every plugin's stored settings, read only, for the
 * org's Admins and for jobs. Compared with the kernel's own audit route and the settings each
 * plugin stored through `ctx.settings`; another org's records never appear; a Manager is refused.
 */
const reader = definePlugin({
  id: 'records-reader',
  version: '1.0.0',
  sdk: '^2.0.0',
  title: 'Records reader',
  description: 'Reads the org records (test fixture)',
  routePrefix: 'records-reader',
  permissions: { 'records.read': ['Admin', 'Manager'] },
  register(env) {
    env.route<{ after?: string; limit?: string }>({
      method: 'GET',
      path: '/audit',
      permission: 'records.read',
      summary: 'the audit log through ctx.records',
      async handler(req, ctx) {
        return { entries: await ctx.records!.auditLog({ ...(req.query.after ? { afterId: Number(req.query.after) } : {}), ...(req.query.limit ? { limit: Number(req.query.limit) } : {}) }) };
      },
    });
    env.route({
      method: 'GET',
      path: '/settings',
      permission: 'records.read',
      summary: 'every plugin settings through ctx.records',
      async handler(_req, ctx) {
        return { settings: await ctx.records!.pluginSettings() };
      },
    });
    env.route<unknown, unknown, Record<string, unknown>>({
      method: 'PUT',
      path: '/mine',
      permission: 'records.read',
      summary: 'stores this plugin settings',
      async handler(req, ctx) {
        await ctx.settings.set(req.body);
        await ctx.audit({ action: 'mine.set', target: 'settings', after: req.body });
        return { ok: true };
      },
    });
  },
});

describe('kernel: ctx.records (audit log and plugin settings for the org archive)', () => {
  let b: TestBackend;
  let other: TestOrg;

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [reader] });
    other = await b.createOrg('records-other');
    for (let i = 0; i < 7; i++) expect((await b.client.put('/api/v1/records-reader/mine', { round: i, text: `say "hi" ${'日本'.repeat(i)}` })).status).toBe(200);
    expect((await other.client.put('/api/v1/records-reader/mine', { round: 'other-org' })).status).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await b?.close();
  });

  it("reads the org's audit log oldest first, page by page, as the kernel's own route lists it", async () => {
    const listed = (await b.client.get('/api/v1/audit', { limit: 1000 })).body.entries as Array<Record<string, unknown>>;
    const pages: Array<Record<string, unknown>> = [];
    let after: number | undefined;
    for (;;) {
      const page = (await b.client.get('/api/v1/records-reader/audit', { limit: '3', ...(after ? { after: String(after) } : {}) })).body.entries as Array<{ id: number }>;
      pages.push(...page);
      if (page.length < 3) break;
      after = page[page.length - 1]!.id;
    }
    const last = Math.max(...pages.map((e) => Number(e.id)));
    const expected = listed.filter((e) => Number(e.id) <= last).reverse();
    expect(pages.length).toBeGreaterThanOrEqual(7);
    expect(pages.map((e) => [e.id, e.at, e.action, e.target, e.actor_email, e.after])).toEqual(expected.map((e) => [e.id, e.at, e.action, e.target, e.actor_email, e.after]));
    expect(pages.filter((e) => e.action === 'records-reader.mine.set').map((e) => (e.after as { round: number }).round)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(JSON.stringify(pages)).not.toContain('other-org');
  });

  it('reads every plugin settings of the org, and only its own', async () => {
    const mine = (await b.client.get('/api/v1/records-reader/settings')).body.settings as Array<{ plugin: string; enabled: boolean; settings: unknown }>;
    expect(mine).toContainEqual(expect.objectContaining({ plugin: 'records-reader', enabled: true, settings: { round: 6, text: `say "hi" ${'日本'.repeat(6)}` } }));
    const theirs = (await other.client.get('/api/v1/records-reader/settings')).body.settings as Array<{ plugin: string; settings: unknown }>;
    expect(theirs.find((s) => s.plugin === 'records-reader')!.settings).toEqual({ round: 'other-org' });
    expect(JSON.stringify(mine)).not.toContain('other-org');
  });

  it('refuses anyone but an Admin with a 403', async () => {
    const manager = await b.org.addUser({ email: 'records-mgr@test-org.local', role: 'Manager' });
    for (const path of ['/api/v1/records-reader/audit', '/api/v1/records-reader/settings']) {
      const res = await manager.get(path);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
  });
});
