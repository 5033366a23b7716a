/** With every plugin of the repository loaded, executive starts (no cycle with metrics, which reads its metric source). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';

let backend: TestBackend;
beforeAll(async () => {
  backend = await startTestBackend({ loadPluginFolders: true });
}, 120_000);
afterAll(() => backend?.close());

it('starts beside every plugin of the repository and offers its metric source', async () => {
  const body = (await backend.client.get('/api/v1/plugins', { all: true })).body;
  expect(body.refused ?? []).toEqual([]);
  expect(body.plugins.map((p: any) => p.id)).toEqual(expect.arrayContaining(['executive', 'metrics', 'alerts']));
  const read = await backend.client.post('/api/v1/metrics/query', { source: 'executive', metric: 'projected_month_spend_usd', from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date().toISOString() });
  expect(read.status, JSON.stringify(read.body)).toBe(200);
  expect(read.body.series[0].total).toBe(0);
  // without the trends plugin installed, a forecast says why instead of failing
  const f = await backend.client.get('/api/v1/executive/forecast');
  expect([200, 424]).toContain(f.status);
  if (f.status === 424) expect(f.body.error.code).toBe('trends_unavailable');
});
