#!/usr/bin/env node
/**
 * `npm start`: build the portal and plugin widgets if their sources changed
 * (skipped in a second when nothing did), then start the platform in this
 * process so signals reach it directly.
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildUi = join(root, 'scripts', 'build-ui.mjs');
if (existsSync(buildUi) && process.env.ORRERY_SKIP_UI_BUILD !== 'true') {
  const r = spawnSync(process.execPath, [buildUi], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    console.error('orrery: the portal build failed (see above); starting the API anyway');
  }
}
const { register } = await import('tsx/esm/api');
register();
process.chdir(root);
await import(join(root, 'core', 'src', 'main.ts'));
