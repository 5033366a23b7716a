/**
 * Reports end to end: the platform listens (portal and widgets served), a real
 * SMTP server and a real HTTP receiver take the deliveries. A report sent now
 * and a scheduled one arrive with the dashboard PDF (read back as text and as
 * an image: charts drawn) and the period's CSV (parsed, every row compared with
 * the events sent). Skipped where Chromium or the built portal is absent.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import { firstPageImage, hasPoppler, pdfText } from './pdfcheck.ts';
import { startMailbox } from './mailbox.ts';
import { guarded } from './fixtures.ts';
import { wallTime } from '../backend/schedule.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const ready =
  existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium') &&
  existsSync(join(ROOT, 'host-ui', 'dist', 'index.html')) &&
  existsSync(join(ROOT, 'plugins', 'agent-analytics', 'frontend', 'dist', 'remoteEntry.js')) &&
  hasPoppler;

const NOW = Date.now();
const AGENTS = ['planner', 'reviewer, "senior"', '=cmd|evil'];
// every event well inside the last 6 days, so that the report's 7-day period holds them all
const events = Array.from({ length: 240 }, (_, i) => ({
  event_id: `r-${String(i).padStart(4, '0')}`,
  event_type: 'agent_invocation',
  timestamp: new Date(NOW - 3_600_000 - ((i * 2_111_000) % (5 * 86_400_000))).toISOString(),
  user_id: `u-${i % 5}`,
  agent_name: AGENTS[i % 3],
  invocation_id: `r-${i}`,
  status: i % 6 === 0 ? 'failure' : 'success',
  execution_time_ms: 50 + i,
  input_tokens: 100 + i,
  output_tokens: 10 + i,
  cost_usd: 0.002,
}));

interface Hook {
  body: any;
}

describe.skipIf(!ready)('exports: reports by email and webhook', () => {
  let b: TestBackend;
  let other: TestOrg;
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;
  let receiver: Server;
  const hooks: Hook[] = [];
  let adminId: string;
  let http: (method: string, path: string, body?: unknown, token?: string) => Promise<{ status: number; body: any }>;

  beforeAll(async () => {
    mailbox = await startMailbox();
    receiver = createServer((req, res) => {
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => {
        hooks.push({ body: JSON.parse(data) });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    b = await startTestBackend({
      loadPluginFolders: true,
      onlyPlugins: ['exports', 'dashboards', 'agent-analytics'],
      listen: true,
      config: { smtp: { url: mailbox.url, from: 'reports@orrery.local' } },
    });
    other = await b.createOrg('other-co');
    await b.org.insertEvents(events);
    // real HTTP (not inject): the renderer opens the portal where the request came in
    http = async (method, path, body, token = b.client.token) => {
      const res = await fetch(`${b.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    adminId = (await b.client.get('/api/v1/me')).body.user.id;
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    expect((await b.client.put('/api/v1/org/settings', { 'notifications.webhook_url': hookUrl })).status).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await mailbox?.close();
    await new Promise((r) => receiver?.close(r));
  });

  let reportId: string;

  it('sends a report now: PDF with charts and the CSV of the period attached, a summary in the body, a webhook told', async () => {
    const otherAdmin = (await other.client.get('/api/v1/me')).body.user.id;
    const created = await b.client.post('/api/v1/reports', {
      name: 'Weekly agents',
      attach: ['pdf', 'csv'],
      csv: { event_type: 'agent_invocation', fields: 'event_id,agent_name,status,input_tokens' },
      recipients: [adminId, otherAdmin],
      channels: ['email', 'webhook'],
      range_days: 7,
      tz: 'Asia/Tokyo',
    });
    expect(created.status).toBe(201);
    reportId = created.body.id;
    expect(created.body).toMatchObject({ name: 'Weekly agents', schedule: null, next_run_at: null, created_by: adminId });

    const run = await http('POST', `/api/v1/reports/${reportId}/send`);
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    expect(run.body).toMatchObject({ status: 'sent', trigger: 'manual', error: null });

    const mail = await mailbox.waitFor('admin@test-org.local');
    expect(mail.subject).toContain('Weekly agents');
    const body = mail.parts.find((p) => p.contentType === 'text/plain')!.body.toString('utf8');
    expect(body).toContain(`${events.length} events in the period.`);
    expect(body).toContain(`agent_invocation: ${events.length} (new on the period before)`);

    const pdf = mail.parts.find((p) => p.contentType === 'application/pdf')!;
    expect(pdf.filename).toMatch(/^Weekly_agents-.*\.pdf$/);
    expect(pdf.body.subarray(0, 5).toString()).toBe('%PDF-');
    const text = pdfText(pdf.body);
    expect(text).toContain('Test Org');
    expect(text).toContain('Asia/Tokyo');
    expect(text).toContain('planner');
    const img = firstPageImage(pdf.body);
    expect(img.colouredShare).toBeGreaterThan(0.005);
    expect(img.colours).toBeGreaterThan(20);

    const csv = mail.parts.find((p) => p.contentType === 'text/csv')!;
    const [header, ...rows] = parse(csv.body.toString('utf8'), { record_delimiter: '\r\n' }) as string[][];
    expect(header).toEqual(['event_id', 'agent_name', 'status', 'input_tokens']);
    const expected = [...events].sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.event_id < b.event_id ? -1 : 1));
    expect(rows).toEqual(expected.map((e) => [e.event_id, guarded(e.agent_name), e.status, String(e.input_tokens)]));

    // the member of another org named as a recipient received nothing
    expect(mailbox.mails.some((m) => m.to.includes('admin@other-co.local'))).toBe(false);
    expect(run.body.delivered.filter((d: any) => d.channel === 'email')).toEqual([{ channel: 'email', to: adminId, ok: true }]);

    const hook = hooks.at(-1)!.body;
    expect(hook.subject).toContain('Weekly agents');
    expect(hook.attachments.map((a: any) => a.content_type).sort()).toEqual(['application/pdf', 'text/csv']);
    expect(hook.attachments.find((a: any) => a.content_type === 'text/csv').bytes).toBe(csv.body.length);
  }, 180_000);

  it('schedules a report at a wall time in a zone; the job sends it when due and moves it to the next run', async () => {
    const res = await b.client.post('/api/v1/export/schedule', {
      name: 'Every Monday',
      schedule: { frequency: 'weekly', weekday: 1, time: '08:30', tz: 'America/New_York' },
      attach: ['pdf'],
    });
    expect(res.status).toBe(201);
    const next = new Date(res.body.next_run_at);
    const w = wallTime(next, 'America/New_York');
    expect([w.weekday, w.hour, w.minute]).toEqual([1, 8, 30]);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(7 * 86_400_000);
    expect(res.body.definition.range_days).toBe(7);

    // not due yet: the job sends nothing
    await b.runJob('exports', 'send-due-reports');
    expect((await b.client.get(`/api/v1/reports/${res.body.id}/runs`)).body.runs).toEqual([]);

    // the clock reaches it
    await b.kernel.services.knex.withSchema(b.org.schema).table('reports').where({ id: res.body.id }).update({ next_run_at: new Date(Date.now() - 1000) });
    const before = mailbox.mails.length;
    await b.runJob('exports', 'send-due-reports');
    const runs = (await b.client.get(`/api/v1/reports/${res.body.id}/runs`)).body.runs;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ trigger: 'schedule', status: 'sent' });
    const mail = mailbox.mails.slice(before).find((m) => m.subject.includes('Every Monday'))!;
    expect(mail.parts.some((p) => p.contentType === 'application/pdf' && p.body.subarray(0, 5).toString() === '%PDF-')).toBe(true);
    const after = (await b.client.get(`/api/v1/reports/${res.body.id}`)).body;
    expect(new Date(after.next_run_at).getTime()).toBeGreaterThan(Date.now());
    expect(after.last_run).toMatchObject({ status: 'sent' });
  }, 180_000);

  it('skips a run when the period is empty and the report says so', async () => {
    const r = await other.client.post('/api/v1/reports', { name: 'Quiet', attach: ['csv'], skip_when_empty: true });
    expect(r.status).toBe(201);
    const before = mailbox.mails.length;
    const run = await http('POST', `/api/v1/reports/${r.body.id}/send`, undefined, other.client.token);
    expect(run.body).toMatchObject({ status: 'skipped' });
    expect(mailbox.mails.length).toBe(before);
  }, 60_000);

  it('keeps a history of runs, latest first', async () => {
    await http('POST', `/api/v1/reports/${reportId}/send`);
    const runs = (await b.client.get(`/api/v1/reports/${reportId}/runs`)).body.runs;
    expect(runs.length).toBe(2);
    expect(runs.every((r: any) => r.status === 'sent' && r.trigger === 'manual')).toBe(true);
    expect(runs[0].started_at >= runs[1].started_at).toBe(true);
  }, 120_000);

  it('lists, replaces and deletes reports; other orgs and other members do not see them', async () => {
    const list = await b.client.get('/api/v1/reports');
    expect(list.body.reports.map((r: any) => r.name)).toEqual(['Weekly agents', 'Every Monday']);
    expect((await other.client.get('/api/v1/reports')).body.reports.map((r: any) => r.name)).toEqual(['Quiet']);
    expect((await other.client.get(`/api/v1/reports/${reportId}`)).status).toBe(404);
    const manager = await b.org.addUser({ email: 'mgr@test-org.local', role: 'Manager' });
    expect((await manager.get(`/api/v1/reports/${reportId}`)).status).toBe(404);
    expect((await manager.post(`/api/v1/reports/${reportId}/send`)).status).toBe(404);
    expect((await manager.get('/api/v1/reports')).body.reports).toEqual([]);
    const dev = await b.org.addUser({ email: 'dev@test-org.local', role: 'Developer' });
    expect((await dev.get('/api/v1/reports')).status).toBe(403);

    const put = await b.client.put(`/api/v1/reports/${reportId}`, { name: 'Monthly agents', schedule: { frequency: 'last_friday', time: '17:00', tz: 'Europe/London' } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ name: 'Monthly agents', created_by: adminId });
    const w = wallTime(new Date(put.body.next_run_at), 'Europe/London');
    expect([w.weekday, w.hour, w.minute]).toEqual([5, 17, 0]);

    expect((await b.client.delete(`/api/v1/reports/${reportId}`)).status).toBe(204);
    expect((await b.client.get(`/api/v1/reports/${reportId}`)).status).toBe(404);
    expect((await b.client.get(`/api/v1/reports/${reportId}/runs`)).status).toBe(404);
  });

  it('answers bad reports with a 400 naming the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: 'x', schedule: { frequency: 'weekly', time: '08:00' } }, 'schedule.weekday'],
      [{ name: 'x', schedule: { frequency: 'daily', time: '08:00', tz: 'Nowhere/Land' } }, 'schedule.tz'],
      [{ name: 'x', attach: ['csv'], csv: { fields: 'event_id,bogus' } }, 'fields'],
      [{ name: 'x', tz: 'Nowhere/Land' }, 'tz'],
    ];
    for (const [body, field] of cases) {
      const r = await b.client.post('/api/v1/reports', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.details.field).toBe(field);
    }
    const noSchedule = await b.client.post('/api/v1/export/schedule', { name: 'x' });
    expect(noSchedule.status).toBe(400);
    expect(JSON.stringify(noSchedule.body.error)).toContain('schedule');
    const badTime = await b.client.post('/api/v1/reports', { name: 'x', schedule: { frequency: 'daily', time: '25:00' } });
    expect(badTime.status).toBe(400);
    expect(JSON.stringify(badTime.body.error)).toContain('time');
  });
});
