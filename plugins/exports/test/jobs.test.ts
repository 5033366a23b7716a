/**
 * Background export jobs (progress rises to done, the file is the same CSV
 * the streaming route answers, kept in the data dir) and the bulk-export rate
 * limit of the PRD's strict tier.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { byKey, generate, guarded, type SentEvent } from './fixtures.ts';

const START = Date.parse('2026-05-04T00:00:00Z');
const FROM = new Date(START).toISOString();
const TO = new Date(START + 3 * 86_400_000).toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('exports: background jobs and the bulk-export limit', () => {
  let b: TestBackend;
  let other: TestOrg;
  let dir: string;
  let sent: SentEvent[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'orrery-export-jobs-'));
    b = await startTestBackend({ plugins: [plugin], config: { plugins: { exports: { dir, pageRows: 11 } } } });
    other = await b.createOrg('other-co');
    sent = generate({ seed: 7, n: 1500, start: START, days: 3, departments: ['d1', 'd2'], prefix: 'j' });
    await b.org.insertEvents(sent);
    await other.insertEvents(generate({ seed: 8, n: 50, start: START, days: 3, departments: ['d1'], prefix: 'x' }));
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs an export in the background: progress rises to done, and the file is every row', async () => {
    const start = await b.client.post('/api/v1/export/jobs', { dataset: 'events', from: FROM, to: TO, fields: 'event_id,comment,metric_value', format: 'csv' });
    expect(start.status).toBe(202);
    expect(start.body).toMatchObject({ status: 'queued', progress: 0, rows: 0, url: null, dataset: 'events', format: 'csv' });
    expect(start.headers.location).toBe(`/api/v1/export/jobs/${start.body.id}`);

    const seen: Array<{ status: string; progress: number; rows: number }> = [];
    let job = start.body;
    for (let i = 0; i < 2000 && job.status !== 'done' && job.status !== 'failed'; i++) {
      const r = await b.client.get(`/api/v1/export/jobs/${start.body.id}`);
      expect(r.status).toBe(200);
      job = r.body;
      seen.push({ status: job.status, progress: job.progress, rows: job.rows });
      await sleep(2);
    }
    expect(job.status).toBe('done');
    const expected = sent.filter((e) => e.timestamp >= FROM && e.timestamp < TO).sort(byKey);
    expect(job).toMatchObject({ progress: 1, rows: expected.length, total: expected.length, url: `/api/v1/export/jobs/${job.id}/download` });
    // progress never goes back, and was seen part way
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]!.progress).toBeGreaterThanOrEqual(seen[i - 1]!.progress);
      expect(seen[i]!.rows).toBeGreaterThanOrEqual(seen[i - 1]!.rows);
    }
    expect(seen.some((s) => s.status === 'running' && s.progress > 0 && s.progress < 1)).toBe(true);

    const file = await b.client.get(job.url);
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toMatch(/^text\/csv/);
    expect(Number(file.headers['content-length'])).toBe(job.bytes);
    const [header, ...rows] = parse(file.text, { record_delimiter: '\r\n' }) as string[][];
    expect(header).toEqual(['event_id', 'comment', 'metric_value']);
    expect(rows.map((r) => [r[0], r[1]])).toEqual(expected.map((e) => [e.event_id, guarded(e.comment)]));
    expect(rows.map((r) => Number(r[2]))).toEqual(expected.map((e) => e.metric_value));
    // the same bytes as the streamed route answers
    const streamed = await b.client.get('/api/v1/export/csv', { dataset: 'events', from: FROM, to: TO, fields: 'event_id,comment,metric_value' });
    expect(file.text).toBe(streamed.text);
    // kept in the configured folder, under the org, named by the job
    expect(readdirSync(join(dir, b.org.id))).toEqual([`${job.id}.csv`]);
  });

  it('writes NDJSON jobs too', async () => {
    const start = await b.client.post('/api/v1/export/jobs', { dataset: 'events', from: FROM, to: TO, event_type: 'feedback', fields: 'event_id,rating', format: 'ndjson' });
    expect(start.status).toBe(202);
    let job = start.body;
    for (let i = 0; i < 2000 && job.status !== 'done' && job.status !== 'failed'; i++) {
      await sleep(5);
      job = (await b.client.get(`/api/v1/export/jobs/${job.id}`)).body;
    }
    expect(job.status).toBe('done');
    const file = await b.client.get(job.url);
    const lines = file.text.trim().split('\n').map((l) => JSON.parse(l));
    const expected = sent.filter((e) => e.timestamp >= FROM && e.timestamp < TO && e.event_type === 'feedback').sort(byKey);
    expect(lines).toEqual(expected.map((e) => ({ event_id: e.event_id, rating: e.rating })));
  });

  it("keeps a job to its org and its maker (Admins see the org's)", async () => {
    const start = await b.client.post('/api/v1/export/jobs', { dataset: 'events', from: FROM, to: TO, fields: 'event_id' });
    const id = start.body.id;
    const theirs = await other.client.get(`/api/v1/export/jobs/${id}`);
    expect(theirs.status).toBe(404);
    expect((await other.client.get(`/api/v1/export/jobs/${id}/download`)).status).toBe(404);
    const dev = await b.org.addUser({ email: 'dev@test-org.local', role: 'Developer' });
    expect((await dev.get(`/api/v1/export/jobs/${id}`)).status).toBe(404);
    expect((await b.client.get(`/api/v1/export/jobs/${id}`)).status).toBe(200);
    expect((await b.client.get('/api/v1/export/jobs/not-a-job')).status).toBe(404);
  });

  it('refuses a bad job with a 400 naming the field, and writes no file', async () => {
    for (const [body, field] of [
      [{ dataset: 'nope' }, 'dataset'],
      [{ dataset: 'events', fields: 'bogus' }, 'fields'],
      [{ dataset: 'events', from: TO, to: FROM }, 'from'],
    ] as const) {
      const r = await other.client.post('/api/v1/export/jobs', body);
      expect(r.status).toBe(400);
      expect(r.body.error.details.field).toBe(field);
    }
    const fmt = await other.client.post('/api/v1/export/jobs', { dataset: 'events', format: 'xlsx' });
    expect(fmt.status).toBe(400);
    expect(JSON.stringify(fmt.body.error)).toContain('format');
    expect(existsSync(join(dir, other.id))).toBe(false);
  });

  it("holds an org on the strict tier to one bulk export an hour, others' exports untouched", async () => {
    const strict = await b.createOrg('strict-co');
    await strict.insertEvents(generate({ seed: 9, n: 20, start: START, days: 3, departments: ['d1'], prefix: 's' }));
    const tier = await b.client.put('/api/v1/orgs/strict-co/tier', { tier: 'strict' });
    expect(tier.status).toBe(200);
    const first = await strict.client.get('/api/v1/export/csv', { dataset: 'events', from: FROM, to: TO });
    expect(first.status).toBe(200);
    const second = await strict.client.get('/api/v1/export/json', { dataset: 'events', from: FROM, to: TO });
    expect(second.status).toBe(429);
    expect(second.body.error.details).toMatchObject({ class: 'export', limit: 1, window_seconds: 3600 });
    expect(Number(second.headers['retry-after'])).toBeGreaterThan(0);
    expect((await strict.client.post('/api/v1/export/jobs', { dataset: 'events' })).status).toBe(429);
    // the other orgs are on the standard tier and keep exporting
    expect((await other.client.get('/api/v1/export/csv', { dataset: 'events', from: FROM, to: TO, fields: 'event_id' })).status).toBe(200);
  });
});
