import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, brotliDecompressSync } from 'node:zlib';
import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { definePlugin } from '@orrery/plugin-sdk';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';

// A plugin remote as scripts/build-ui.mjs leaves it: the entry and a hashed chunk, each with .br and .gz.
const root = mkdtempSync(join(tmpdir(), 'orrery-remote-'));
const dist = join(root, 'frontend', 'dist');
mkdirSync(dist, { recursive: true });
const entry = `var remote = ${JSON.stringify('x'.repeat(4000))};`;
for (const [name, body] of [['remoteEntry.js', entry], ['123.abcd1234.js', 'console.log(1)'.repeat(300)]] as const) {
  writeFileSync(join(dist, name), body);
  writeFileSync(join(dist, `${name}.br`), brotliCompressSync(body));
  writeFileSync(join(dist, `${name}.gz`), gzipSync(body));
}
// what the remote build lists for the portal: the files widget `w` needs
writeFileSync(join(dist, 'widget-assets.json'), JSON.stringify({ w: ['123.abcd1234.js'] }));

const withRemote = { ...definePlugin({
  id: 'remote-demo',
  version: '1.2.3',
  sdk: '^2.0.0',
  title: 'Remote demo',
  description: 'a plugin with a built frontend remote',
  routePrefix: 'remote-demo',
  permissions: { 'remote-demo.read': ['Admin'] },
  frontend: { remoteName: 'remote_demo', distDir: './frontend/dist', widgets: [{ id: 'w', title: 'W', description: 'a widget', defaultSize: 'S', roles: ['Admin'] }] },
  register() {},
}), root };

describe('plugin remotes', () => {
  let b: TestBackend;
  beforeAll(async () => {
    b = await startTestBackend({ plugins: [withRemote] });
  });
  afterAll(async () => {
    await b.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('lists the remote in the manifest and serves it compressed, the entry uncached and chunks immutable, without a token', async () => {
    const manifest = (await b.client.get('/api/v1/plugins')).body.plugins[0];
    expect(manifest.remote).toEqual({ name: 'remote_demo', entry: '/plugins/remote-demo/remoteEntry.js', widgetAssets: { w: ['/plugins/remote-demo/123.abcd1234.js'] } });
    expect(manifest.widgets.map((w: any) => w.id)).toEqual(['w']);
    const e = await b.kernel.app.inject({ url: manifest.remote.entry, headers: { 'accept-encoding': 'br' } });
    expect(e.statusCode).toBe(200);
    expect(e.headers['content-encoding']).toBe('br');
    expect(e.headers['cache-control']).toBe('no-cache');
    expect(brotliDecompressSync(e.rawPayload).toString()).toBe(entry);
    const chunk = await b.kernel.app.inject({ url: '/plugins/remote-demo/123.abcd1234.js' });
    expect(chunk.statusCode).toBe(200);
    expect(chunk.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(chunk.headers['server-timing']).toMatch(/^app;dur=\d/);
    expect((await b.kernel.app.inject({ url: '/plugins/remote-demo/../../package.json' })).statusCode).toBe(404);
  });
});
