/**
 * The demo org's named dashboards, so the Dashboards page opens on examples of sharing and
 * templates instead of an empty list: two built-in templates shared read-only with the whole
 * org, owned by the org's first Admin. Written through the plugin's own store, as the create
 * route writes them.
 */
import type { DemoDataDecl } from '@orrery/plugin-sdk';
import { insertNamed } from './namedStore.ts';
import { BUILTIN_TEMPLATES } from './templates.ts';

export const DEMO_DASHBOARDS = [
  { template: 'executive', name: 'Executive overview' },
  { template: 'agent-reliability', name: 'Agent reliability' },
] as const;

export const demoData: DemoDataDecl = {
  description: 'two named dashboards from templates, shared with the org',
  async run(ctx) {
    const admin = (await ctx.directory.members()).filter((m) => m.role === 'Admin').sort((a, b) => a.email.localeCompare(b.email))[0];
    if (!admin) return; // an org without an Admin has nobody to own them
    for (const d of DEMO_DASHBOARDS) {
      const t = BUILTIN_TEMPLATES.find((x) => x.id === d.template)!;
      await insertNamed(ctx.db, admin.id, {
        name: d.name,
        description: t.description,
        share: { scope: 'org', department_id: null, access: 'view' },
        filters: {},
        refresh_seconds: 0,
        template: t.id,
        doc: t.doc,
      });
    }
  },
};
