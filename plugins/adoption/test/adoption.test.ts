import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import adoption from '../backend/index.ts';
// the exports plugin streams every export source: adoption's support tables are checked through it
import exportsPlugin from '../../exports/backend/index.ts';
import { startSmtp, startWebhook } from './receivers.ts';

/**
 * Named synthetic users in one department (Eng, managed by mia), scored for
 * 2026-03-16 with the default settings (window 14 days = 3–16 March, targets:
 * 10 active days, 8 capabilities). Every expected figure is worked out in the
 * comments from the events below.
 *
 * hank (heavy)   1–16 Mar daily: agent coder ✓, feature f1..f6 (cycling) ✓, a command (/plan,/test,/review cycling) ✓,
 *                tool bash ✓, workflow enrolled + goal_reached. Window: 14 days → freq 1; capabilities
 *                coder+bash+6 features+3 commands = 11 → div 1; success 1; workflow 14/14 = 1 → 100.0.
 *                84 events. Expert: 16 workflows ≥ 10, 6 features ≥ 5, 7 days over 70 (10–16 Mar all 100).
 * dora (dropping) 24 Feb–5 Mar daily: coder ✓, f1 ✓, /plan ✓, /test ✓; 16 Mar: f1 ✓.
 *                now: 3,4,5,16 Mar = 4 days → 0.4; 4 capabilities → 0.5; success 1; no workflows
 *                → 16 + 15 + 20 = 51.0. A week earlier (24 Feb–9 Mar): 10 days → 1 → 75.0.
 *                Drop 24/75 = 32 % ≥ 15 → score_drop. 13 events.
 * erin (errors)  3–16 Mar daily: coder ✓ and coder ✗, f1, /plan; 16 Mar three more coder ✗.
 *                freq 1; capabilities 3 → 0.375; success 14/31 = 0.4516; → 40 + 11.25 + 9.032 = 60.3.
 *                24 h: 4 ✗ of 5 = 0.8 > 0.3 → error_rate_24h; window 17/31 = 0.5484 > 0.1 → error_rate;
 *                1 distinct command < 2 → limited_commands. 59 events.
 * rita (recovers) 10 Mar: f1. → 1 day 0.1, 1 capability 0.125 → 4 + 3.75 = 7.75 → 7.8 < 10 → low_score;
 *                lowest of Eng (percentile 0 of 5) → bottom_of_department; 0 commands → limited_commands.
 *                Follows "getting-started", then 17–30 Mar daily: coder ✓, f1 ✓, f2 ✓, /plan ✓, /test ✓
 *                → on 30 Mar: 1 → 40, 5 capabilities → 18.75, success 20 → 78.8; no trigger → resolved.
 * mia (manager)  20 Feb–16 Mar daily: coder ✓, f1, /plan ✓, /review ✓ → 40 + 15 + 20 = 75.0 every day from 10 Mar
 *                → expert by 7 days over 70. 56 events.
 * admin          no events → 0.0: low_score, low_usage, limited_commands; no department, no manager.
 * Org mean events per active user: (84 + 13 + 59 + 1 + 56) / 5 = 42.6; low usage below 42.6 × 0.9 = 38.34
 *                → dora (13), rita (1), admin (0).
 * Eng on 16 Mar: rita 7.8 < dora 51 < erin 60.3 < mia 75 < hank 100 → percentiles 0, 25, 50, 75, 100.
 */
let b: TestBackend;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let slack: Awaited<ReturnType<typeof startWebhook>>;
const u: Record<string, Awaited<ReturnType<TestBackend['org']['addUser']>>> = {};
let eng = '';
let adminId = '';
let n = 0;

const days = (from: string, to: string) => {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
};
const E = (who: string, day: string, hour: number, fields: Record<string, unknown>) => ({
  event_id: `ev-${++n}`,
  user_id: u[who]!.userId,
  department_id: eng,
  session_id: `${who}-${day}`,
  timestamp: `${day}T${String(hour).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}:00Z`,
  ...fields,
});
const agent = (status: string) => ({ event_type: 'agent_invocation', agent_name: 'coder', status });
const feature = (name: string, status = '') => ({ event_type: 'feature_use', feature_name: name, status });
const command = (name: string, status = '') => ({ event_type: 'command', command_name: name, status });

/** The ingestion pipeline, when the kernel does not register it by default yet (the near-real-time test posts real events). */
async function ingestionModules(): Promise<unknown[]> {
  const { kernelModules } = await import('../../../core/src/modules.ts');
  if (kernelModules.some((m: { name: string }) => m.name === 'ingestion')) return [];
  return [(await import('../../../core/src/ingestion/index.ts')).ingestionModule];
}

beforeAll(async () => {
  smtp = await startSmtp();
  slack = await startWebhook();
  b = await startTestBackend({ plugins: [adoption, exportsPlugin], config: { smtp: { url: smtp.url } }, modules: await ingestionModules() });
  u.mia = await b.org.addUser({ email: 'mia@t.local', role: 'Manager', departments: [{ name: 'Eng', manager: true }] });
  // Dora has a display name of her own; the others get the directory's default (their email's local part)
  for (const name of ['hank', 'dora', 'erin', 'rita']) u[name] = await b.org.addUser({ email: `${name}@t.local`, role: 'Developer', departments: ['Eng'], ...(name === 'dora' ? { displayName: 'Dora Diaz' } : {}) });
  eng = b.org.departments.get('Eng')!;
  adminId = (await b.client.get('/api/v1/me')).body.user.id;
  const put = await b.client.put('/api/v1/org/settings', { 'notifications.slack_webhook_url': slack.url });
  expect(put.status).toBe(200);

  const rows: Array<Record<string, unknown>> = [];
  days('2026-03-01', '2026-03-16').forEach((d, i) => {
    rows.push(E('hank', d, 9, agent('success')), E('hank', d, 9, feature(`f${(i % 6) + 1}`, 'success')), E('hank', d, 10, command(['/plan', '/test', '/review'][i % 3]!, 'success')));
    rows.push(E('hank', d, 10, { event_type: 'tool_call', tool_name: 'bash', status: 'success' }));
    rows.push(E('hank', d, 11, { event_type: 'workflow_step', action: 'enrolled', workflow_id: 'release' }), E('hank', d, 12, { event_type: 'workflow_step', action: 'goal_reached', workflow_id: 'release' }));
  });
  for (const d of days('2026-02-24', '2026-03-05'))
    rows.push(E('dora', d, 9, agent('success')), E('dora', d, 9, feature('f1', 'success')), E('dora', d, 10, command('/plan', 'success')), E('dora', d, 10, command('/test', 'success')));
  rows.push(E('dora', '2026-03-16', 9, feature('f1', 'success')));
  for (const d of days('2026-03-03', '2026-03-16')) rows.push(E('erin', d, 9, agent('success')), E('erin', d, 9, agent('failure')), E('erin', d, 10, feature('f1')), E('erin', d, 10, command('/plan')));
  rows.push(E('erin', '2026-03-16', 14, agent('failure')), E('erin', '2026-03-16', 15, agent('failure')), E('erin', '2026-03-16', 16, agent('failure')));
  rows.push(E('rita', '2026-03-10', 9, feature('f1')));
  for (const d of days('2026-03-17', '2026-03-30'))
    rows.push(E('rita', d, 9, agent('success')), E('rita', d, 9, feature('f1', 'success')), E('rita', d, 10, feature('f2', 'success')), E('rita', d, 10, command('/plan', 'success')), E('rita', d, 11, command('/test', 'success')));
  for (const d of days('2026-02-20', '2026-03-16')) rows.push(E('mia', d, 9, agent('success')), E('mia', d, 9, feature('f1')), E('mia', d, 10, command('/plan', 'success')), E('mia', d, 10, command('/review', 'success')));
  await b.org.insertEvents(rows);

  // scores only for 10–15 March (the history the 7-day expertise streak reads), then 16 March as the job would run it
  const backfill = await b.client.post('/api/v1/adoption/admin/rescore', { from: '2026-03-10', to: '2026-03-16' });
  expect(backfill.status).toBe(200);
  const run = await b.client.post('/api/v1/adoption/admin/rescore', { from: '2026-03-16', to: '2026-03-17', flags: true, notify: true });
  expect(run.status).toBe(200);
  expect(run.body.days[0]).toMatchObject({ scored: 6, raised: 4, experts: 2, notified: 4 });
});
afterAll(async () => {
  await b?.close();
  await smtp?.close();
  await slack?.close();
});

const score = (rows: any[], who: string) => rows.find((r) => r.user_id === (who === 'admin' ? adminId : u[who]!.userId));

describe('scores on 16 March', () => {
  it('match the hand-computed figures, parts and department percentiles', async () => {
    const r = await b.client.get('/api/v1/adoption/scores', { day: '2026-03-16' });
    expect(r.status).toBe(200);
    const s = r.body.users;
    expect(score(s, 'hank')).toMatchObject({ score: 100, frequency: 1, diversity: 1, success: 1, workflow: 1, percentile: 100 });
    expect(score(s, 'dora')).toMatchObject({ score: 51, frequency: 0.4, diversity: 0.5, success: 1, workflow: 0, percentile: 25 });
    expect(score(s, 'erin')).toMatchObject({ score: 60.3, frequency: 1, diversity: 0.375, success: 0.4516, workflow: 0, percentile: 50 });
    expect(score(s, 'rita')).toMatchObject({ score: 7.8, frequency: 0.1, diversity: 0.125, success: 0, percentile: 0 });
    expect(score(s, 'mia')).toMatchObject({ score: 75, percentile: 75 });
    expect(score(s, 'admin')).toMatchObject({ score: 0, percentile: null });
  });

  it('rolls departments and the org up from users', async () => {
    const r = await b.client.get('/api/v1/adoption/departments', { day: '2026-03-16' });
    // Eng: (100 + 51 + 60.3 + 7.8 + 75) / 5 = 58.82; org with admin: 294.1 / 6 = 49.02
    expect(r.body.departments).toEqual([{ department_id: eng, name: 'Eng', users: 5, score: 58.8, median: 60.3, flagged: 3, flagged_share: 0.6, suppressed: false }]);
    expect(r.body.org).toMatchObject({ users: 6, score: 49, flagged: 4 });
  });
});

describe('needs-support flags', () => {
  it('raise the expected triggers, each with its signals', async () => {
    const r = await b.client.get('/api/v1/adoption/flags');
    const flags = Object.fromEntries(r.body.flags.map((f: any) => [f.email, f]));
    expect(Object.keys(flags).sort()).toEqual(['admin@test-org.local', 'dora@t.local', 'erin@t.local', 'rita@t.local']);
    // named as the directory names them: the portal shows the name, the email beside it
    expect(Object.fromEntries(Object.entries(flags).map(([email, f]: [string, any]) => [email, f.display_name]))).toEqual({ 'admin@test-org.local': 'Administrator', 'dora@t.local': 'Dora Diaz', 'erin@t.local': 'erin', 'rita@t.local': 'rita' });
    expect(flags['dora@t.local'].triggers).toEqual(['score_drop', 'low_usage']);
    expect(flags['dora@t.local'].signals[0]).toEqual({ trigger: 'score_drop', value: 32, threshold: 15, score: 51, score_7_days_ago: 75 });
    expect(flags['dora@t.local'].signals[1]).toMatchObject({ trigger: 'low_usage', value: 13, threshold: 38.34, org_average_events: 42.6 });
    expect(flags['erin@t.local'].triggers).toEqual(['error_rate_24h', 'limited_commands', 'error_rate']);
    expect(flags['erin@t.local'].signals[0]).toEqual({ trigger: 'error_rate_24h', value: 0.8, threshold: 0.3, failures: 4, attempts: 5 });
    expect(flags['erin@t.local'].signals[2]).toEqual({ trigger: 'error_rate', value: 0.5484, threshold: 0.1, failures: 17, attempts: 31 });
    expect(flags['rita@t.local'].triggers).toEqual(['low_score', 'bottom_of_department', 'low_usage', 'limited_commands']);
    expect(flags['rita@t.local'].signals[1]).toEqual({ trigger: 'bottom_of_department', value: 0, threshold: 10, department_id: eng, department_size: 5 });
    expect(flags['admin@test-org.local'].triggers).toEqual(['low_score', 'low_usage', 'limited_commands']);
    expect(flags['erin@t.local'].why[0]).toBe("80% of the last 24 hours' attempts failed (4 of 5)");
  });

  it('come a page at a time, newest first, with the total', async () => {
    const all = (await b.client.get('/api/v1/adoption/flags')).body;
    expect(all).toMatchObject({ total: 4, offset: 0, limit: 100 });
    const first = (await b.client.get('/api/v1/adoption/flags', { limit: 3 })).body;
    const rest = (await b.client.get('/api/v1/adoption/flags', { limit: 3, offset: 3 })).body;
    expect(first.total).toBe(4);
    expect(first.flags.map((f: any) => f.id)).toEqual(all.flags.slice(0, 3).map((f: any) => f.id));
    expect(rest.flags.map((f: any) => f.id)).toEqual(all.flags.slice(3).map((f: any) => f.id));
    const raised = all.flags.map((f: any) => Date.parse(f.raised_at));
    expect([...raised].sort((x, y) => y - x)).toEqual(raised);
    const bad = await b.client.get('/api/v1/adoption/flags', { limit: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toBeTruthy();
  });

  it('notify the user and their manager by email and in-app, and Slack for the org', async () => {
    const to = (addr: string) => smtp.mails.filter((m) => m.to.includes(addr));
    expect(to('dora@t.local')).toHaveLength(1);
    expect(to('erin@t.local')).toHaveLength(1);
    expect(to('rita@t.local')[0]!.subject).toBe('A learning path to get more out of your AI tools');
    expect(to('rita@t.local')[0]!.body).toContain('adoption score 7.8 is under 10');
    expect(to('admin@test-org.local')).toHaveLength(1);
    // mia manages Eng: one mail per flagged member, none for the admin (no department)
    const mia = to('mia@t.local');
    expect(mia).toHaveLength(3);
    expect(mia.map((m) => m.subject).sort()).toEqual(['dora@t.local', 'erin@t.local', 'rita@t.local'].map(() => expect.stringContaining('may need support')));
    expect(to('hank@t.local')).toHaveLength(0);
    expect(smtp.mails).toHaveLength(7);
    // Slack: the manager-facing message of each of the four flags
    expect(slack.bodies).toHaveLength(4);
    expect(slack.bodies.map((x) => String(x.text)).filter((t) => t.includes('error_rate') || t.includes('failed'))).toHaveLength(1);
    // in-app: mia has three flags and her own expertise move
    const inbox = await u.mia!.get('/api/v1/notifications');
    expect(inbox.status).toBe(200);
    const subjects = (inbox.body.notifications ?? inbox.body.items).map((x: any) => x.subject);
    expect(subjects.filter((s: string) => s.includes('may need support'))).toHaveLength(3);
    expect(subjects).toContain('You are now an AI expert in your organisation');
  });

  it('records expertise moves with the criteria met', async () => {
    const r = await b.client.get('/api/v1/adoption/expertise');
    const ex = Object.fromEntries(r.body.experts.map((e: any) => [e.email, e]));
    expect(Object.keys(ex).sort()).toEqual(['hank@t.local', 'mia@t.local']);
    expect(ex['hank@t.local'].reasons).toEqual([
      { criterion: 'sustained_score', value: 7, threshold: 7 },
      { criterion: 'successful_workflows', value: 16, threshold: 10 },
      { criterion: 'successful_features', value: 6, threshold: 5 },
    ]);
    expect(ex['mia@t.local'].reasons).toEqual([{ criterion: 'sustained_score', value: 7, threshold: 7 }]);
    expect(ex['hank@t.local'].day).toBe('2026-03-16');
  });

  it('uses the thresholds an Admin sets, and only an Admin', async () => {
    expect((await u.mia!.put('/api/v1/adoption/settings', { thresholds: { errorRate: 0.6 } })).status).toBe(403);
    const bad = await b.client.put('/api/v1/adoption/settings', { thresholds: { errorRate: 3 } });
    expect(bad.status).toBe(400);
    // nothing saved yet (the refused change included): every value is a default
    expect((await b.client.get('/api/v1/adoption/settings')).body.customized).toBe(false);
    const ok = await b.client.put('/api/v1/adoption/settings', { thresholds: { errorRate: 0.6 } });
    expect(ok.body.settings.thresholds).toMatchObject({ errorRate: 0.6, lowScore: 10 });
    expect(ok.body.customized).toBe(true);
    expect((await b.client.get('/api/v1/adoption/settings')).body.customized).toBe(true);
    // rescoring the same day is idempotent (one row per user, one open flag) and sees the new threshold
    const again = await b.client.post('/api/v1/adoption/admin/rescore', { from: '2026-03-16', to: '2026-03-17', flags: true });
    expect(again.body.days[0]).toMatchObject({ scored: 6, raised: 0, updated: 4, resolved: 0 });
    const erin = (await b.client.get('/api/v1/adoption/flags')).body.flags.find((f: any) => f.email === 'erin@t.local');
    expect(erin.latest_triggers).toEqual(['error_rate_24h', 'limited_commands']);
    expect(erin.triggers).toEqual(['error_rate_24h', 'limited_commands', 'error_rate']);
    await b.client.put('/api/v1/adoption/settings', { thresholds: { errorRate: 0.1 } });
  });
});

describe('privacy', () => {
  it('shows individual scores to the user, their managers and Admins only', async () => {
    const dora = await u.dora!.get('/api/v1/adoption/scores', { day: '2026-03-16' });
    expect(dora.body.users.map((x: any) => x.email)).toEqual(['dora@t.local']);
    expect((await u.dora!.get(`/api/v1/adoption/users/${u.erin!.userId}`)).status).toBe(403);
    expect((await u.dora!.get('/api/v1/adoption/users/me', { from: '2026-03-10', to: '2026-03-17' })).body.history).toHaveLength(7);
    expect((await u.dora!.get('/api/v1/adoption/flags')).status).toBe(403);
    const mia = await u.mia!.get('/api/v1/adoption/scores', { day: '2026-03-16' });
    expect(mia.body.users).toHaveLength(5);
    await b.client.put('/api/v1/adoption/settings', { privacy: { individualAccess: 'admins' } });
    expect((await u.mia!.get('/api/v1/adoption/scores', { day: '2026-03-16' })).body.users.map((x: any) => x.email)).toEqual(['mia@t.local']);
    await b.client.put('/api/v1/adoption/settings', { privacy: { individualAccess: 'managers' } });
  });

  it('suppresses department figures for groups under the minimum size', async () => {
    await b.client.put('/api/v1/adoption/settings', { privacy: { minGroupSize: 6 } });
    const r = await b.client.get('/api/v1/adoption/departments', { day: '2026-03-16' });
    expect(r.body.departments[0]).toEqual({ department_id: eng, name: 'Eng', users: 5, suppressed: true, reason: 'fewer than 6 users' });
    const peers = await u.dora!.get('/api/v1/adoption/users/me', { from: '2026-03-16', to: '2026-03-17' });
    expect(peers.body.peers[0].series[0]).toEqual({ day: '2026-03-16', suppressed: true });
    await b.client.put('/api/v1/adoption/settings', { privacy: { minGroupSize: 5 } });
  });

  it('remembers read answers until the plugin writes what they read', async () => {
    const ask = () => b.client.get('/api/v1/adoption/departments', { day: '2026-03-16' });
    const first = await ask();
    expect((await ask()).headers['x-orrery-answer']).toBe('remembered');
    // a settings change through the plugin's own route: the next answer is computed and follows it
    await b.client.put('/api/v1/adoption/settings', { privacy: { minGroupSize: 6 } });
    const suppressed = await ask();
    expect(suppressed.headers['x-orrery-answer']).not.toBe('remembered');
    expect(suppressed.body.departments[0].suppressed).toBe(true);
    await b.client.put('/api/v1/adoption/settings', { privacy: { minGroupSize: 5 } });
    expect((await ask()).body).toEqual(first.body);
    // scoring writes scores: remembered answers that read them are not served again
    expect((await ask()).headers['x-orrery-answer']).toBe('remembered');
    const rescored = await b.client.post('/api/v1/adoption/admin/rescore', { from: '2026-03-16', to: '2026-03-17' });
    expect(rescored.status, rescored.text).toBe(200);
    expect((await ask()).headers['x-orrery-answer']).not.toBe('remembered');
  });
});

describe('interventions, recovery and reports', () => {
  it('gives each flagged user a learning path from their signals; following it is tracked', async () => {
    const path = (await u.rita!.get('/api/v1/adoption/learning-path')).body.steps;
    expect(path.map((s: any) => s.key)).toEqual(['getting-started', 'daily-habits', 'command-tour', 'office-hours']);
    expect(path[0].why).toContain('adoption score 7.8 is under 10');
    const follow = await u.rita!.post(`/api/v1/adoption/learning-path/${path[0].id}/follow`);
    expect(follow.status).toBe(200);
    expect((await u.dora!.post(`/api/v1/adoption/learning-path/${path[0].id}/follow`)).status).toBe(404);
  });

  it('resolves the flag of the user who recovers, and reports effectiveness followed vs not', async () => {
    const run = await b.client.post('/api/v1/adoption/admin/rescore', { from: '2026-03-30', to: '2026-03-31', flags: true });
    expect(run.status).toBe(200);
    const rita = (await b.client.get(`/api/v1/adoption/users/${u.rita!.userId}`, { from: '2026-03-30', to: '2026-03-31' })).body;
    expect(rita.history[0]).toMatchObject({ day: '2026-03-30', score: 78.8 });
    expect(rita.flag).toMatchObject({ status: 'resolved', raised_day: '2026-03-16', resolved_day: '2026-03-30' });
    const eff = await b.client.get('/api/v1/adoption/effectiveness', { from: '2026-03-16', to: '2026-03-17', days: 14 });
    expect(eff.body).toMatchObject({
      followed: { flagged: 1, recovered: 1, rate: 1, median_days_to_recover: 14 },
      not_followed: { flagged: 3, recovered: 0, rate: 0 },
      lift: 1,
    });
  });

  it('produces the weekly report by department and signal, and the heatmap', async () => {
    const r = await b.client.get('/api/v1/adoption/reports/weekly', { week: '2026-03-18' });
    expect(r.body).toMatchObject({ period: 'weekly', from: '2026-03-16', to: '2026-03-23', flags_raised: 4 });
    expect(r.body.by_signal).toEqual({ score_drop: 1, low_usage: 3, error_rate_24h: 1, limited_commands: 3, error_rate: 1, low_score: 2, bottom_of_department: 1 });
    expect(r.body.by_department.find((d: any) => d.name === 'Eng')).toMatchObject({ flagged_users: 3, suppressed: false });
    expect(r.body.flagged_share[0]).toEqual({ day: '2026-03-16', scored: 6, flagged: 4, share: 0.6667 });
    const h = await b.client.get('/api/v1/adoption/heatmap', { from: '2026-03-09', to: '2026-03-23' });
    // a day that is not on the calendar is named as such, not reported as a range out of order
    const notADay = await b.client.get('/api/v1/adoption/heatmap', { from: '2026-13-01', to: '2026-03-23' });
    expect(notADay.status).toBe(400);
    expect(notADay.body.error.details).toEqual([expect.objectContaining({ field: 'from' })]);
    expect(notADay.body.error.message).toMatch(/from must match format "date"/);
    expect(h.body.cells.find((c: any) => c.week === '2026-03-16T00:00:00Z')).toMatchObject({ name: 'Eng', users: 5, score: 58.8, flagged_share: 0.6 });
  });

  it('offers the support tables as export sources equal to its own report routes, suppressed and for Managers and Admins only', async () => {
    const exported = async (table: string, from: string, to: string, who = b.client) => {
      const r = await who.get('/api/v1/export/json', { dataset: `adoption.${table}`, from, to });
      return r;
    };
    // interventions: by_intervention of GET /effectiveness for the same days and the org's 14 days
    const sameAsRoute = async () => {
      const eff = (await b.client.get('/api/v1/adoption/effectiveness', { from: '2026-03-16', to: '2026-03-17', days: 14 })).body;
      const iv = await exported('interventions', '2026-03-16', '2026-03-17');
      expect(iv.status, iv.text).toBe(200);
      expect(eff.by_intervention.length).toBeGreaterThan(0);
      expect(iv.body).toEqual(
        eff.by_intervention.map((r: any) => ({
          intervention_id: r.intervention_id, key: r.key, title: r.title, users: r.users,
          ...Object.fromEntries(['assigned', 'shown', 'followed', 'dismissed', 'resolved'].map((k) => [k, r.suppressed ? null : r[k]])),
          within_days: 14, effectiveness: r.suppressed ? null : r.effectiveness, lift: r.suppressed ? null : r.lift, suppressed: r.suppressed,
        })),
      );
      return iv.body as any[];
    };
    // four flags were raised that day: no intervention reached five users, every one is withheld
    const suppressedRows = await sameAsRoute();
    expect(suppressedRows.every((r) => r.users < 5 && r.suppressed && r.assigned === null && r.effectiveness === null)).toBe(true);
    await b.client.put('/api/v1/adoption/settings', { privacy: { minGroupSize: 1 } });
    let iv: any[];
    try {
      iv = await sameAsRoute();
    } finally {
      await b.client.put('/api/v1/adoption/settings', { privacy: { minGroupSize: 5 } });
    }
    // rita followed getting-started and recovered within 14 days (30 March)
    const gs = iv.find((r) => r.key === 'getting-started');
    expect(gs).toMatchObject({ followed: 1, suppressed: false, effectiveness: 1 });
    expect(gs.resolved).toBeGreaterThanOrEqual(1);
    // flags by department and signal: by_department × kind of the weekly report of the same week
    const weekly = (await b.client.get('/api/v1/adoption/reports/weekly', { week: '2026-03-18' })).body;
    const fl = await exported('flags_by_signal', '2026-03-16', '2026-03-23');
    expect(fl.status, fl.text).toBe(200);
    const expected = [...weekly.by_department]
      .sort((a: any, c: any) => String(a.name ?? '').localeCompare(String(c.name ?? '')))
      .flatMap((d: any) => ['struggling', 'slipping', 'not_started', 'light_use'].map((k) => ({ department_id: d.department_id, department: d.name, department_size: d.department_size, signal: k, flagged_users: d.suppressed ? null : d.by_kind[k], suppressed: d.suppressed })));
    expect(fl.body).toEqual(expected);
    const engRows = fl.body.filter((r: any) => r.department === 'Eng');
    expect(engRows.reduce((a: number, r: any) => a + r.flagged_users, 0)).toBe(3); // dora, erin, rita
    // a department under the minimum group size keeps its rows but no counts
    await b.client.put('/api/v1/adoption/settings', { privacy: { minGroupSize: 6 } });
    try {
      const small = await exported('flags_by_signal', '2026-03-16', '2026-03-23');
      expect(small.body.filter((r: any) => r.department === 'Eng').every((r: any) => r.suppressed === true && r.flagged_users === null)).toBe(true);
    } finally {
      await b.client.put('/api/v1/adoption/settings', { privacy: { minGroupSize: 5 } });
    }
    // the manager sees the figures adoption's report routes show her; a Developer gets none
    const asMia = await exported('interventions', '2026-03-16', '2026-03-17', u.mia);
    expect(asMia.status, asMia.text).toBe(200);
    expect(asMia.body).toEqual(suppressedRows);
    // a Developer (no adoption.manage) reads both tables empty
    for (const t of ['interventions', 'flags_by_signal']) {
      const asDora = await exported(t, '2026-03-16', '2026-03-23', u.dora);
      expect(asDora.status, asDora.text).toBe(200);
      expect(asDora.body).toEqual([]);
    }
  });

  it('values time saved and errors avoided against spend', async () => {
    // week of 16 March: successful invocations hank 1, erin 1, mia 1 (16th) + rita 6 (17–22) = 9 → 9 × 10 min = 1.5 h × $75
    const r = await b.client.get('/api/v1/adoption/roi', { from: '2026-03-16', to: '2026-03-23', bucket: 'week' });
    expect(r.body.bucket).toBe('week');
    expect(r.body.series[0]).toMatchObject({ start: '2026-03-16T00:00:00Z', week: '2026-03-16T00:00:00Z', hours_saved: 1.5, time_value_usd: 112.5, errors_avoided: 0, cost_usd: 0, roi: null });
    // up to a month the default is days: a week cut by the range's edge would read as a trend
    const daily = await b.client.get('/api/v1/adoption/roi', { from: '2026-03-16', to: '2026-03-23' });
    expect(daily.body.bucket).toBe('day');
    expect(daily.body.series[0]).toMatchObject({ start: '2026-03-16T00:00:00Z', hours_saved: 0.5, time_value_usd: 37.5 }); // hank, erin, mia
    expect(daily.body.series[0].week).toBeUndefined();
    expect(daily.body.series.reduce((a: number, d: { time_value_usd: number }) => a + d.time_value_usd, 0)).toBeCloseTo(112.5);
    // totals of the exact figures: the same whichever way the range is cut (not 6 × 0.2 h + 0.5)
    expect(daily.body.totals).toEqual(r.body.totals);
    expect(daily.body.totals.hours_saved).toBe(1.5);
    const long = await b.client.get('/api/v1/adoption/roi', { from: '2026-01-05', to: '2026-03-23' });
    expect(long.body.bucket).toBe('week');
    expect((await b.client.get('/api/v1/adoption/roi', { from: '2026-03-16', to: '2026-03-23', bucket: 'month' })).status).toBe(400);
  });
});

describe('near real time', () => {
  it('flags a user from newly ingested events at the next rescore-dirty run, once', async () => {
    const nina = await b.org.addUser({ email: 'nina@t.local', role: 'Developer', departments: ['Eng'] });
    const hook = await b.org.hookToken();
    const now = Date.now();
    const events = [...Array(6)].map((_, i) => ({
      event_id: `nina-${i}`,
      event_type: 'command',
      command_name: '/deploy',
      status: i === 0 ? 'success' : 'failure',
      user_id: nina.userId,
      department_id: eng,
      session_id: 'nina-s1',
      timestamp: new Date(now - (10 - i) * 60_000).toISOString(),
    }));
    const res = await b.kernel.app.inject({ method: 'POST', url: '/api/v1/events/batch', headers: { authorization: `Bearer ${hook}`, 'content-type': 'application/json' }, payload: JSON.stringify({ events }) });
    expect(res.statusCode, res.body).toBe(200);
    expect(JSON.parse(res.body).accepted).toBe(6);
    for (let i = 0; i < 50 && (await b.client.get('/api/v1/adoption/status')).body.dirty_users === 0; i++) await new Promise((r) => setTimeout(r, 100));
    const before = smtp.mails.length;
    const run = await b.runJob('adoption', 'rescore-dirty');
    expect(run['test-org']).toMatchObject({ dirty: 1, scored: 1, raised: 1, notified: 1 });
    // 1 day → 0.04 × 100 = 4; 1 capability → 3.75; 1 ✓ of 6 → 3.33; → 11.1
    const flag = (await b.client.get('/api/v1/adoption/flags')).body.flags.find((f: any) => f.email === 'nina@t.local');
    expect(flag.triggers).toEqual(['error_rate_24h', 'limited_commands']);
    expect(flag.signals[0]).toMatchObject({ value: 0.8333, failures: 5, attempts: 6 });
    expect(smtp.mails.slice(before).flatMap((m) => m.to).sort()).toEqual(['mia@t.local', 'nina@t.local']);
    // nothing dirty → nothing to do; a rerun of the whole day keeps one flag and sends nothing new
    expect((await b.runJob('adoption', 'rescore-dirty'))['test-org']).toEqual({ dirty: 0 });
    await b.runJob('adoption', 'score-daily');
    await b.runJob('adoption', 'score-daily');
    const open = (await b.client.get('/api/v1/adoption/flags')).body.flags.filter((f: any) => f.email === 'nina@t.local');
    expect(open).toHaveLength(1);
    expect(smtp.mails.filter((m) => m.to.includes('nina@t.local'))).toHaveLength(1);
    // following a step through an intervention event is tracked on the assignment
    const iv = { event_id: 'nina-iv', event_type: 'intervention', action: 'followed', intervention_id: 'fixing-errors', user_id: nina.userId, department_id: eng, session_id: 'nina-s1', timestamp: new Date().toISOString() };
    const r2 = await b.kernel.app.inject({ method: 'POST', url: '/api/v1/events', headers: { authorization: `Bearer ${hook}`, 'content-type': 'application/json' }, payload: JSON.stringify(iv) });
    expect(r2.statusCode).toBe(202);
    let step: any;
    for (let i = 0; i < 50; i++) {
      step = (await nina.get('/api/v1/adoption/learning-path')).body.steps.find((s: any) => s.key === 'fixing-errors');
      if (step?.status === 'followed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(step.status).toBe('followed');

    // an earlier flag of Nina's, resolved, that suggested some of the same interventions: her
    // path names each intervention once (the newest suggestion)
    const knex = () => b.kernel.services.knex.withSchema(b.org.schema);
    const current = (await nina.get('/api/v1/adoption/learning-path')).body.steps as any[];
    const byKey = new Map(((await knex().table('adoption_interventions').select('id', 'key')) as Array<{ id: string; key: string }>).map((x) => [x.key, x.id]));
    const repeated = current.map((x) => x.key);
    const onlyEarlier = [...byKey.keys()].find((k) => !repeated.includes(k))!;
    const earlier = { id: randomUUID(), user_id: nina.userId, status: 'resolved', raised_day: '2026-02-01', resolved_day: '2026-02-20', triggers: JSON.stringify(['low_score']), signals: JSON.stringify([]) };
    await knex().table('adoption_flags').insert(earlier);
    const earlierSteps = [...repeated, onlyEarlier].map((k) => ({ id: randomUUID(), flag_id: earlier.id, user_id: nina.userId, intervention_id: byKey.get(k)!, assigned_day: '2026-02-01' }));
    await knex().table('adoption_assignments').insert(earlierSteps);
    try {
      const path = (await nina.get('/api/v1/adoption/learning-path')).body.steps as any[];
      // each intervention once, newest first: the current flag's steps as they were, then the earlier flag's own
      expect(path.map((x) => x.key)).toEqual([...repeated, onlyEarlier]);
      expect(path.slice(0, current.length).map((x) => [x.id, x.status])).toEqual(current.map((x) => [x.id, x.status]));
      expect(path.at(-1)).toMatchObject({ id: earlierSteps.at(-1)!.id, assigned_day: '2026-02-01', status: 'open' });
      // the user detail keeps every assignment, the earlier flag's copies included
      const detail = (await b.client.get(`/api/v1/adoption/users/${nina.userId}`)).body.learning_path as any[];
      expect(detail.filter((x) => x.flag_id === earlier.id).map((x) => x.id).sort()).toEqual(earlierSteps.map((x) => x.id).sort());
    } finally {
      await knex().table('adoption_assignments').where({ flag_id: earlier.id }).delete();
      await knex().table('adoption_flags').where({ id: earlier.id }).delete();
    }
  });
});
