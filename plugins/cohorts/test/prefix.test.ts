import { describe, it, expect, afterAll } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';

describe('GET /api/v1/users/cohorts beside user-activity', () => {
  let backend: TestBackend | undefined;
  afterAll(() => backend?.close());

  it('mounts next to the `users` prefix and the kernel routes without taking theirs', async () => {
    backend = await startTestBackend({ loadPluginFolders: true, onlyPlugins: ['user-activity', 'cohorts'] });
    const made = await backend.client.post('/api/v1/cohorts', { name: 'beside', kind: 'static', user_ids: ['a'] });
    expect(made.status, made.text).toBe(200);
    const list = await backend.client.get('/api/v1/users/cohorts');
    expect(list.status, list.text).toBe(200);
    expect(list.body.cohorts.map((c: { name: string }) => c.name)).toEqual(['beside']);
    // user-activity's own routes under /api/v1/users still answer
    expect((await backend.client.get('/api/v1/users/activity')).status).toBe(200);
    const docs = await backend.client.get('/api/docs/json');
    expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/api/v1/users/cohorts', '/api/v1/cohorts/retention', '/api/v1/users/activity']));
    const plugins = await backend.client.get('/api/v1/plugins');
    const mine = (plugins.body.plugins ?? plugins.body).find((p: { id: string }) => p.id === 'cohorts');
    expect(mine.widgets.map((w: { id: string }) => w.id)).toEqual(expect.arrayContaining(['retention-table', 'retention-trend', 'at-risk', 'cohort-sizes', 'retention-curves']));
  }, 60_000);
});
