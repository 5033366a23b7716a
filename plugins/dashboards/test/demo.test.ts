/**
 * The demo org's named dashboards (`env.onDemoData`): made from the built-in templates, owned
 * by the org's Admin and shared read-only with everyone in that org, and nobody else's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import dashboards from '../backend/index.ts';
import { DEMO_DASHBOARDS } from '../backend/demo.ts';
import { BUILTIN_TEMPLATES } from '../backend/templates.ts';

describe('dashboards: the demo examples', () => {
  let b: TestBackend;
  beforeAll(async () => {
    b = await startTestBackend({ plugins: [dashboards] });
  }, 120_000);
  afterAll(() => b?.close());

  it('shares the templates with the whole org, read-only, owned by its Admin', async () => {
    const other = await b.createOrg('demo-dash-other');
    const dev = await b.org.addUser({ email: 'dev@demo-dash.local', role: 'Developer' });
    const seeded = await b.seedDemoData({ from: new Date(Date.now() - 7 * 86_400_000), to: new Date() });
    expect(seeded).toEqual([{ plugin: 'dashboards', description: expect.stringMatching(/named dashboards/), ok: true }]);

    const admin = (await b.client.get('/api/v1/me')).body.user.id;
    const mine = await dev.get('/api/v1/dashboards');
    expect(mine.status, mine.text).toBe(200);
    expect(mine.body.dashboards.map((d: any) => d.name).sort()).toEqual(DEMO_DASHBOARDS.map((d) => d.name).sort());
    for (const d of mine.body.dashboards) {
      const want = DEMO_DASHBOARDS.find((x) => x.name === d.name)!;
      expect(d).toMatchObject({ owner_id: admin, share: { scope: 'org', department_id: null, access: 'view' }, template: want.template, can_edit: false, is_owner: false });
      const full = await dev.get(`/api/v1/dashboards/${d.id}`);
      expect(full.body.doc.items.map((i: any) => i.ref)).toEqual((BUILTIN_TEMPLATES.find((t) => t.id === want.template)!.doc.items as Array<{ ref: string }>).map((i) => i.ref));
      // read-only for the Developer; the other org does not see it at all
      expect((await dev.put(`/api/v1/dashboards/${d.id}`, { name: 'mine now' })).status).toBe(403);
      expect((await other.client.get(`/api/v1/dashboards/${d.id}`)).status).toBe(404);
    }
    expect((await other.client.get('/api/v1/dashboards')).body.dashboards).toEqual([]);
  });
});
