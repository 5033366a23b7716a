#!/usr/bin/env node
/**
 * Builds the portal (host-ui) and every plugin remote (plugins/<id>/frontend with an
 * rspack.config.mjs). A target whose output is newer than all of its inputs is skipped, so
 * `npm start` after the first time costs milliseconds. Targets build one after another:
 * rspack already uses every core, and two at once only make both slower on small machines.
 *
 *   node scripts/build-ui.mjs            build what is stale
 *   node scripts/build-ui.mjs --force    build everything
 *   node scripts/build-ui.mjs host-ui dashboards   only these targets
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, gzipSync, constants as zlib } from 'node:zlib';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const force = args.includes('--force');
const only = args.filter((a) => !a.startsWith('--'));

/** Inputs every target depends on: the shared build recipe and the frontend SDK. */
const SHARED_INPUTS = [join(ROOT, 'plugin-sdk/build'), join(ROOT, 'plugin-sdk/src/frontend'), join(ROOT, 'plugin-sdk/src/version.ts'), join(ROOT, 'package-lock.json')];

function targets() {
  const list = [{ name: 'host-ui', dir: join(ROOT, 'host-ui'), config: join(ROOT, 'host-ui/rspack.config.mjs'), output: join(ROOT, 'host-ui/dist/index.html'), inputs: [join(ROOT, 'host-ui/src'), join(ROOT, 'host-ui/rspack.config.mjs'), join(ROOT, 'host-ui/package.json')] }];
  const pluginsDir = join(ROOT, 'plugins');
  for (const id of existsSync(pluginsDir) ? readdirSync(pluginsDir).sort() : []) {
    const fe = join(pluginsDir, id, 'frontend');
    const config = join(fe, 'rspack.config.mjs');
    if (!existsSync(config)) continue;
    list.push({ name: id, dir: fe, config, output: join(fe, 'dist/remoteEntry.js'), inputs: [join(fe, 'src'), config, join(pluginsDir, id, 'package.json'), join(pluginsDir, id, 'widgets.ts')].filter((p) => existsSync(p)) });
  }
  return list;
}

/** Newest modification time under a path (files and folders, recursively; dist and node_modules skipped). */
function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of readdirSync(path)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    max = Math.max(max, newest(join(path, name)));
  }
  return max;
}

/**
 * Writes .br and .gz beside every text asset, once per build, so the server sends
 * compressed files without compressing per request (plotly alone is megabytes).
 */
function precompress(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      precompress(path);
      continue;
    }
    if (!/\.(js|css|html|json|svg)$/.test(name) || statSync(path).size < 1024) continue;
    const body = readFileSync(path);
    writeFileSync(`${path}.gz`, gzipSync(body, { level: 9 }));
    writeFileSync(`${path}.br`, brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 9, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length } }));
  }
}

async function build(t) {
  const { rspack } = await import('@rspack/core');
  const config = (await import(pathToFileURL(t.config).href)).default;
  const started = Date.now();
  await new Promise((resolve, reject) => {
    rspack(config).run((err, stats) => {
      if (err) return reject(err);
      if (stats?.hasErrors()) {
        return reject(new Error(stats.toString({ all: false, errors: true, colors: false })));
      }
      if (stats?.hasWarnings() && process.env.ORRERY_BUILD_VERBOSE) console.warn(stats.toString({ all: false, warnings: true }));
      resolve(undefined);
    });
  });
  return Date.now() - started;
}

const shared = Math.max(...SHARED_INPUTS.map(newest));
let failed = 0;
for (const t of targets()) {
  if (only.length && !only.includes(t.name)) continue;
  const out = existsSync(t.output) ? statSync(t.output).mtimeMs : 0;
  const src = Math.max(shared, ...t.inputs.map(newest));
  if (!force && out > src) {
    console.log(`ui: ${t.name} is up to date`);
    continue;
  }
  try {
    const ms = await build(t);
    precompress(dirname(t.output));
    console.log(`ui: built ${t.name} in ${(ms / 1000).toFixed(1)} s → ${relative(ROOT, dirname(t.output))}`);
  } catch (e) {
    failed++;
    console.error(`ui: building ${t.name} failed:\n${e instanceof Error ? e.message : e}`);
  }
}
if (failed) process.exit(1);
