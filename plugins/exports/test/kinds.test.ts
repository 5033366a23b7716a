/**
 * The executive and support report kinds and open tracking, delivered to a real SMTP server.
 * Random agent invocations over this week and the week before; the executive report's key
 * figures and events per day (read back from the emailed summary CSV with a real CSV parser)
 * are compared with counts computed here from the events sent. A member who follows a run's
 * link is one open of that run; other orgs cannot open it; bad input is a 400 naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import { startMailbox, type Mail } from './mailbox.ts';

const DAY = 86_400_000;
const NOW = Date.now();

interface Ev { event_id: string; timestamp: string; status: 'success' | 'failure'; agent_name: string; user_id: string }

/** Invocations well inside this week (1 h – 6.5 days ago) and the week before (7.5 – 13.5 days ago). */
const sample = fc.sample(
  fc.record({
    week: fc.constantFrom(0, 1),
    offset: fc.integer({ min: 3_600_000, max: 5.5 * DAY }),
    ok: fc.boolean(),
    agent: fc.constantFrom('planner', 'reviewer, "senior"', '=cmd', '代理'),
    user: fc.integer({ min: 0, max: 6 }),
  }),
  { numRuns: 300, seed: 24 },
);
const events: Ev[] = sample.map((s, i) => ({
  event_id: `k-${String(i).padStart(4, '0')}`,
  timestamp: new Date(NOW - s.offset - s.week * 7 * DAY - (s.week ? 0.5 * DAY : 0)).toISOString(),
  status: s.ok ? 'success' : 'failure',
  agent_name: s.agent,
  user_id: `u-${s.user}`,
}));

/** the report's period from its subject: "… · 2026-12-04 21:00 – 2026-12-11 21:00 UTC" */
function periodOf(mail: Mail) {
  const m = /(\d{4}-\d\d-\d\d \d\d:\d\d) – (\d{4}-\d\d-\d\d \d\d:\d\d) UTC/.exec(mail.subject);
  if (!m) throw new Error(`no period in "${mail.subject}"`);
  return { from: new Date(`${m[1]!.replace(' ', 'T')}:00Z`).getTime(), to: new Date(`${m[2]!.replace(' ', 'T')}:00Z`).getTime() };
}

/** The summary CSV back into its sections: title row, header row, rows; a blank line between. */
function sections(csv: string) {
  const records = parse(csv, { record_delimiter: '\r\n', relax_column_count: true, skip_empty_lines: false }) as string[][];
  const out = new Map<string, { columns: string[]; rows: string[][] }>();
  let i = 0;
  while (i < records.length) {
    const title = records[i]![0]!;
    const columns = records[i + 1]!;
    const rows: string[][] = [];
    i += 2;
    while (i < records.length && !(records[i]!.length === 1 && records[i]![0] === '')) rows.push(records[i++]!);
    i++;
    out.set(title, { columns, rows });
  }
  return out;
}

describe('exports: executive and support reports, open tracking', () => {
  let b: TestBackend;
  let other: TestOrg;
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;

  beforeAll(async () => {
    mailbox = await startMailbox();
    b = await startTestBackend({
      loadPluginFolders: true,
      onlyPlugins: ['exports', 'agent-analytics', 'adoption'],
      config: { smtp: { url: mailbox.url, from: 'reports@orrery.local' } },
    });
    other = await b.createOrg('other-kinds');
    await b.org.insertEvents(events.map((e) => ({ ...e, event_type: 'agent_invocation', invocation_id: e.event_id, execution_time_ms: 100, cost_usd: 0.001 })));
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await mailbox?.close();
  });

  let executiveId: string;
  let mail: Mail;

  it('an executive report: key figures with their change and events per day, as counted from the events sent', async () => {
    const created = await b.client.post('/api/v1/reports', { name: 'Executive weekly', kind: 'executive', range_days: 7 });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ kind: 'executive', definition: { attach: [], kind: 'executive' } });
    executiveId = created.body.id;
    const run = await b.client.post(`/api/v1/reports/${executiveId}/send`);
    expect(run.status, run.text).toBe(200);
    expect(run.body).toMatchObject({ status: 'sent', opens: 0 });

    mail = await mailbox.waitFor('admin@test-org.local');
    expect(mail.subject).toContain('Executive weekly');
    const { from, to } = periodOf(mail);
    const inP = (e: Ev, a: number, z: number) => Date.parse(e.timestamp) >= a && Date.parse(e.timestamp) < z;
    const now = events.filter((e) => inP(e, from, to));
    const before = events.filter((e) => inP(e, from - (to - from), from));
    expect(now.length + before.length).toBe(events.length);

    const csv = mail.parts.find((p) => p.contentType === 'text/csv')!;
    expect(csv.filename).toMatch(/^Executive_weekly-summary-.*\.csv$/);
    const s = sections(csv.body.toString('utf8'));
    const kpi = s.get('Key figures')!;
    expect(kpi.columns).toEqual(['metric', 'from', 'unit', 'period', 'period before', 'change %', 'verdict']);
    const row = (title: string) => kpi.rows.find((r) => r[0] === title && r[1] === 'agent-analytics')!;
    const inv = row('Invocations');
    expect(Number(inv[3])).toBe(now.length);
    expect(Number(inv[4])).toBe(before.length);
    expect(Number(inv[5])).toBeCloseTo(Math.round(((now.length - before.length) / before.length) * 1000) / 10, 5);
    const rate = (xs: Ev[]) => xs.filter((e) => e.status === 'success').length / xs.length;
    const sr = kpi.rows.find((r) => r[1] === 'agent-analytics' && /success/i.test(r[0]!))!;
    expect(Number(sr[3])).toBeCloseTo(rate(now), 3);
    expect(Number(sr[4])).toBeCloseTo(rate(before), 3);
    const c = Math.round(((rate(now) - rate(before)) / rate(before)) * 1000) / 10;
    expect(sr[6]).toBe(c > 0 ? 'better' : c < 0 ? 'worse' : '');

    // events per day from the period's start, every day of the period present
    const perDay = s.get('Events per day')!;
    expect(perDay.rows).toHaveLength(7);
    const expected = Array.from({ length: 7 }, (_, i) => now.filter((e) => Math.floor((Date.parse(e.timestamp) - from) / DAY) === i).length);
    expect(perDay.rows.map((r) => Number(r[1]))).toEqual(expected);
    expect(perDay.rows.map((r) => Date.parse(r[0]!))).toEqual(expected.map((_, i) => from + i * DAY));

    const body = mail.parts.find((p) => p.contentType === 'text/plain')!.body.toString('utf8');
    expect(body).toContain(`${now.length} events in the period.`);
    expect(body).toMatch(/\/p\/exports\/opened\?t=[0-9a-f]{32}/);
  }, 120_000);

  it('the preview says what a run would send', async () => {
    const p = await b.client.get(`/api/v1/reports/${executiveId}/preview`);
    expect(p.status, p.text).toBe(200);
    expect(p.body.content.kind).toBe('executive');
    expect(p.body.content.sections.map((x: any) => x.title)).toEqual(expect.arrayContaining(['Key figures', 'Events per day']));
    expect(p.body.text).toContain('events in the period.');
  });

  it('counts a member who follows the link as one open of the run; another org cannot open it', async () => {
    const token = /\/p\/exports\/opened\?t=([0-9a-f]{32})/.exec(mail.parts.find((p) => p.contentType === 'text/plain')!.body.toString('utf8'))![1]!;
    expect((await b.client.get(`/api/v1/reports/${executiveId}/opens`)).body).toMatchObject({ runs: 1, recipients: 1, opened: 0, open_rate: 0 });

    const first = await b.client.post('/api/v1/reports/opens', { token });
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ report_id: executiveId, name: 'Executive weekly', opens: 1 });
    expect((await b.client.post('/api/v1/reports/opens', { token })).body.opens).toBe(2);

    // a Developer (no reports.manage) may follow a link forwarded to them; not a recipient of the run
    const dev = await b.org.addUser({ email: 'dev@test-org.local', role: 'Developer' });
    expect((await dev.post('/api/v1/reports/opens', { token })).status).toBe(200);

    expect((await other.client.post('/api/v1/reports/opens', { token })).status).toBe(404);

    const e = (await b.client.get(`/api/v1/reports/${executiveId}/opens`)).body;
    expect(e).toMatchObject({ runs: 1, recipients: 1, opened: 1, open_rate: 1 });
    expect(e.by_run[0]).toMatchObject({ recipients: 1, opened: 1, opens_by_others: 1 });
    const runs = (await b.client.get(`/api/v1/reports/${executiveId}/runs`)).body.runs;
    expect(runs[0].opens).toBe(2);
    expect((await other.client.get(`/api/v1/reports/${executiveId}/opens`)).status).toBe(404);
  });

  it('a support report: departments, the trend and who is flagged, from the adoption plugin', async () => {
    await b.org.addUser({ email: 'ana@test-org.local', role: 'Developer', departments: ['Platform'] });
    await b.org.addUser({ email: 'bo@test-org.local', role: 'Manager', departments: [{ name: 'Sales', manager: true }] });
    const created = await b.client.post('/api/v1/reports', { name: 'Support weekly', kind: 'support', range_days: 7 });
    expect(created.status, created.text).toBe(201);
    const before = mailbox.mails.length;
    const run = await b.client.post(`/api/v1/reports/${created.body.id}/send`);
    expect(run.body, JSON.stringify(run.body)).toMatchObject({ status: 'sent' });
    const m = mailbox.mails.slice(before).find((x) => x.subject.includes('Support weekly'))!;
    const s = sections(m.parts.find((p) => p.contentType === 'text/csv')!.body.toString('utf8'));
    const depts = s.get('Users needing support by department')!;
    expect(depts.columns).toEqual(['department', 'flagged', 'flagged before', 'change %', 'adoption score']);
    expect(depts.rows.map((r) => r[0]).sort()).toEqual(['Platform', 'Sales']);
    expect(s.get('Flagged users over the period')!.rows).toHaveLength(7);
    expect(s.get('Who is flagged')!.columns).toEqual(['name', 'email', 'departments']);

    // a Manager's support report holds only the departments they manage
    const mgr = await b.org.addUser({ email: 'mgr2@test-org.local', role: 'Manager', departments: [{ name: 'Sales', manager: true }] });
    const mine = await mgr.post('/api/v1/reports', { name: 'My support', kind: 'support' });
    const preview = await mgr.get(`/api/v1/reports/${mine.body.id}/preview`);
    expect(preview.body.content.sections[0].rows.map((r: any[]) => r[0])).toEqual(['Sales']);
  }, 120_000);

  it('skips an empty executive period when asked', async () => {
    const r = await other.client.post('/api/v1/reports', { name: 'Quiet exec', kind: 'executive', skip_when_empty: true });
    const run = await other.client.post(`/api/v1/reports/${r.body.id}/send`);
    expect(run.body).toMatchObject({ status: 'skipped' });
  });

  it('bad input is a 400 naming the field', async () => {
    const k = await b.client.post('/api/v1/reports', { name: 'x', kind: 'weekly-ish' });
    expect(k.status).toBe(400);
    expect(JSON.stringify(k.body.error)).toContain('kind');
    const t = await b.client.post('/api/v1/reports/opens', { token: 'not-a-token' });
    expect(t.status).toBe(400);
    expect(t.body.error.details.field).toBe('token');
    const missing = await b.client.post('/api/v1/reports/opens', {});
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.body.error)).toContain('token');
    expect((await b.client.post('/api/v1/reports/opens', { token: 'f'.repeat(32) })).status).toBe(404);
  });
});
