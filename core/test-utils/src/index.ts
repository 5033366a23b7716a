/**
 * The plugin test harness: starts the kernel on embedded stores in a temp
 * folder (or on the machine's PostgreSQL / Redis when the test env names
 * them), loads the plugins under test, and hands the test authenticated
 * clients. First-party plugins are tested with exactly this.
 *
 *   const backend = await startTestBackend({ plugins: [myPlugin] });
 *   const res = await backend.client.get('/api/v1/my-prefix');
 *   await backend.close();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { PluginDeclaration, Role } from '@orrery/plugin-sdk';
import { createKernel } from '@orrery/core';
import { validateConfig } from '@orrery/config';
import { seedEmbeddedPostgres } from './pglite.ts';

export { rng } from './random.ts';
export { freePort } from './net.ts';
export { seedEmbeddedPostgres } from './pglite.ts';

export interface TestResponse<T = any> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface TestClient {
  token: string;
  get<T = any>(path: string, query?: Record<string, unknown>, opts?: { headers?: Record<string, string> }): Promise<TestResponse<T>>;
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse<T>>;
  put<T = any>(path: string, body?: unknown): Promise<TestResponse<T>>;
  patch<T = any>(path: string, body?: unknown): Promise<TestResponse<T>>;
  delete<T = any>(path: string): Promise<TestResponse<T>>;
}

export interface TestOrg {
  id: string;
  slug: string;
  schema: string;
  /** a client logged in as the org's Admin */
  client: TestClient;
  adminEmail: string;
  /** creates a hook token (for POST /api/v1/events) owned by the Admin */
  hookToken(): Promise<string>;
  /** creates a member (and departments by name, as needed) and returns a client logged in as them */
  addUser(input: { email: string; role: Role; displayName?: string; departments?: Array<string | { name: string; manager?: boolean }>; restricted?: string[] }): Promise<TestClient & { userId: string }>;
  /** writes rows straight into the events table for this org (fixtures; bypasses ingestion) */
  insertEvents(rows: Array<Record<string, unknown>>): Promise<void>;
  /** department name → id for departments created by addUser */
  departments: Map<string, string>;
}

export interface TestBackend {
  /** the default org, made at start */
  org: TestOrg;
  /** shorthand for org.client */
  client: TestClient;
  /** http://host:port when started with `listen: true` */
  url: string | null;
  /** the kernel (its services are internal; use with care in kernel tests) */
  kernel: any;
  /** log lines written so far (JSON), for asserting that secrets never appear */
  logs: string[];
  createOrg(slug: string): Promise<TestOrg>;
  /** runs a plugin job now for every org, as the scheduler would */
  runJob(pluginId: string, job: string): Promise<Record<string, unknown>>;
  /** folds every declared rollup now, as the kernel's job would (the watermark moves to now − grace) */
  foldRollups(): Promise<Array<{ plugin: string; rollup: string; rows: number; from_ms: number; to_ms: number }>>;
  /** runs the plugins' demo data seeders (`env.onDemoData`) for an org (default: the default org), as a first `npm start` does after its demo events */
  seedDemoData(span: { from: Date; to: Date }, orgSlug?: string): Promise<Array<{ plugin: string; description: string; ok: boolean }>>;
  /** stops the kernel and (with keepData false, the default) removes its data */
  close(opts?: { keepData?: boolean }): Promise<void>;
  dataDir: string;
  /** the config the kernel runs with (restart tests pass storage back in) */
  config: any;
}

export interface StartOptions {
  /** plugin declarations to load */
  plugins?: PluginDeclaration<any>[];
  /** also load the repository's plugins/* folders (default false) */
  loadPluginFolders?: boolean;
  /** only these plugin ids from the folders */
  onlyPlugins?: string[];
  /** listen on a port (needed for socket.io and real HTTP clients); default false (inject) */
  listen?: boolean;
  /** reuse an existing data dir (restart tests) */
  dataDir?: string;
  /** deep-merged over the defaults (e.g. { plugins: { 'my-plugin': {...} } }) */
  config?: Record<string, unknown>;
  /** use the real servers named by ORRERY_TEST_DATABASE_URL / ORRERY_TEST_REDIS_URL (default: when set) */
  realServers?: boolean;
  /** extra kernel modules (kernel tests) */
  modules?: unknown[];
  /** run plugin jobs on their schedules when listening (default false: call runJob) */
  scheduleJobs?: boolean;
}

// chDB binds one data folder per process (STACK.md), so every backend in this
// process shares one folder and gets its own database inside it.
let chdbFolder: string | null = null;
const processChdb = () => (chdbFolder ??= mkdtempSync(join(tmpdir(), 'orrery-chdb-')));

const ADMIN_PASSWORD = 'Test-password-0rrery!';

export async function startTestBackend(opts: StartOptions = {}): Promise<TestBackend> {
  const suffix = randomBytes(4).toString('hex');
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'orrery-test-'));
  const useReal = opts.realServers ?? !!(process.env.ORRERY_TEST_DATABASE_URL || process.env.ORRERY_TEST_REDIS_URL);
  const cleanups: Array<() => Promise<void>> = [];

  let databaseUrl = '';
  const givenUrl = (opts.config as any)?.storage?.databaseUrl as string | undefined;
  if (givenUrl) {
    // a restart on a database an earlier backend made: drop it when this one closes
    const name = new URL(givenUrl).pathname.slice(1);
    if (name.startsWith('orrery_t_') && process.env.ORRERY_TEST_DATABASE_URL) cleanups.push(() => dropTestDatabase(process.env.ORRERY_TEST_DATABASE_URL!, name));
  } else if (useReal && process.env.ORRERY_TEST_DATABASE_URL) {
    databaseUrl = await createTestDatabase(process.env.ORRERY_TEST_DATABASE_URL, `orrery_t_${suffix}`, cleanups);
  }
  const redisUrl = useReal ? (process.env.ORRERY_TEST_REDIS_URL ?? '') : '';
  const redisPrefix = `orrery-test:${suffix}:`;
  if (redisUrl) cleanups.push(() => deleteRedisKeys(redisUrl, redisPrefix));

  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });

  const config: Record<string, any> = {
    server: { host: '127.0.0.1', port: 0, logLevel: process.env.ORRERY_TEST_LOG_LEVEL ?? 'info' },
    storage: {
      dataDir,
      databaseUrl,
      redisUrl,
      redisPrefix,
      chdbPath: processChdb(),
      clickhouseDatabase: opts.dataDir ? `t_${Buffer.from(opts.dataDir).toString('hex').slice(-16)}` : `t_${suffix}`,
    },
    auth: {},
    bootstrap: { org: 'test-org', adminEmail: 'admin@test-org.local', adminPassword: ADMIN_PASSWORD, demoData: false },
    // read-your-writes: a 2xx waits until the event is loaded into ClickHouse, so a test can query it at once
    ingestion: { batchSize: 1000, maxDelayMs: 5, ackAfter: 'loaded', loadDelayMs: 2 },
    // tests fold on demand (foldRollups) and see every row committed before the call
    rollups: { graceMs: 0 },
    plugins: {},
  };
  deepMerge(config, opts.config ?? {});
  validateConfig(config);
  if (!config.storage.databaseUrl) await seedEmbeddedPostgres(config.storage.dataDir);

  const kernel = await createKernel({
    config: config as any,
    plugins: opts.plugins ?? [],
    pluginRoots: opts.loadPluginFolders ? undefined : [],
    onlyPlugins: opts.onlyPlugins,
    modules: opts.modules as any,
    logStream,
    scheduleJobs: opts.scheduleJobs ?? false,
  });
  let url: string | null = null;
  if (opts.listen) url = await kernel.listen();

  const s = kernel.services;
  const request = async (token: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<TestResponse> => {
    const res = await kernel.app.inject({
      method: method as any,
      url: path,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    let parsed: any = res.body;
    try {
      parsed = res.body ? JSON.parse(res.body) : null;
    } catch {
      // not JSON (metrics, html): keep the text
    }
    return { status: res.statusCode, body: parsed, headers: res.headers as any, text: res.body };
  };
  const clientFor = (token: string): TestClient => ({
    token,
    get: (path, query, opts) => request(token, 'GET', withQuery(path, query), undefined, opts?.headers),
    post: (path, body, headers) => request(token, 'POST', path, body ?? {}, headers),
    put: (path, body) => request(token, 'PUT', path, body ?? {}),
    patch: (path, body) => request(token, 'PATCH', path, body ?? {}),
    delete: (path) => request(token, 'DELETE', path),
  });
  const login = async (email: string, password: string, org?: string) => {
    const r = await request(null, 'POST', '/api/v1/auth/login', { email, password, ...(org ? { org } : {}) });
    if (r.status !== 200) throw new Error(`login as ${email} failed: ${r.status} ${r.text}`);
    return clientFor(r.body.access_token);
  };

  const wrapOrg = async (org: { id: string; slug: string; schema: string }, adminEmail: string): Promise<TestOrg> => {
    const client = await login(adminEmail, ADMIN_PASSWORD, org.slug);
    const departments = new Map<string, string>();
    const knex = s.knex;
    return {
      ...org,
      client,
      adminEmail,
      departments,
      async hookToken() {
        const r = await client.post('/api/v1/tokens', { name: `hook-${randomBytes(3).toString('hex')}`, kind: 'hook' });
        if (r.status !== 201) throw new Error(`could not create a hook token: ${r.text}`);
        return r.body.token;
      },
      async addUser(input) {
        const { userId } = await s.orgService.addMember(org as any, { email: input.email, role: input.role, password: ADMIN_PASSWORD, displayName: input.displayName });
        for (const d of input.departments ?? []) {
          const name = typeof d === 'string' ? d : d.name;
          let id = departments.get(name);
          if (!id) {
            const existing = await knex.withSchema(org.schema).table('departments').where({ name }).first();
            id = existing?.id ?? randomUUIDv4();
            if (!existing) await knex.withSchema(org.schema).table('departments').insert({ id, name, restricted: (input.restricted ?? []).includes(name) });
            departments.set(name, id!);
          }
          await knex
            .withSchema(org.schema)
            .table('department_members')
            .insert({ department_id: id, user_id: userId, manager: typeof d === 'object' && !!d.manager })
            .onConflict(['department_id', 'user_id'])
            .merge();
        }
        s.callers.invalidate(org.id, userId);
        const c = await login(input.email, ADMIN_PASSWORD, org.slug);
        return Object.assign(c, { userId });
      },
      async insertEvents(rows) {
        const values = rows.map((r) => ({ ...r, org_id: org.id, timestamp: toChTime(r.timestamp) }));
        for (let i = 0; i < values.length; i += 10_000) {
          await s.analytics.client.insert({ table: `${s.analytics.database}.events`, values: values.slice(i, i + 10_000), format: 'JSONEachRow' });
        }
        // written past the ingestion pipeline, so tell remembered route answers as a commit would
        s.pluginHost.dataChanged(org.id);
      },
    };
  };

  const first = kernel.bootstrap!.org;
  const defaultOrg = await wrapOrg(first, config.bootstrap.adminEmail);

  return {
    org: defaultOrg,
    client: defaultOrg.client,
    url,
    kernel,
    logs,
    dataDir,
    config,
    async createOrg(slug: string) {
      const email = `admin@${slug}.local`;
      const r = await defaultOrg.client.post('/api/v1/orgs', { slug, name: slug, admin_email: email, admin_password: ADMIN_PASSWORD });
      if (r.status !== 201) throw new Error(`could not create org ${slug}: ${r.status} ${r.text}`);
      const org = await s.orgService.bySlug(slug);
      return wrapOrg(org!, email);
    },
    runJob: (pluginId, job) => s.plugins.runJobForAllOrgs(pluginId, job),
    foldRollups: () => s.rollups.foldAll(),
    async seedDemoData(span, orgSlug) {
      const org = await s.orgService.bySlug(orgSlug ?? defaultOrg.slug);
      return s.plugins.seedDemoData(org!, span);
    },
    async close(o = {}) {
      await kernel.close();
      if (!o.keepData) {
        await s.analytics.client
          .command({ query: `DROP DATABASE IF EXISTS ${config.storage.clickhouseDatabase}` })
          .catch(() => undefined);
        for (const c of cleanups) await c().catch(() => undefined);
        if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** Hook password used for every user the harness makes (meets the policy). */
export const TEST_PASSWORD = ADMIN_PASSWORD;

function withQuery(path: string, query?: Record<string, unknown>) {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

function toChTime(t: unknown): string {
  const d = t instanceof Date ? t : new Date(t as string | number);
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

function randomUUIDv4() {
  return globalThis.crypto.randomUUID();
}

function deepMerge(target: Record<string, any>, src: Record<string, any>) {
  for (const [k, v] of Object.entries(src)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && target[k] && typeof target[k] === 'object') deepMerge(target[k], v);
    else target[k] = v;
  }
}

async function createTestDatabase(adminUrl: string, name: string, cleanups: Array<() => Promise<void>>) {
  const pg = (await import('pg')).default;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  cleanups.push(() => dropTestDatabase(adminUrl, name));
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function dropTestDatabase(adminUrl: string, name: string) {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await c.end();
}

async function deleteRedisKeys(url: string, prefix: string) {
  const { Redis } = await import('ioredis');
  const r = new Redis(url);
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length) await r.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await r.quit();
}
