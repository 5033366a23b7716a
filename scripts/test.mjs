#!/usr/bin/env node
/**
 * `npm test`: every test, on the embedded stores. Installs Debian's chromium
 * for the browser tests when it is missing (never a downloaded browser), builds
 * the portal they load, runs vitest, and ends with one summary line.
 *
 *   npm test                       # everything
 *   npm test -- core/test          # a subset (any vitest filters)
 *   ORRERY_TEST_DATABASE_URL=postgres://… ORRERY_TEST_REDIS_URL=redis://… npm test -- core/test
 *                                  # the same tests against real PostgreSQL / Redis
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const run = (cmd, argv, env = {}) => spawnSync(cmd, argv, { stdio: 'inherit', cwd: root, env: { ...process.env, ...env } });

const CHROMIUM = '/usr/bin/chromium';
let browser = args.length === 0 || args.some((a) => a.includes('tests/browser'));
// the exports plugin's PDF tests read what they render with poppler (pdftotext, pdftoppm)
if (!existsSync('/usr/bin/pdftotext') && process.getuid?.() === 0) {
  console.log('test: installing Debian poppler-utils for the PDF tests…');
  run('apt-get', ['install', '-y', '-qq', 'poppler-utils'], { DEBIAN_FRONTEND: 'noninteractive' });
}
if (browser && !existsSync(CHROMIUM)) {
  if (process.getuid?.() === 0) {
    console.log('test: installing Debian chromium for the browser tests…');
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', 'chromium'], { DEBIAN_FRONTEND: 'noninteractive' });
  }
  if (!existsSync(CHROMIUM)) {
    console.log(`test: ${CHROMIUM} is missing and could not be installed: browser tests are skipped (apt-get install -y chromium)`);
    browser = false;
  }
}
if (browser && existsSync(join(root, 'scripts', 'build-ui.mjs'))) {
  const b = run(process.execPath, [join(root, 'scripts', 'build-ui.mjs')]);
  if (b.status !== 0) process.exit(b.status ?? 1);
}

mkdirSync(join(root, '.tmp'), { recursive: true });
const report = join(root, '.tmp', 'vitest-report.json');
const r = run(
  process.execPath,
  [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args],
  browser ? { ORRERY_TEST_BROWSER: '1' } : {},
);
if (existsSync(report)) {
  const j = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  console.log(`\ntests: ${j.numPassedTests} passed, ${j.numFailedTests} failed, ${skipped} skipped`);
}
process.exit(r.status ?? 1);
