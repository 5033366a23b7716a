import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { definePlugin, badRequest } from '@orrery/plugin-sdk';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';

const hello = definePlugin({
  id: 'hello',
  version: '1.0.0',
  sdk: '^2.0.0',
  title: 'Hello',
  description: 'a tiny plugin for kernel tests',
  routePrefix: 'hello',
  permissions: { 'hello.read': ['Admin', 'Manager', 'Developer'], 'hello.write': ['Admin'] },
  migrations: {
    pg: [
      {
        name: '0001_notes',
        async up(knex, schema) {
          await knex.schema.withSchema(schema).createTable('hello_notes', (t) => {
            t.increments('id');
            t.string('text').notNullable();
          });
        },
      },
    ],
  },
  register(env) {
    env.route({
      method: 'GET',
      path: '/',
      permission: 'hello.read',
      summary: 'notes of the caller’s org',
      async handler(_req, ctx) {
        return { org: ctx.org.slug, notes: await ctx.db.table('hello_notes').select('text').orderBy('id') };
      },
    });
    env.route<unknown, unknown, { text: string }>({
      method: 'POST',
      path: '/',
      permission: 'hello.write',
      summary: 'add a note',
      schema: { body: { type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string', minLength: 1, maxLength: 100 } } } },
      async handler(req, ctx) {
        if (req.body.text === 'bad') throw badRequest('bad is not a note', { field: 'text' });
        await ctx.db.table('hello_notes').insert({ text: req.body.text });
        return { ok: true };
      },
    });
    env.route({
      method: 'GET',
      path: '/tenantless',
      permission: 'hello.read',
      summary: 'tries an analytics query without the org binding',
      async handler(_req, ctx) {
        return ctx.analytics.query('SELECT count() AS n FROM {db}.events');
      },
    });
  },
});

const broken = {
  id: 'Broken Plugin', version: 'x', sdk: '^9.0.0', title: '', routePrefix: 'hello', permissions: {}, register: 5,
  frontend: { remoteName: 'broken', distDir: 'dist', widgets: [{ id: 'w', title: 'W', description: '', defaultSize: 'M', roles: ['Developer'], suggestedFor: ['Admin'], defaultTimeRange: '2w' }] },
};

describe('kernel', () => {
  let b: TestBackend;
  beforeAll(async () => {
    b = await startTestBackend({ plugins: [hello, broken as any] });
  });
  afterAll(() => b.close());

  it('answers the operations routes', async () => {
    expect((await b.client.get('/health')).body).toEqual({ status: 'ok' });
    const ready = await b.client.get('/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.parts).toEqual({ database: 'ok', analytics: 'ok', cache: 'ok', ingestion: 'ok' });
    expect(ready.body.ingestion).toMatchObject({ commit: 'log', backlog_rows: 0, full: false });
    const version = await b.client.get('/version');
    expect(version.body.sdkVersion).toBe('2.2.0');
    const metrics = await b.client.get('/metrics'); // the test org's Admin is the platform operator
    expect(metrics.text).toContain('orrery_http_request_duration_seconds');
  });

  it('documents every route in OpenAPI, plugin routes included', async () => {
    const doc = (await b.client.get('/api/docs/json')).body;
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/hello', '/api/v1/auth/login', '/api/v1/plugins', '/health']));
    expect(doc.paths['/api/v1/hello'].post.requestBody).toBeTruthy();
  });

  it('refuses a broken plugin with a message naming each problem, and starts the rest', async () => {
    const r = await b.client.get('/api/v1/plugins', { all: true });
    expect(r.body.plugins.map((p: any) => p.id)).toEqual(['hello']);
    const refused = r.body.refused[0].error as string;
    expect(refused).toMatch(/id must be/);
    expect(refused).toMatch(/version must be a semver/);
    expect(refused).toMatch(/built for SDK \^9\.0\.0/);
    expect(refused).toMatch(/register\(env\) is required/);
    expect(refused).toMatch(/widget "w" is suggested for Admin, who may not use it/);
    expect(refused).toMatch(/widget "w" defaultTimeRange must be one of 1h, 24h, today, 7d, week, 30d, month, 90d/);
  });

  it('mounts plugin routes with their permissions and validation', async () => {
    expect((await b.client.post('/api/v1/hello', { text: 'first' })).status).toBe(200);
    const bad = await b.client.post('/api/v1/hello', { text: 5, extra: true });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    const sdkError = await b.client.post('/api/v1/hello', { text: 'bad' });
    expect(sdkError.status).toBe(400);
    expect(sdkError.body.error).toEqual({ code: 'bad_request', message: 'bad is not a note', details: { field: 'text' } });
    const dev = await b.org.addUser({ email: 'dev@test-org.local', role: 'Developer' });
    expect((await dev.get('/api/v1/hello')).body.notes).toEqual([{ text: 'first' }]);
    const denied = await dev.post('/api/v1/hello', { text: 'nope' });
    expect(denied.status).toBe(403);
    expect(denied.body.error.details.permission).toBe('hello.write');
  });

  it('requires a token everywhere but the operations routes', async () => {
    const res = await b.kernel.app.inject({ method: 'GET', url: '/api/v1/hello' });
    expect(res.statusCode).toBe(401);
    expect(JSON.parse(res.body).error.code).toBe('unauthorized');
    const forged = await b.kernel.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.x' } });
    expect(forged.statusCode).toBe(401);
  });

  it('refuses an analytics query that does not bind org_id', async () => {
    const r = await b.client.get('/api/v1/hello/tenantless');
    expect(r.status).toBe(500);
    expect(b.logs.join('')).toMatch(/must filter on org_id/);
  });

  it('keeps each org in its own schema and turns a plugin off for one tenant only', async () => {
    const other = await b.createOrg('other-org');
    expect((await other.client.get('/api/v1/hello')).body).toEqual({ org: 'other-org', notes: [] });
    const off = await other.client.put('/api/v1/admin/plugins/hello', { enabled: false });
    expect(off.status).toBe(200);
    expect((await other.client.get('/api/v1/hello')).status).toBe(404);
    expect((await other.client.get('/api/v1/plugins')).body.plugins).toEqual([]);
    expect((await b.client.get('/api/v1/hello')).status).toBe(200);
    await other.client.put('/api/v1/admin/plugins/hello', { enabled: true });
    expect((await other.client.get('/api/v1/hello')).status).toBe(200);
  });

  it('rotates refresh tokens and revokes the family when one is reused', async () => {
    const login = await b.client.post('/api/v1/auth/login', { email: 'admin@test-org.local', password: 'Test-password-0rrery!' });
    const first = login.body.refresh_token;
    const second = await b.client.post('/api/v1/auth/refresh', { refresh_token: first });
    expect(second.status).toBe(200);
    const reuse = await b.client.post('/api/v1/auth/refresh', { refresh_token: first });
    expect(reuse.status).toBe(401);
    expect(reuse.body.error.code).toBe('refresh_reused');
    const after = await b.client.post('/api/v1/auth/refresh', { refresh_token: second.body.refresh_token });
    expect(after.status).toBe(401);
  });

  it('keeps secrets out of the logs', async () => {
    await b.client.post('/api/v1/auth/login', { email: 'admin@test-org.local', password: 'Test-password-0rrery!' });
    const created = await b.client.post('/api/v1/tokens', { name: 'ci', kind: 'api' });
    await b.client.get('/api/v1/me');
    const all = b.logs.join('\n');
    expect(all).not.toContain('Test-password-0rrery!');
    expect(all).not.toContain(created.body.token);
    expect(all).not.toContain(b.client.token);
  });
});

describe('jobs', () => {
  it('runs a plugin job per enabled org under a lock and records the run', async () => {
    const seen: string[] = [];
    const counter = definePlugin({
      id: 'counter',
      version: '1.0.0',
      sdk: '^2.0.0',
      title: 'Counter',
      description: 'a job that records which orgs it ran for',
      routePrefix: 'counter',
      permissions: {},
      register(env) {
        env.job({
          name: 'tick',
          everySeconds: 3600,
          async run(ctx) {
            seen.push(ctx.org.slug);
            if (ctx.org.slug === 'job-fails') throw new Error('boom');
            return { counted: seen.length };
          },
        });
      },
    });
    const b = await startTestBackend({ plugins: [counter] });
    try {
      const failing = await b.createOrg('job-fails');
      const off = await b.createOrg('job-off');
      await off.client.put('/api/v1/admin/plugins/counter', { enabled: false });
      const all = await b.runJob('counter', 'tick');
      expect(seen.sort()).toEqual(['job-fails', 'test-org']);
      expect(all['job-fails']).toEqual({ error: 'boom' });
      const jobs = (await b.client.get('/api/v1/admin/jobs')).body.jobs;
      expect(jobs).toEqual([expect.objectContaining({ plugin: 'counter', job: 'tick', last_status: 'ok', running: false })]);
      const failed = (await failing.client.get('/api/v1/admin/jobs')).body.jobs[0];
      expect(failed).toMatchObject({ last_status: 'failed', last_error: 'boom' });
      const now = await b.client.post('/api/v1/admin/jobs/counter/tick/run');
      expect(now.body).toEqual({ status: 'ok', result: { counted: 3 } });
      expect((await b.client.post('/api/v1/admin/jobs/counter/nope/run')).status).toBe(404);
    } finally {
      await b.close();
    }
  });
});
