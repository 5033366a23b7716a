import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import userActivity from '../backend/index.ts';

/**
 * A small org whose every figure can be counted by hand:
 *   Eng (open): ana (manager), ben, cy. Sales (restricted): dee (manager), eve.
 *   2026-03-02 is a Monday.
 */
let b: TestBackend;
const u: Record<string, { userId: string; get: TestBackend['client']['get'] }> = {};
let eng = '';
let sales = '';
let n = 0;
const ev = (user: string, dept: string, ts: string, extra: Record<string, unknown> = {}) => ({
  event_id: `e${++n}`,
  event_type: 'feature_use',
  feature_name: 'chat',
  user_id: u[user]!.userId,
  department_id: dept,
  timestamp: ts,
  ...extra,
});
const cmd = (user: string, dept: string, ts: string, name: string, session: string) =>
  ev(user, dept, ts, { event_type: 'command', command_name: name, session_id: session, feature_name: '', status: 'success' });

beforeAll(async () => {
  b = await startTestBackend({ plugins: [userActivity] });
  u.ana = await b.org.addUser({ email: 'ana@t.local', role: 'Manager', departments: [{ name: 'Eng', manager: true }] });
  u.ben = await b.org.addUser({ email: 'ben@t.local', role: 'Developer', departments: ['Eng'] });
  u.cy = await b.org.addUser({ email: 'cy@t.local', role: 'Developer', departments: ['Eng'] });
  u.dee = await b.org.addUser({ email: 'dee@t.local', role: 'Manager', departments: [{ name: 'Sales', manager: true }], restricted: ['Sales'] });
  u.eve = await b.org.addUser({ email: 'eve@t.local', role: 'Developer', departments: ['Sales'], restricted: ['Sales'] });
  eng = b.org.departments.get('Eng')!;
  sales = b.org.departments.get('Sales')!;
  const rows = [
    // week of Feb 23 (before the range): ben only → ben "returning" in the first week of March
    ev('ben', eng, '2026-02-25T09:00:00Z'),
    // Mon 2 Mar: ana, ben, eve
    ev('ana', eng, '2026-03-02T09:00:00Z', { session_id: 's-ana-1', status: 'success' }),
    ev('ana', eng, '2026-03-02T09:30:00Z', { session_id: 's-ana-1', event_type: 'session', action: 'ended', duration_ms: 1_800_000, feature_name: '' }),
    ev('ben', eng, '2026-03-02T10:00:00Z', { status: 'failure' }),
    ev('eve', sales, '2026-03-02T11:00:00Z', { feature_name: 'search' }),
    // Tue 3 Mar: ana twice (one active user), cy
    ev('ana', eng, '2026-03-03T09:00:00Z', { feature_name: 'search' }),
    ev('ana', eng, '2026-03-03T15:00:00Z'),
    ev('cy', eng, '2026-03-03T16:00:00Z'),
    // Mon 9 Mar: ana
    ev('ana', eng, '2026-03-09T09:00:00Z'),
    // commands: ana runs /plan /code /test in three sessions; ben once, plus /test /test /test in three sessions
    ...['s1', 's2', 's3'].flatMap((s, i) => [
      cmd('ana', eng, `2026-03-1${i}T10:00:00Z`, '/plan', `a-${s}`),
      cmd('ana', eng, `2026-03-1${i}T10:01:00Z`, '/code', `a-${s}`),
      cmd('ana', eng, `2026-03-1${i}T10:02:00Z`, '/test', `a-${s}`),
      cmd('ben', eng, `2026-03-1${i}T11:00:00Z`, '/test', `b-${s}`),
      cmd('ben', eng, `2026-03-1${i}T11:01:00Z`, '/test', `b-${s}`),
      cmd('ben', eng, `2026-03-1${i}T11:02:00Z`, '/test', `b-${s}`),
    ]),
    cmd('ben', eng, '2026-03-13T10:00:00Z', '/plan', 'b-s4'),
    cmd('ben', eng, '2026-03-13T10:01:00Z', '/code', 'b-s4'),
    // other org noise must never count
  ];
  // the first half folded into the rollups, the rest inserted after the watermark moved
  await b.org.insertEvents(rows.filter((_, i) => i % 2 === 0));
  await b.foldRollups();
  await b.org.insertEvents(rows.filter((_, i) => i % 2 === 1));
  const other = await b.createOrg('other-ua');
  await other.insertEvents([{ event_id: 'x1', event_type: 'feature_use', user_id: 'stranger', department_id: '', timestamp: '2026-03-02T09:00:00Z' }]);
});
afterAll(async () => {
  if (process.env.SHOW_ERRORS) console.log(b.logs.filter((l) => l.includes('"level":50')).join('\n').slice(0, 4000));
  await b?.close();
});

const range = { from: '2026-03-02T00:00:00Z', to: '2026-03-16T00:00:00Z' };

describe('GET /api/v1/metrics/dau', () => {
  it('counts distinct active users per day, filling empty days with 0', async () => {
    const r = await b.client.get('/api/v1/metrics/dau', { from: '2026-03-02T00:00:00Z', to: '2026-03-05T00:00:00Z' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      series: [
        { bucket: '2026-03-02T00:00:00.000Z'.replace('.000', ''), value: 3 },
        { bucket: '2026-03-03T00:00:00Z', value: 2 },
        { bucket: '2026-03-04T00:00:00Z', value: 0 },
      ],
    });
  });
  it('gives WAU by week (Monday starts) and MAU by month, and filters by department', async () => {
    const wk = await b.client.get('/api/v1/metrics/dau', { ...range, granularity: 'week' });
    // week of 2 Mar: ana, ben, cy, eve; week of 9 Mar: ana, ben
    expect(wk.body.series).toEqual([
      { bucket: '2026-03-02T00:00:00Z', value: 4 },
      { bucket: '2026-03-09T00:00:00Z', value: 2 },
    ]);
    const mo = await b.client.get('/api/v1/metrics/dau', { from: '2026-02-01T00:00:00Z', to: '2026-04-01T00:00:00Z', granularity: 'month' });
    expect(mo.body.series).toEqual([
      { bucket: '2026-02-01T00:00:00Z', value: 1 },
      { bucket: '2026-03-01T00:00:00Z', value: 4 },
    ]);
    const dept = await b.client.get('/api/v1/metrics/dau', { ...range, granularity: 'week', department_id: sales });
    expect(dept.body.series.map((s: any) => s.value)).toEqual([1, 0]);
  });
  it('is documented in OpenAPI under the contract path', async () => {
    const doc = (await b.client.get('/api/docs/json')).body;
    expect(doc.paths['/api/v1/metrics/dau'].get.tags).toEqual(['user-activity']);
    expect(Object.keys(doc.paths)).toContain('/api/v1/users/engagement');
  });
  it('buckets in a named time zone and rejects bad input with 400', async () => {
    const r = await b.client.get('/api/v1/metrics/dau', { from: '2026-03-02T00:00:00Z', to: '2026-03-03T00:00:00Z', tz: 'America/New_York' });
    // 2 Mar 00:00Z is 1 Mar 19:00 in New York: the first bucket is 1 Mar local (05:00Z)
    expect(r.body.series[0]).toEqual({ bucket: '2026-03-01T05:00:00.000Z', value: 0 });
    expect(r.body.series[1]).toEqual({ bucket: '2026-03-02T05:00:00.000Z', value: 3 });
    expect((await b.client.get('/api/v1/metrics/dau', { from: 'yesterday' })).status).toBe(400);
    expect((await b.client.get('/api/v1/metrics/dau', { granularity: 'year' })).status).toBe(400);
  });
});

describe('GET /api/v1/users/activity', () => {
  it('reports stickiness, sessions, lifecycle and breakdowns', async () => {
    const r = await b.client.get('/api/v1/users/activity', { ...range, granularity: 'week' });
    expect(r.status).toBe(200);
    expect(r.body.active_users).toBe(4);
    // user-days: 2 Mar 3, 3 Mar 2, 9 Mar 1, 10 Mar 2, 11 Mar 2, 12 Mar 2, 13 Mar 1 = 13 over 14 days
    expect(r.body.avg_dau).toBeCloseTo(13 / 14, 2);
    expect(r.body.stickiness).toBeCloseTo(13 / 14 / 4, 3);
    expect(r.body.by_department.find((d: any) => d.department_id === eng)).toMatchObject({ name: 'Eng', active_users: 3 });
    // week 1: ben returning (active the week before), ana/cy/eve new; week 2: ana, ben returning; cy, eve dormant
    expect(r.body.lifecycle).toEqual([
      { bucket: '2026-03-02T00:00:00Z', new: 3, returning: 1, resurrected: 0, dormant: 0 },
      { bucket: '2026-03-09T00:00:00Z', new: 0, returning: 2, resurrected: 0, dormant: 2 },
    ]);
    // ana's s-ana-1 lasted 30 min (ended event); the command sessions span 2 minutes each
    expect(r.body.sessions.sessions).toBe(8);
  });
  it('draws the hour × weekday and department × week heatmaps', async () => {
    const h = await b.client.get('/api/v1/users/activity/heatmap', { from: '2026-03-02T00:00:00Z', to: '2026-03-04T00:00:00Z' });
    expect(h.body.cells).toContainEqual({ weekday: 1, hour: 9, events: 2, users: 1 });
    const d = await b.client.get('/api/v1/users/activity/heatmap', { ...range, kind: 'department_week' });
    expect(d.body.cells).toContainEqual({ department_id: sales, name: 'Sales', week: '2026-03-02T00:00:00Z', users: 1, events: 1 });
  });
});

describe('usage, engagement and visibility', () => {
  it('reports feature use with diversity', async () => {
    const r = await b.client.get('/api/v1/users/usage', { ...range, kind: 'feature' });
    expect(r.body.items.map((i: any) => [i.name, i.uses, i.users])).toEqual([
      ['chat', 5, 3],
      ['search', 2, 2],
    ]);
    // ana uses 2 features, ben 1, cy 1, eve 1
    expect(r.body.diversity.mean_items_per_user).toBe(1.25);
  });
  it('hides users of a restricted department from a Developer but not from its manager or an Admin', async () => {
    const dev = await u.ben!.get('/api/v1/users/engagement', range);
    expect(dev.body.users.map((x: any) => x.email).sort()).toEqual(['ana@t.local', 'ben@t.local', 'cy@t.local']);
    const mgr = await u.dee!.get('/api/v1/users/engagement', range);
    expect(mgr.body.users.map((x: any) => x.email)).toContain('eve@t.local');
    const admin = await b.client.get('/api/v1/users/engagement', { ...range, sort: 'active_days' });
    expect(admin.body.users[0]).toMatchObject({ email: 'ana@t.local', rank: 1, active_days: 6 });
    expect((await u.ben!.get(`/api/v1/users/${u.eve!.userId}/analytics`, range)).status).toBe(403);
    const self = await u.eve!.get(`/api/v1/users/me/analytics`, range);
    expect(self.status).toBe(200);
    expect(self.body.totals.events).toBe(1);
    const ana = await u.ben!.get(`/api/v1/users/${u.ana!.userId}/analytics`, range);
    expect(ana.body.top.command.map((c: any) => c.name)).toEqual(['/code', '/plan', '/test']);
    expect(ana.body.compare.teams[0].name).toBe('Eng');
  });
  it('answers for a user known only from events, and 404 for an id nobody has, not a server error', async () => {
    // events may name their users with any string; only members have UUIDs
    await b.org.insertEvents([{ event_id: 'ext-1', event_type: 'feature_use', user_id: 'ext-user-7', department_id: '', feature_name: 'chat', timestamp: '2026-03-03T09:00:00Z' }]);
    const ext = await b.client.get('/api/v1/users/ext-user-7/analytics', range);
    expect(ext.status).toBe(200);
    expect(ext.body.totals.events).toBe(1);
    expect(ext.body.user).toMatchObject({ id: 'ext-user-7', email: null, department_ids: [] });
    const nobody = await b.client.get('/api/v1/users/nobody-here/analytics', range);
    expect(nobody.status).toBe(404);
    expect(nobody.body.error.code).toBe('not_found');
  });
});

describe('command analytics', () => {
  it('ranks commands and finds sequences within sessions', async () => {
    const top = await b.client.get('/api/v1/users/commands', range);
    expect(top.body.items[0]).toMatchObject({ name: '/test', uses: 12, users: 2 });
    const seq = await b.client.get('/api/v1/users/commands/sequences', { ...range, n: 2 });
    // /test→/test: 2 per ben session × 3; /plan→/code: 3 (ana) + 1 (ben); /code→/test: 3
    expect(seq.body.sequences.slice(0, 3)).toEqual([
      { sequence: ['/test', '/test'], occurrences: 6, sessions: 3, users: 1 },
      { sequence: ['/plan', '/code'], occurrences: 4, sessions: 4, users: 2 },
      { sequence: ['/code', '/test'], occurrences: 3, sessions: 3, users: 1 },
    ]);
  });
  it('flags sequences repeated across sessions as automation candidates', async () => {
    const p = await b.client.get('/api/v1/users/commands/patterns', { ...range, n: 3, min_sessions: 3 });
    expect(p.body.patterns.map((x: any) => [x.sequence.join(' '), x.kind, x.sessions])).toEqual([
      ['/plan /code /test', 'repeated_sequence', 3],
      ['/test /test /test', 'repeated_command', 3],
    ]);
  });
  it('answers the command overview as the three routes answer, in one query', async () => {
    const [top, seq, pat] = await Promise.all([
      b.client.get('/api/v1/users/commands', { ...range, limit: 2 }),
      b.client.get('/api/v1/users/commands/sequences', { ...range, n: 2, limit: 2 }),
      b.client.get('/api/v1/users/commands/patterns', { ...range, n: 3, min_sessions: 3, limit: 5 }),
    ]);
    const o = await b.client.get('/api/v1/users/commands/overview', { ...range, limit: 2, seq_n: 2, seq_limit: 2, pattern_n: 3, min_sessions: 3, pattern_limit: 5 });
    expect(o.status).toBe(200);
    const { sequences, patterns, ...items } = o.body;
    expect(items).toEqual(top.body);
    expect(sequences).toEqual(seq.body);
    expect(patterns).toEqual(pat.body);
    // the same n for both lists, and a department filter
    const same = await b.client.get('/api/v1/users/commands/overview', { ...range, department_id: eng, seq_n: 3, pattern_n: 3, min_sessions: 3 });
    const seq3 = await b.client.get('/api/v1/users/commands/sequences', { ...range, department_id: eng, n: 3, limit: 5 });
    const pat3 = await b.client.get('/api/v1/users/commands/patterns', { ...range, department_id: eng, n: 3, min_sessions: 3, limit: 5 });
    expect(same.body.sequences).toEqual(seq3.body);
    expect(same.body.patterns).toEqual(pat3.body);
    // nothing in the range: empty lists, not an error
    const none = await b.client.get('/api/v1/users/commands/overview', { from: '2020-01-01T00:00:00Z', to: '2020-01-08T00:00:00Z', tz: 'UTC' });
    expect(none.status).toBe(200);
    expect([none.body.items, none.body.sequences.sequences, none.body.patterns.patterns]).toEqual([[], [], []]);
  });
  it('tracks adoption of a command across departments by week', async () => {
    const a = await b.client.get('/api/v1/users/commands/adoption', { ...range, command: '/plan' });
    const series = a.body.commands[0].departments[0].series;
    expect(series).toEqual([{ week: '2026-03-09T00:00:00Z', users: 2, share_of_active: 1, cumulative_adopters: 2 }]);
  });
});
