import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A fresh PGlite folder runs initdb: ~5 s of CPU, most of a test backend's start. The harness
 * runs it once per PGlite version into a template under the repository's `.tmp/` and copies
 * that (~0.1 s) into each new backend's folder; PGlite opens an existing cluster as it is.
 * Looked up (or made) once per process.
 */
let template: Promise<string> | undefined;
const pgliteTemplate = () => (template ??= makeTemplate());

async function makeTemplate(): Promise<string> {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve('@electric-sql/pglite'));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  const version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version as string;
  const cache = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '.tmp');
  const made = join(cache, `pglite-template-${version}`);
  if (existsSync(join(made, 'PG_VERSION'))) return made;
  mkdirSync(cache, { recursive: true });
  const building = mkdtempSync(join(cache, 'pglite-building-'));
  const { PGlite } = await import('@electric-sql/pglite');
  const pg = new PGlite(building);
  await pg.waitReady;
  await pg.close();
  try {
    renameSync(building, made);
  } catch {
    // another test process made it first: use theirs
    rmSync(building, { recursive: true, force: true });
  }
  return made;
}

/**
 * Gives a platform's data folder (`storage.dataDir`, `ORRERY_DATA_DIR`) an initdb'd embedded
 * PostgreSQL cluster, unless it has one: for tests that start the platform as a process.
 */
export async function seedEmbeddedPostgres(dataDir: string): Promise<void> {
  const pgDir = join(dataDir, 'pg');
  if (!existsSync(pgDir)) cpSync(await pgliteTemplate(), pgDir, { recursive: true });
}
