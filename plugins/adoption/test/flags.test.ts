import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import adoption from '../backend/index.ts';
import { startSmtp } from './receivers.ts';
import { rng } from '@orrery/backend-test-utils/random';

/**
 * Support flags over a month of random history (a seeded generator: the same data every run).
 * The first daily run back-fills four weeks; the flags it raises day by day are checked against
 * a brute-force evaluation of the same rules written here from the events the test sent, and
 * nobody hears of them until an Admin confirms. A threshold change is previewed, then saved:
 * the preview's count is what the save leaves flagged, again without notifying. New activity
 * still notifies at once, through a real SMTP server.
 *
 * The rules checked by hand (the others are switched off so that the reference stays short):
 *   low_usage        events in the 14-day window < 0.9 × mean events per active user of the org
 *   limited_commands distinct commands in the window < 2
 *   error_rate       failures / (successes + failures) in the window > 0.1, with ≥ 10 attempts
 */
const DAY = 86_400_000;
const WINDOW = 14;
const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);
const today = dayOf(Date.now());
const addDays = (d: string, n: number) => dayOf(Date.parse(`${d}T00:00:00Z`) + n * DAY);

interface Ev { user: string; day: string; command: string; status: 'success' | 'failure' }

let b: TestBackend;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
const people: Record<string, string> = {}; // email → user id
const events: Ev[] = [];
let eng = '';
const enabledTriggers = ['low_usage', 'limited_commands', 'error_rate'];

/** The brute-force evaluation: users flagged on `day` (the window of 14 days ending with it). */
function reference(day: string, percentBelow = 10) {
  const first = addDays(day, -(WINDOW - 1));
  const inWindow = events.filter((e) => e.day >= first && e.day <= day);
  const byUser = new Map<string, Ev[]>();
  for (const e of inWindow) byUser.set(e.user, [...(byUser.get(e.user) ?? []), e]);
  const counts = [...byUser.values()].map((x) => x.length);
  const mean = counts.length ? counts.reduce((a, c) => a + c, 0) / counts.length : 0;
  const flagged = new Map<string, string[]>();
  for (const id of Object.values(people)) {
    const mine = byUser.get(id) ?? [];
    const t: string[] = [];
    if (mean > 0 && mine.length < mean * (1 - percentBelow / 100)) t.push('low_usage');
    if (new Set(mine.map((e) => e.command)).size < 2) t.push('limited_commands');
    const failures = mine.filter((e) => e.status === 'failure').length;
    if (mine.length >= 10 && failures / mine.length > 0.1) t.push('error_rate');
    if (t.length) flagged.set(id, t);
  }
  return flagged;
}

/** The ingestion pipeline, when the kernel does not register it by default yet (new activity is posted as real events). */
async function ingestionModules(): Promise<unknown[]> {
  const { kernelModules } = await import('../../../core/src/modules.ts');
  if (kernelModules.some((m: { name: string }) => m.name === 'ingestion')) return [];
  return [(await import('../../../core/src/ingestion/index.ts')).ingestionModule];
}

const knex = () => b.kernel.services.knex.withSchema(b.org.schema);

beforeAll(async () => {
  smtp = await startSmtp();
  b = await startTestBackend({ plugins: [adoption], config: { smtp: { url: smtp.url } }, modules: await ingestionModules() });
  people['lead@t.local'] = (await b.org.addUser({ email: 'lead@t.local', role: 'Manager', departments: [{ name: 'Eng', manager: true }] })).userId;
  people['admin'] = (await b.client.get('/api/v1/me')).body.user.id;
  eng = b.org.departments.get('Eng')!;
  const put = await b.client.put('/api/v1/adoption/settings', { enabledTriggers, notify: { channels: ['in_app', 'email'] } });
  expect(put.status, put.text).toBe(200);
  // a dozen people: some never start, some use one command, some fail often, most are fine
  const rand = rng(25);
  const rows: Array<Record<string, unknown>> = [];
  for (let i = 0; i < 12; i++) {
    const email = `p${i}@t.local`;
    const id = (await b.org.addUser({ email, role: 'Developer', departments: ['Eng'] })).userId;
    people[email] = id;
    if (i % 6 === 0) continue; // never started
    const perDay = i % 5 === 1 ? 1 : 1 + Math.floor(rand() * 5);
    const failRate = i % 4 === 3 ? 0.35 : 0.03;
    const commands = i % 7 === 2 ? ['/one'] : ['/plan', '/test', '/review', '/fix'];
    const from = 2 + Math.floor(rand() * 10); // starts 30–21 days ago… or stops early
    const stop = i % 3 === 2 ? 8 + Math.floor(rand() * 6) : 1;
    for (let d = 31 - from; d >= stop; d--) {
      const day = addDays(today, -d);
      if (rand() < 0.25) continue; // a day off
      for (let k = 0; k < perDay; k++) {
        const e: Ev = { user: id, day, command: commands[Math.floor(rand() * commands.length)]!, status: rand() < failRate ? 'failure' : 'success' };
        events.push(e);
        rows.push({
          event_id: `e-${rows.length}`,
          event_type: 'command',
          command_name: e.command,
          status: e.status,
          user_id: id,
          department_id: eng,
          session_id: `${id}-${day}`,
          timestamp: `${day}T${String(8 + (k % 10)).padStart(2, '0')}:${String(rows.length % 60).padStart(2, '0')}:00Z`,
        });
      }
    }
  }
  await b.org.insertEvents(rows);
});
afterAll(async () => {
  await b?.close();
  await smtp?.close();
});

/** Users with a flag open at the end of `day`, from the stored flags. */
async function openOn(day: string) {
  const rows = (await knex().table('adoption_flags').select('user_id', 'raised_day', 'resolved_day')) as Array<{ user_id: string; raised_day: Date; resolved_day: Date | null }>;
  const d = (x: Date) => dayOf(new Date(x).getTime());
  return new Set(rows.filter((r) => d(r.raised_day) <= day && (!r.resolved_day || d(r.resolved_day) > day)).map((r) => r.user_id));
}

describe('support flags', () => {
  it('back-fills four weeks with the flags the rules give each day, and notifies nobody', async () => {
    const run = (await b.runJob('adoption', 'score-daily'))['test-org'] as Record<string, number>;
    expect(run.backfilled_days).toBe(27);
    expect(run.held).toBeGreaterThan(0);
    for (let d = 28; d >= 0; d--) {
      const day = addDays(today, -d);
      const expected = reference(day);
      expect([...(await openOn(day))].sort(), day).toEqual([...expected.keys()].sort());
    }
    // the triggers each open flag sees today are the reference's
    const open = (await b.client.get('/api/v1/adoption/flags', { limit: 1000 })).body;
    for (const f of open.flags) expect((f.latest_triggers ?? f.triggers).slice().sort(), f.email).toEqual(reference(today).get(f.user_id)!.slice().sort());
    // the reasons given are today's, one line per trigger the reference finds today (so they agree with
    // today's score); the reasons it was raised for stay beside them, one per trigger of that day
    const opening = (text: string) => text.slice(0, 14);
    const LINE: Record<string, string> = { low_score: 'adoption score', low_usage: ' events in the', limited_commands: ' distinct comm', error_rate: 'error rate ' };
    let moved = 0;
    for (const f of open.flags) {
      const now = reference(today).get(f.user_id)!;
      expect(f.why, f.email).toHaveLength(now.length);
      expect(f.raised_why, f.email).toHaveLength(f.triggers.length);
      for (const [trigger, words] of Object.entries(LINE)) expect(f.why.some((w: string) => w.includes(words)), `${f.email} ${trigger}`).toBe(now.includes(trigger));
      if (f.why.map(opening).join() !== f.raised_why.map(opening).join()) moved++;
    }
    // the back-fill raised flags weeks ago whose triggers changed since: the case this guards
    expect(moved).toBeGreaterThan(0);
    // a learning path step gives the reasons its intervention answers: today's, and those it was suggested for
    const answers = new Map<string, string[]>(((await b.client.get('/api/v1/adoption/interventions')).body.interventions as Array<{ key: string; triggers: string[] }>).map((i) => [i.key, i.triggers]));
    let steps = 0;
    let later = 0;
    for (const f of open.flags.slice(0, 24)) {
      const user = (await b.client.get(`/api/v1/adoption/users/${f.user_id}`)).body;
      // every trigger seen today has a step answering it: one that came up after the raise has its own
      const path = user.learning_path as Array<{ key: string; assigned_day: string }>;
      for (const t of reference(today).get(f.user_id)!) {
        const answering = [...answers].filter(([, ts]) => ts.includes(t)).map(([k]) => k);
        if (answering.length) expect(path.some((x) => answering.includes(x.key)), `${f.email} ${t}`).toBe(true);
      }
      later += path.filter((x) => x.assigned_day > f.raised_day).length;
      for (const step of path.filter((x) => x.assigned_day === f.raised_day) as any[]) {
        const mine = answers.get(step.key)!;
        const now = reference(today).get(f.user_id)!.filter((t) => mine.includes(t));
        expect(step.why, `${f.email} ${step.key}`).toHaveLength(now.length);
        expect(step.raised_why, `${f.email} ${step.key}`).toHaveLength(f.triggers.filter((t: string) => mine.includes(t)).length);
        steps++;
      }
    }
    expect(steps).toBeGreaterThan(0);
    expect(later).toBeGreaterThan(0);
    // nobody was told: no mail, no notification recorded, every flag waits for confirmation
    expect(smtp.mails).toHaveLength(0);
    const stored = await knex().table('adoption_flags').select('pending', 'notifications');
    for (const f of stored) expect(f).toEqual({ pending: 'backfill', notifications: null });
    expect((await b.client.get('/api/v1/adoption/status')).body.pending_flags).toBe(open.total);
    // the heatmap's weeks are comparable: a past week has flagged people too, as the reference says
    const hm = (await b.client.get('/api/v1/adoption/heatmap')).body.cells.filter((c: any) => c.department_id === eng);
    const lastWeek = hm.find((c: any) => c.week.slice(0, 10) <= addDays(today, -7) && addDays(c.week.slice(0, 10), 7) > addDays(today, -7));
    const monday = lastWeek.week.slice(0, 10);
    const flaggedThatWeek = new Set<string>();
    const members = new Set(Object.entries(people).filter(([e]) => e !== 'admin').map(([, id]) => id));
    for (let i = 0; i < 7; i++) for (const id of reference(addDays(monday, i)).keys()) if (members.has(id)) flaggedThatWeek.add(id);
    expect(lastWeek.flagged).toBe(flaggedThatWeek.size);
    expect(Object.values(lastWeek.by_kind as Record<string, number>).reduce((a, c) => a + c, 0)).toBe(flaggedThatWeek.size);
  });

  it('lists the most urgent kind first, then the most severe, with counts per kind, filtered by kind and department', async () => {
    const r = await b.client.get('/api/v1/adoption/flags', { limit: 1000 });
    expect(r.status, r.text).toBe(200);
    const flags = r.body.flags as Array<{ email: string; user_id: string; kind: string; severity: number; level: string; signals: Array<{ trigger: string; value: number; threshold: number }>; latest_signals: typeof flags[0]['signals'] | null }>;
    const order = ['struggling', 'slipping', 'not_started', 'light_use'];
    const kindOf = (t: string) => (t === 'error_rate' ? 'struggling' : 'light_use');
    for (const f of flags) {
      const signals = f.latest_signals ?? f.signals;
      // the kind: struggling if any error signal, not started with no event in the window nor a week before
      const mine = events.filter((e) => e.user === f.user_id && e.day >= addDays(today, -(WINDOW - 1 + 7)));
      const expectedKind = signals.some((x) => x.trigger === 'error_rate') ? 'struggling' : mine.length === 0 ? 'not_started' : 'light_use';
      expect(f.kind, f.email).toBe(expectedKind);
      // severity: how far past the threshold, the largest over the signals of that kind
      const of = signals.filter((x) => expectedKind === 'not_started' || kindOf(x.trigger) === expectedKind);
      const sev = Math.max(...of.map((x) => (x.trigger === 'error_rate' ? (x.value - x.threshold) / (1 - x.threshold) : (x.threshold - x.value) / x.threshold)));
      expect(f.severity, f.email).toBeCloseTo(Math.min(1, Math.max(0, sev)), 3);
      expect(f.level).toBe(f.severity >= 0.5 ? 'high' : f.severity >= 0.2 ? 'medium' : 'low');
    }
    for (let i = 1; i < flags.length; i++) {
      const a = flags[i - 1]!;
      const c = flags[i]!;
      expect(order.indexOf(a.kind) <= order.indexOf(c.kind)).toBe(true);
      if (a.kind === c.kind) expect(a.severity).toBeGreaterThanOrEqual(c.severity);
    }
    const counts = Object.fromEntries(order.map((k) => [k, flags.filter((f) => f.kind === k).length]));
    expect(r.body.by_kind).toEqual(counts);
    expect(counts.struggling).toBeGreaterThan(0);
    expect(counts.not_started).toBeGreaterThan(0);
    const only = await b.client.get('/api/v1/adoption/flags', { kind: 'struggling' });
    expect(only.body.flags.map((f: any) => f.email)).toEqual(flags.filter((f) => f.kind === 'struggling').map((f) => f.email));
    expect(only.body.by_kind).toEqual(counts);
    // the Admin has no department: filtering by Eng leaves them out
    const inEng = await b.client.get('/api/v1/adoption/flags', { department_id: eng, limit: 1000 });
    expect(inEng.body.flags.map((f: any) => f.user_id).sort()).toEqual(flags.filter((f) => f.user_id !== people.admin).map((f) => f.user_id).sort());
    const bad = await b.client.get('/api/v1/adoption/flags', { kind: 'sad' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error)).toContain('kind');
  });

  it('previews a threshold change; saving it leaves exactly the previewed people flagged, and tells nobody yet', async () => {
    const change = { thresholds: { lowUsagePercentBelowAverage: 40 } };
    const preview = await b.client.post('/api/v1/adoption/settings/preview', change);
    expect(preview.status, preview.text).toBe(200);
    const expected = reference(today, 40);
    expect(preview.body.flagged).toBe(expected.size);
    expect(preview.body.people).toBe(Object.keys(people).length);
    expect(preview.body.current.flagged).toBe(reference(today).size);
    // the portal's words for it: the sentence and one row per kind, from the same counts
    expect(preview.body.summary).toContain(`${expected.size} of ${Object.keys(people).length} people would be flagged today`);
    const everyone = preview.body.rows.find((r: any) => r.label === 'Everyone flagged');
    expect(everyone).toEqual({ label: 'Everyone flagged', current: reference(today).size, next: expected.size });
    expect(preview.body.rows.slice(0, -1).reduce((a: number, r: any) => a + r.next, 0)).toBe(expected.size);
    // nothing saved yet
    expect((await b.client.get('/api/v1/adoption/settings')).body.settings.thresholds.lowUsagePercentBelowAverage).toBe(10);
    const saved = await b.client.put('/api/v1/adoption/settings', change);
    expect(saved.status, saved.text).toBe(200);
    const after = (await b.client.get('/api/v1/adoption/flags', { limit: 1000 })).body;
    expect(after.total).toBe(preview.body.flagged);
    expect(after.by_kind).toEqual(preview.body.by_kind);
    expect(after.flags.map((f: any) => f.user_id).sort()).toEqual([...expected.keys()].sort());
    expect(smtp.mails).toHaveLength(0);
    // a lower threshold (more people flagged) raises flags that wait as well
    const back = await b.client.put('/api/v1/adoption/settings', { thresholds: { lowUsagePercentBelowAverage: 5 } });
    expect(back.status).toBe(200);
    const raisedNow = back.body.reevaluated.raised as number;
    expect(back.body.reevaluated.held).toBe(raisedNow);
    // held flags send the Admin to the page that confirms them
    const waiting = Number((await knex().table('adoption_flags').whereNotNull('pending').where({ status: 'open' }).count({ n: '*' }))[0]!.n);
    if (waiting) expect(back.body.follow_up).toMatchObject({ href: '/p/adoption/flags?pending=true', message: expect.stringContaining(`${waiting} flag`) });
    else expect(back.body.follow_up).toBeUndefined();
    expect((await b.client.get('/api/v1/adoption/flags', { limit: 1000 })).body.total).toBe(reference(today, 5).size);
    if (raisedNow) expect((await knex().table('adoption_flags').where({ pending: 'thresholds', status: 'open' }).count({ n: '*' }))[0]!.n).toBe(String(raisedNow));
    expect(smtp.mails).toHaveLength(0);
    // a bad preview names its field
    const bad = await b.client.post('/api/v1/adoption/settings/preview', { thresholds: { usageBaseline: 'mode' } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error)).toContain('usageBaseline');
  });

  it('notifies held flags once an Admin confirms them', async () => {
    const held = (await b.client.get('/api/v1/adoption/flags', { pending: true, limit: 1000 })).body.flags as Array<{ email: string | null; user_id: string }>;
    expect(held.length).toBeGreaterThan(0);
    const developer = await b.org.addUser({ email: 'dev-x@t.local', role: 'Developer', departments: ['Eng'] });
    expect((await developer.post('/api/v1/adoption/flags/confirm', {})).status).toBe(403);
    const r = await b.client.post('/api/v1/adoption/flags/confirm', {});
    expect(r.status, r.text).toBe(200);
    expect(r.body.notified).toBe(held.length);
    await new Promise((res) => setTimeout(res, 200));
    const to = smtp.mails.flatMap((m) => m.to);
    for (const h of held) if (h.email) expect(to, h.email).toContain(h.email);
    expect((await b.client.get('/api/v1/adoption/status')).body.pending_flags).toBe(0);
    // confirming again sends nothing
    const again = await b.client.post('/api/v1/adoption/flags/confirm', {});
    expect(again.body).toEqual({ confirmed: 0, notified: 0 });
  });

  it('still notifies at once when new activity raises a flag (real SMTP)', async () => {
    // (a threshold change re-evaluates today's people: nova joins after it, with no flag yet)
    await b.client.put('/api/v1/adoption/settings', { enabledTriggers: [...enabledTriggers, 'error_rate_24h'] });
    const nova = await b.org.addUser({ email: 'nova@t.local', role: 'Developer', departments: ['Eng'] });
    const before = smtp.mails.length;
    const hook = await b.org.hookToken();
    const batch = [...Array(4)].map((_, i) => ({
        event_id: `nova-${i}`,
        event_type: 'command',
        command_name: '/deploy',
        status: 'failure',
        user_id: nova.userId,
        department_id: eng,
        session_id: 'nova-1',
        timestamp: new Date(Date.now() - (5 - i) * 60_000).toISOString(),
      }));
    const res = await b.kernel.app.inject({ method: 'POST', url: '/api/v1/events/batch', headers: { authorization: `Bearer ${hook}`, 'content-type': 'application/json' }, payload: JSON.stringify({ events: batch }) });
    expect(res.statusCode, res.body).toBe(200);
    // the user is dirty once their events are committed
    for (let i = 0; i < 50 && (await b.client.get('/api/v1/adoption/status')).body.dirty_users === 0; i++) await new Promise((r) => setTimeout(r, 100));
    const run = (await b.runJob('adoption', 'rescore-dirty'))['test-org'] as Record<string, number>;
    expect(run.raised).toBeGreaterThanOrEqual(1);
    expect(run.held).toBe(0);
    for (let i = 0; i < 30 && smtp.mails.length - before < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(smtp.mails.slice(before).flatMap((m) => m.to).sort()).toEqual(expect.arrayContaining(['lead@t.local', 'nova@t.local']));
    const flag = (await b.client.get('/api/v1/adoption/flags', { limit: 1000 })).body.flags.find((f: any) => f.email === 'nova@t.local');
    expect(flag).toMatchObject({ kind: 'struggling', pending: null });
  });

  it('keeps each org to its own flags, held flags and preview', async () => {
    const mine = (await b.client.get('/api/v1/adoption/flags', { limit: 1000 })).body.flags.map((f: any) => f.id).sort();
    const other = await b.createOrg('other-org');
    await other.addUser({ email: 'p0@t.local', role: 'Developer', departments: ['Eng'] });
    const flags = await other.client.get('/api/v1/adoption/flags', { status: 'all' });
    expect(flags.status, flags.text).toBe(200);
    expect(flags.body).toMatchObject({ total: 0, pending: 0, by_kind: { struggling: 0, slipping: 0, not_started: 0, light_use: 0 } });
    expect((await other.client.post('/api/v1/adoption/flags/confirm', {})).body).toEqual({ confirmed: 0, notified: 0 });
    const preview = await other.client.post('/api/v1/adoption/settings/preview', {});
    // its Admin and p0, neither with an event: both not started
    expect(preview.body).toMatchObject({ people: 2, flagged: 2, by_kind: { not_started: 2 } });
    // and the first org's flags are untouched by the other's confirm
    expect((await b.client.get('/api/v1/adoption/flags', { limit: 1000 })).body.flags.map((f: any) => f.id).sort()).toEqual(mine);
  });

  it('documents an answer schema for every adoption route', async () => {
    const doc = await b.client.get('/api/docs/json');
    expect(doc.status).toBe(200);
    const undeclared: string[] = [];
    let routes = 0;
    for (const [path, ops] of Object.entries(doc.body.paths as Record<string, Record<string, { responses?: Record<string, { description?: string }> }>>)) {
      if (!path.startsWith('/api/v1/adoption/')) continue;
      for (const [method, op] of Object.entries(ops)) {
        routes++;
        const ok = Object.entries(op.responses ?? {}).filter(([code]) => /^2/.test(code));
        if (!ok.length || ok.some(([, r]) => /not declared/.test(JSON.stringify(r)))) undeclared.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(routes).toBeGreaterThan(20);
    expect(undeclared).toEqual([]);
  });
});
