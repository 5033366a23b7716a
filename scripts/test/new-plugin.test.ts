import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { describe, it, expect, afterAll } from 'vitest';
import { scaffoldPlugin } from '../new-plugin.ts';

const repo = resolve(import.meta.dirname, '..', '..');

describe('npm run new-plugin', () => {
  const dir = mkdtempSync(join(repo, '.tmp-scaffold-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('scaffolds a plugin whose own test passes and whose widget builds as a remote', async () => {
    const plugin = scaffoldPlugin('sample-notes', dir);
    for (const f of ['package.json', 'widgets.ts', 'backend/index.ts', 'frontend/rspack.config.mjs', 'frontend/src/Notes.tsx', 'test/sample-notes.test.ts', 'README.md']) {
      expect(existsSync(join(plugin, f)), f).toBe(true);
    }
    const decl = (await import(pathToFileURL(join(plugin, 'backend/index.ts')).href)).default;
    expect(decl.id).toBe('sample-notes');
    expect(decl.frontend.widgets[0].id).toBe('notes');

    // the generated test, run as its author would run it
    const test = spawnSync(process.execPath, [join(repo, 'node_modules/vitest/vitest.mjs'), 'run', '--root', repo, plugin], { cwd: repo, encoding: 'utf8', env: { ...process.env, ORRERY_TEST_DATABASE_URL: '', ORRERY_TEST_REDIS_URL: '' } });
    expect(test.stdout + test.stderr).toMatch(/3 passed/);
    expect(test.status).toBe(0);

    // the widget builds as a federated remote with the shared recipe
    const build = spawnSync(process.execPath, ['-e', `
      const { rspack } = await import('@rspack/core');
      const config = (await import(${JSON.stringify(pathToFileURL(join(plugin, 'frontend/rspack.config.mjs')).href)})).default;
      rspack(config).run((err, stats) => { if (err || stats.hasErrors()) { console.error(err ?? stats.toString({ all: false, errors: true })); process.exit(1); } });
    `, '--input-type=module'], { cwd: repo, encoding: 'utf8' });
    expect(build.stderr).toBe('');
    expect(build.status).toBe(0);
    expect(existsSync(join(plugin, 'frontend/dist/remoteEntry.js'))).toBe(true);
    // the list the portal preloads from: the widget's module file, which the build wrote
    const assets = JSON.parse(readFileSync(join(plugin, 'frontend/dist/widget-assets.json'), 'utf8'));
    expect(assets.notes.length).toBeGreaterThan(0);
    for (const f of assets.notes) expect(existsSync(join(plugin, 'frontend/dist', f)), f).toBe(true);
  }, 180_000);
});
