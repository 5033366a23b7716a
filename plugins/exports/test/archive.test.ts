/**
 * The org archive: random events (text with commas, quotes, newlines, emoji, CJK, formula-like
 * cells) in this org and another; the archive job's progress rises to done; the .tar.gz is
 * unpacked by the system's `tar` and every event line compared with what was sent; the other
 * org's events never appear; the directory and the reports are in it; Admins only; a reversed
 * range is a 400 naming `from`.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';

const NOW = Date.now();
const text = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('a,b', 'say "hi"', 'line\nbreak', '=SUM(A1)', '-3', '🚀 launch', '日本語のテキスト', '@here'));
const sample = fc.sample(fc.record({ agent: text, ago: fc.integer({ min: 60_000, max: 40 * 86_400_000 }), tokens: fc.integer({ min: 0, max: 100_000 }), ok: fc.boolean() }), { numRuns: 150, seed: 1003 });
const events = sample.map((s, i) => ({
  event_id: `a-${String(i).padStart(4, '0')}`,
  event_type: 'agent_invocation',
  timestamp: new Date(NOW - s.ago).toISOString(),
  user_id: `u-${i % 3}`,
  agent_name: s.agent || 'x',
  invocation_id: `inv-${i}`,
  status: s.ok ? 'success' : 'failure',
  input_tokens: s.tokens,
  output_tokens: 1,
  execution_time_ms: 10,
}));
const otherEvents = events.slice(0, 20).map((e) => ({ ...e, event_id: `o-${e.event_id}`, agent_name: 'other-org-agent' }));

describe('exports: the org archive', () => {
  let b: TestBackend;
  let other: TestOrg;
  const work = mkdtempSync(join(tmpdir(), 'orrery-archive-test-'));

  beforeAll(async () => {
    b = await startTestBackend({ loadPluginFolders: true, onlyPlugins: ['exports', 'agent-analytics'], config: { plugins: { exports: { dir: join(work, 'files') } } } });
    other = await b.createOrg('other-archive');
    await b.org.insertEvents(events);
    await other.insertEvents(otherEvents);
    expect((await b.client.post('/api/v1/reports', { name: 'Kept in the archive', kind: 'executive' })).status).toBe(201);
    // a plugin's stored settings (as its settings routes would write them), and one switched off and on again
    expect((await b.client.put('/api/v1/admin/plugins/agent-analytics', { enabled: false })).status).toBe(200);
    expect((await b.client.put('/api/v1/admin/plugins/agent-analytics', { enabled: true })).status).toBe(200);
    await b.kernel.services.knex.withSchema('public').table('plugin_settings').where({ org_id: b.org.id, plugin_id: 'agent-analytics' }).update({ settings: JSON.stringify({ note: 'say "hi", 日本語 🚀' }) });
    await other.client.put('/api/v1/admin/plugins/agent-analytics', { enabled: true });
  }, 120_000);

  /** Waits for a job to finish, with the progress it showed on the way. */
  async function finish(id: string) {
    const seen: number[] = [];
    let job = (await b.client.get(`/api/v1/export/jobs/${id}`)).body;
    for (let i = 0; i < 300 && job.status !== 'done' && job.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = (await b.client.get(`/api/v1/export/jobs/${id}`)).body;
      seen.push(job.progress);
    }
    return { job, seen };
  }

  /** The archive's files, unpacked by the system's tar into a folder of their own. */
  async function unpack(url: string, name: string) {
    const res = await b.kernel.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${b.client.token}` } });
    expect(res.statusCode).toBe(200);
    const archive = join(work, `${name}.tar.gz`);
    writeFileSync(archive, res.rawPayload);
    const out = join(work, name);
    execFileSync('mkdir', ['-p', out]);
    execFileSync('tar', ['-xzf', archive, '-C', out]);
    return { out, listing: execFileSync('tar', ['-tzf', archive]).toString().trim().split('\n') };
  }
  afterAll(async () => {
    await b?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('writes everything the org may take out as a .tar.gz, with progress up to done', async () => {
    const started = await b.client.post('/api/v1/export/archive', {});
    expect(started.status, started.text).toBe(202);
    expect(started.body).toMatchObject({ dataset: 'archive', format: 'archive', status: 'queued' });
    const seen: number[] = [];
    let job = started.body;
    for (let i = 0; i < 300 && job.status !== 'done' && job.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = (await b.client.get(`/api/v1/export/jobs/${started.body.id}`)).body;
      seen.push(job.progress);
    }
    expect(job.status, job.error).toBe('done');
    expect(job.progress).toBe(1);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
    expect(job.total).toBe(events.length);
    expect(job.rows).toBe(events.length);

    // the bytes as they are (the test client reads answers as text)
    const res = await b.kernel.app.inject({ method: 'GET', url: job.url, headers: { authorization: `Bearer ${b.client.token}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/gzip');
    expect(res.headers['content-disposition']).toMatch(/archive-test-org-2000-01-01-.*\.tar\.gz/);
    const archive = join(work, 'org.tar.gz');
    writeFileSync(archive, res.rawPayload);
    const out = join(work, 'unpacked');
    execFileSync('mkdir', ['-p', out]);
    execFileSync('tar', ['-xzf', archive, '-C', out]);
    const listing = execFileSync('tar', ['-tzf', archive]).toString().trim().split('\n');
    expect(listing).toEqual(expect.arrayContaining(['manifest.json', 'events.ndjson', 'datasets/agent-analytics.invocations.ndjson', 'directory/members.json', 'directory/departments.json', 'directory/memberships.json', 'exports/reports.json']));

    const lines = readFileSync(join(out, 'events.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(events.length);
    const byId = new Map(lines.map((l) => [l.event_id, l]));
    for (const e of events) {
      const got = byId.get(e.event_id);
      expect(got, e.event_id).toBeDefined();
      expect(got).toMatchObject({ agent_name: e.agent_name, status: e.status, input_tokens: e.input_tokens, user_id: e.user_id, timestamp: e.timestamp });
      expect(got.org_id).toBeUndefined();
    }
    const all = execFileSync('sh', ['-c', `cat ${out}/events.ndjson ${out}/datasets/*.ndjson`]).toString();
    expect(all).not.toContain('other-org-agent');
    const invocations = readFileSync(join(out, 'datasets/agent-analytics.invocations.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(invocations.map((r) => r.event_id).sort()).toEqual(events.map((e) => e.event_id).sort());

    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.org.slug).toBe('test-org');
    expect(manifest.entries.find((e: any) => e.name === 'events.ndjson').rows).toBe(events.length);
    const members = JSON.parse(readFileSync(join(out, 'directory/members.json'), 'utf8'));
    expect(members.map((m: any) => m.email)).toContain('admin@test-org.local');
    expect(members.map((m: any) => m.email)).not.toContain('admin@other-archive.local');
    expect(JSON.parse(readFileSync(join(out, 'exports/reports.json'), 'utf8')).map((r: any) => r.name)).toEqual(['Kept in the archive']);

    // the audit log: every record the kernel's own route lists, up to the last one archived, oldest first
    expect(listing).toEqual(expect.arrayContaining(['audit/log.ndjson', 'settings/plugins.json']));
    const audit = readFileSync(join(out, 'audit/log.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const listed = (await b.client.get('/api/v1/audit', { limit: 1000 })).body.entries as Array<{ id: number; action: string; at: string; target: string | null }>;
    const last = Math.max(...audit.map((a) => a.id));
    expect(audit.map((a) => [a.id, a.action, a.at, a.target])).toEqual(listed.filter((e) => e.id <= last).reverse().map((e) => [e.id, e.action, e.at, e.target]));
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['exports.report.create', 'plugin.disable', 'plugin.enable'].filter((x) => listed.some((e) => e.action === x))));
    expect(audit.some((a) => a.action === 'exports.report.create')).toBe(true);
    expect(manifest.entries.find((e: any) => e.name === 'audit/log.ndjson').rows).toBe(audit.length);
    // every plugin's stored settings for this org only, as the kernel keeps them
    const stored = await b.kernel.services.knex.withSchema('public').table('plugin_settings').where({ org_id: b.org.id }).orderBy('plugin_id').select('plugin_id', 'enabled', 'settings');
    const settings = JSON.parse(readFileSync(join(out, 'settings/plugins.json'), 'utf8'));
    expect(stored.length).toBeGreaterThan(0);
    expect(settings.map((x: any) => [x.plugin, x.enabled, x.settings])).toEqual(stored.map((r: any) => [r.plugin_id, r.enabled, r.settings]));
    expect(settings.find((x: any) => x.plugin === 'agent-analytics').settings).toEqual({ note: 'say "hi", 日本語 🚀' });

    // audited, and another org cannot see the job
    expect((await other.client.get(`/api/v1/export/jobs/${job.id}`)).status).toBe(404);
  }, 120_000);

  it('starts an archive its stopped process left half done again from the beginning, and says so', async () => {
    const admin = (await b.kernel.services.knex.withSchema('public').table('users').where({ email: 'admin@test-org.local' }).first('id')).id as string;
    // what a process that stopped mid-archive leaves: a running job with some progress that no longer moves
    const id = randomUUID();
    const range = { from: '2000-01-01T00:00:00.000Z', to: new Date(NOW + 60_000).toISOString() };
    const stoppedAt = new Date(Date.now() - 11 * 60_000);
    await b.kernel.services.knex.withSchema(b.org.schema).table('export_jobs').insert({
      id, created_by: admin, dataset: 'archive', format: 'archive', request: JSON.stringify({ dataset: 'archive', ...range }),
      status: 'running', progress: 0.4, total: events.length, rows: 60, created_at: stoppedAt, updated_at: stoppedAt,
    });
    expect(await b.runJob('exports', 'restart-stale-archives')).toBeDefined();
    const restarted = (await b.client.get(`/api/v1/export/jobs/${id}`)).body;
    expect(restarted.restarts).toBe(1);
    expect(restarted.note).toMatch(/started again from the beginning/);
    const { job, seen } = await finish(id);
    expect(job.status, job.error).toBe('done');
    expect(job).toMatchObject({ progress: 1, rows: events.length, total: events.length, restarts: 1 });
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
    const { out, listing } = await unpack(job.url, 'restarted');
    expect(listing).toEqual(expect.arrayContaining(['manifest.json', 'events.ndjson', 'audit/log.ndjson', 'settings/plugins.json']));
    const lines = readFileSync(join(out, 'events.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.event_id).sort()).toEqual(events.map((e) => e.event_id).sort());
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).created_by).toBe(admin);

    // a job that keeps stopping is failed rather than started a fifth time
    const worn = randomUUID();
    await b.kernel.services.knex.withSchema(b.org.schema).table('export_jobs').insert({
      id: worn, created_by: admin, dataset: 'archive', format: 'archive', request: JSON.stringify({ dataset: 'archive', ...range }),
      status: 'running', progress: 0.2, restarts: 3, created_at: stoppedAt, updated_at: stoppedAt,
    });
    await b.runJob('exports', 'restart-stale-archives');
    const failed = (await b.client.get(`/api/v1/export/jobs/${worn}`)).body;
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/stopped 4 times/);
  }, 120_000);

  it('Admins only; a reversed range is a 400 naming from; unknown fields are refused', async () => {
    const manager = await b.org.addUser({ email: 'mgr-archive@test-org.local', role: 'Manager' });
    expect((await manager.post('/api/v1/export/archive', {})).status).toBe(403);
    const reversed = await b.client.post('/api/v1/export/archive', { from: new Date(NOW).toISOString(), to: new Date(NOW - 86_400_000).toISOString() });
    expect(reversed.status).toBe(400);
    expect(reversed.body.error.details.field).toBe('from');
    const extra = await b.client.post('/api/v1/export/archive', { format: 'zip' });
    expect(extra.status).toBe(400);
    expect(JSON.stringify(extra.body.error)).toContain('format');
  });

  it('is a bulk export: on the strict tier an archive after an export is a 429', async () => {
    const strict = await b.createOrg('strict-archive');
    expect((await b.client.put('/api/v1/orgs/strict-archive/tier', { tier: 'strict' })).status).toBe(200);
    expect((await strict.client.post('/api/v1/export/archive', {})).status).toBe(202);
    const second = await strict.client.post('/api/v1/export/archive', {});
    expect(second.status).toBe(429);
    expect(second.body.error.details).toMatchObject({ class: 'export', limit: 1 });
    expect((await strict.client.get('/api/v1/export/csv', { dataset: 'events' })).status).toBe(429);
  });
});
