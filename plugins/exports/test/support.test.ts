/**
 * The support report's figures against a reference computed here. Random command activity
 * for people in three departments over four weeks; the adoption plugin scores it and raises
 * its flags (its daily job); the test then reads the scores and the flags it stored through
 * the adoption plugin's own routes and computes, independently of the report's code, what the
 * support report must say: per department the users flagged at the end of the period and of
 * the period before, their change and the mean adoption score (groups under the minimum size
 * suppressed), the org's flagged users at the end of each step of the period (the trend), and
 * who is flagged with their departments.
 *
 * Then the test answers some of the interventions adoption assigned (intervention events
 * shown / followed / dismissed, sent through the ingestion API) and checks the report's
 * flags by department and signal and its interventions with their effectiveness against what
 * those events, the assignments (the learning paths) and the flags give.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import { rng } from '@orrery/backend-test-utils/random';

const DAY = 86_400_000;
const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);
const today = dayOf(Date.now());
const addDays = (d: string, n: number) => dayOf(Date.parse(`${d}T00:00:00Z`) + n * DAY);
/** the adoption plugin's default minimum group size for department figures */
const MIN_GROUP = 5;

interface Score { user_id: string; score: number; departments: string[] }
interface Flag { id: string; user_id: string; raised_day: string; resolved_day: string | null; kind: string; departments: string[] }
interface Step { flag_id: string; key: string; title: string; assigned_day: string; status: string }
/** the adoption plugin's defaults: days for a flag to count as resolved after an intervention */
const WITHIN_DAYS = 14;
const KINDS = ['struggling', 'slipping', 'not_started', 'light_use'];
const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

describe('exports: the support report against a reference from the scores and flags', () => {
  let b: TestBackend;
  const emails = new Map<string, string>(); // user id → email
  const deptName = new Map<string, string>();
  const deptOf = new Map<string, string>(); // user id → department id

  beforeAll(async () => {
    b = await startTestBackend({ loadPluginFolders: true, onlyPlugins: ['exports', 'adoption'] });
    const rand = rng(2411);
    const rows: Array<Record<string, unknown>> = [];
    const departments = ['Platform', 'Sales, "EMEA"', '研究'];
    for (let i = 0; i < 17; i++) {
      const department = departments[i % 3]!;
      const email = `p${i}@support.local`;
      const user = await b.org.addUser({ email, role: 'Developer', departments: [department] });
      emails.set(user.userId, email);
      const dept = b.org.departments.get(department)!;
      deptName.set(dept, department);
      deptOf.set(user.userId, dept);
      if (rand() < 0.15) continue; // never started
      const perDay = 1 + Math.floor(rand() * 4);
      const failRate = rand() < 0.3 ? 0.4 : 0.03;
      const commands = rand() < 0.2 ? ['/one'] : ['/plan', '/test', '/review', '/fix'];
      const start = 28 - Math.floor(rand() * 8);
      const stop = rand() < 0.3 ? 3 + Math.floor(rand() * 10) : 0;
      for (let d = start; d >= stop; d--) {
        const day = addDays(today, -d);
        if (rand() < 0.3) continue;
        for (let k = 0; k < perDay; k++) {
          rows.push({
            event_id: `s-${rows.length}`,
            event_type: 'command',
            command_name: commands[Math.floor(rand() * commands.length)]!,
            status: rand() < failRate ? 'failure' : 'success',
            user_id: user.userId,
            department_id: dept,
            session_id: `${user.userId}-${day}`,
            timestamp: `${day}T${String(8 + (k % 10)).padStart(2, '0')}:${String(rows.length % 60).padStart(2, '0')}:00Z`,
          });
        }
      }
    }
    // the admin belongs to no department; events of today stay out of the way of the clock
    await b.org.insertEvents(rows.filter((r) => String(r.timestamp) < new Date().toISOString()));
    await b.runJob('adoption', 'score-daily');
  }, 240_000);
  afterAll(async () => {
    await b?.close();
  });

  const scoresOf = async (day: string) => (await b.client.get('/api/v1/adoption/scores', { day })).body.users as Score[];
  let flags: Flag[];
  const openOn = (day: string) => new Set(flags.filter((f) => f.raised_day.slice(0, 10) <= day && (!f.resolved_day || f.resolved_day.slice(0, 10) > day)).map((f) => f.user_id));
  /** what the adoption plugin's figures must be for one day: per department and for the org */
  async function reference(day: string) {
    const scores = await scoresOf(day);
    const open = openOn(day);
    const byDept = new Map<string, Score[]>();
    for (const s of scores) for (const d of s.departments) byDept.set(d, [...(byDept.get(d) ?? []), s]);
    const dept = (id: string) => {
      const xs = byDept.get(id) ?? [];
      if (xs.length < MIN_GROUP) return { flagged: null, score: null };
      return { flagged: xs.filter((s) => open.has(s.user_id)).length, score: Math.round((xs.reduce((a, s) => a + Number(s.score), 0) / xs.length) * 10) / 10 };
    };
    return { dept, org: scores.length ? scores.filter((s) => open.has(s.user_id)).length : null, open };
  }
  const change = (now: number | null, before: number | null) => (now === null || before === null || before === 0 ? null : Math.round(((now - before) / Math.abs(before)) * 1000) / 10);

  it('says per department, over the trend and by name what the scores and flags give', async () => {
    const answer = await b.client.get('/api/v1/adoption/flags', { status: 'all', limit: 1000 });
    expect(answer.status, answer.text).toBe(200);
    flags = answer.body.flags;
    expect(flags.length).toBeGreaterThan(0);

    const created = await b.client.post('/api/v1/reports', { name: 'Support weekly', kind: 'support', range_days: 7 });
    expect(created.status, created.text).toBe(201);
    const preview = await b.client.get(`/api/v1/reports/${created.body.id}/preview`);
    expect(preview.status, preview.text).toBe(200);
    const content = preview.body.content as { from: string; to: string; sections: Array<{ title: string; rows: unknown[][] }>; highlights: string[] };
    const from = Date.parse(content.from);
    const to = Date.parse(content.to);
    const lastDay = (end: number) => dayOf(end - 1);
    const now = await reference(lastDay(to));
    const before = await reference(lastDay(from));

    const expectedDepts = [...deptName].map(([id, name]) => {
      const n = now.dept(id);
      const p = before.dept(id);
      return [name, n.flagged, p.flagged, change(n.flagged, p.flagged), n.score];
    });
    expectedDepts.sort((a, b) => Number(b[1] ?? -1) - Number(a[1] ?? -1) || String(a[0]).localeCompare(String(b[0])));
    const section = (title: string) => content.sections.find((s) => s.title === title)!.rows;
    // the mean score is rounded to one decimal after a sum whose order the database picks: a
    // mean on a rounding edge may land either side, so it is compared to within that step
    const got = section('Users needing support by department');
    expect(got.map((r) => r.slice(0, 4))).toEqual(expectedDepts.map((r) => r.slice(0, 4)));
    got.forEach((r, i) => {
      const want = expectedDepts[i]![4] as number | null;
      if (want === null) expect(r[4]).toBeNull();
      else expect(Math.abs(Number(r[4]) - want)).toBeLessThanOrEqual(0.1 + 1e-9);
    });
    expect(expectedDepts.some((r) => r[1] !== null)).toBe(true);

    // the trend: the org's flagged users at the end of each of the 7 days
    const trend = [];
    for (let i = 1; i <= 7; i++) {
      const end = from + ((to - from) * i) / 7;
      trend.push([new Date(end).toISOString(), (await reference(lastDay(end))).org]);
    }
    expect(section('Flagged users over the period')).toEqual(trend);

    // who: everyone with a flag open at the end of the period, with their departments
    // (the Admin, in no department and with no activity, is flagged as not started too)
    const me = (await b.client.get('/api/v1/me')).body.user as { id: string; email: string };
    emails.set(me.id, me.email);
    const who = section('Who is flagged') as string[][];
    expect(who.map((r) => r[1]).sort()).toEqual([...now.open].map((id) => emails.get(id)).sort());
    for (const r of who) {
      const id = [...emails].find(([, e]) => e === r[1])![0];
      const dept = (await scoresOf(lastDay(to))).find((s) => s.user_id === id)?.departments ?? [];
      if (dept.length) expect(r[2]).toBe(dept.map((d) => deptName.get(d)!).sort().join('; '));
    }
    expect(content.highlights[0]).toContain(`${now.org} `);
  }, 120_000);
  it('says by department and signal, and per intervention, what the flags, assignments and intervention events give', async () => {
    const rand = rng(97);
    const me = (await b.client.get('/api/v1/me')).body.user as { id: string; email: string };
    emails.set(me.id, me.email);
    // the learning paths adoption assigned: (user, intervention, day)
    const steps = new Map<string, Step[]>();
    for (const id of emails.keys()) {
      const r = await b.client.get(`/api/v1/adoption/users/${id}`);
      if (r.status === 200) steps.set(id, (r.body.learning_path ?? []) as Step[]);
    }
    // answer some of them: per user and intervention a random set of shown / followed / dismissed
    const sent = new Map<string, Set<string>>(); // `${user} ${key}` → actions
    const events: Array<Record<string, unknown>> = [];
    for (const [user, path] of steps) {
      for (const key of new Set(path.map((p) => p.key))) {
        if (rand() < 0.3) continue;
        const actions = new Set<string>();
        if (rand() < 0.8) actions.add('shown');
        const answer = rand();
        if (answer < 0.5) actions.add('followed');
        else if (answer < 0.75) actions.add('dismissed');
        if (!actions.size) continue;
        sent.set(`${user} ${key}`, actions);
        for (const action of actions) {
          events.push({
            event_id: `iv-${events.length}`,
            event_type: 'intervention',
            action,
            intervention_id: key,
            user_id: user,
            ...(deptOf.has(user) ? { department_id: deptOf.get(user) } : {}),
            session_id: `iv-${user}`,
            timestamp: new Date(Date.now() - 60_000).toISOString(),
          });
        }
      }
    }
    expect([...sent.values()].some((a) => a.has('followed'))).toBe(true);
    const hook = await b.org.hookToken();
    const posted = await b.kernel.app.inject({ method: 'POST', url: '/api/v1/events/batch', headers: { authorization: `Bearer ${hook}`, 'content-type': 'application/json' }, payload: JSON.stringify({ events }) });
    expect(posted.statusCode, posted.body).toBe(200);
    expect(JSON.parse(posted.body).accepted).toBe(events.length);
    // the events are applied after the commit: wait until every followed / dismissed answer shows on its user's path
    const latest = (path: Step[], key: string) => path.filter((p) => p.key === key).sort((x, y) => y.assigned_day.localeCompare(x.assigned_day))[0]!;
    for (let i = 0; i < 100; i++) {
      let done = true;
      for (const [k, actions] of sent) {
        const [user, key] = k.split(' ') as [string, string];
        const want = actions.has('followed') ? 'followed' : actions.has('dismissed') ? 'dismissed' : null;
        if (!want) continue;
        const path = (await b.client.get(`/api/v1/adoption/users/${user}`)).body.learning_path as Step[];
        if (latest(path, key).status !== want) done = false;
        if (!done) break;
      }
      if (done) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 300)); // the shown events of the same batch

    const fl = await b.client.get('/api/v1/adoption/flags', { status: 'all', limit: 1000 });
    const flagsNow = fl.body.flags as Flag[];
    const created = await b.client.post('/api/v1/reports', { name: 'Support monthly', kind: 'support', range_days: 28 });
    expect(created.status, created.text).toBe(201);
    const preview = await b.client.get(`/api/v1/reports/${created.body.id}/preview`);
    expect(preview.status, preview.text).toBe(200);
    const content = preview.body.content as { from: string; to: string; sections: Array<{ title: string; rows: unknown[][] }>; highlights: string[] };
    // the days the period covers: its first day to the day after its last
    const F = dayOf(Date.parse(content.from));
    const T = addDays(dayOf(Date.parse(content.to) - 1), 1);
    const inPeriod = flagsNow.filter((f) => f.raised_day.slice(0, 10) >= F && f.raised_day.slice(0, 10) < T);
    expect(inPeriod.length).toBeGreaterThan(0);
    const section = (title: string) => content.sections.find((x) => x.title === title)?.rows;

    // flags by department and signal: per department, each flagged user once, by the kind of their latest flag of the period
    const latestKind = new Map<string, Map<string, string>>(); // department → user → kind
    for (const f of [...inPeriod].sort((x, y) => x.raised_day.localeCompare(y.raised_day))) {
      for (const d of f.departments.length ? f.departments : ['']) {
        const m = latestKind.get(d) ?? new Map<string, string>();
        m.set(f.user_id, f.kind);
        latestKind.set(d, m);
      }
    }
    const size = (d: string) => [...emails.keys()].filter((u) => deptOf.get(u) === d).length;
    const bySignal = [...latestKind].map(([d, m]) => {
      const counts = KINDS.map((k) => [...m.values()].filter((x) => x === k).length);
      if (d && size(d) < MIN_GROUP) return [deptName.get(d)!, null, null, null, null, null];
      return [d ? deptName.get(d)! : '(no department)', ...counts, counts.reduce((a, c) => a + c, 0)];
    });
    bySignal.sort((x, y) => Number(y.at(-1) ?? -1) - Number(x.at(-1) ?? -1) || String(x[0]).localeCompare(String(y[0])));
    expect(section('Flagged users by department and signal')).toEqual(bySignal);

    // interventions: every assignment of a flag of the period; an answer lands on the user's latest assignment of that intervention
    const order = ((await b.client.get('/api/v1/adoption/interventions')).body.interventions as Array<{ key: string; title: string }>);
    // (a flag whose triggers change later is given more steps then, on later days: they count with their flag)
    const perKey = new Map<string, Array<{ user: string; shown: boolean; followed: boolean; dismissed: boolean; resolved: boolean }>>();
    for (const [user, path] of steps) {
      for (const p of path) {
        const f = flagsNow.find((x) => x.id === p.flag_id);
        if (!f || f.raised_day.slice(0, 10) < F || f.raised_day.slice(0, 10) >= T) continue;
        const answered = latest(path, p.key) === p ? (sent.get(`${user} ${p.key}`) ?? new Set<string>()) : new Set<string>();
        const resolved = !!f.resolved_day && f.resolved_day.slice(0, 10) <= addDays(f.raised_day.slice(0, 10), WITHIN_DAYS);
        perKey.set(p.key, [...(perKey.get(p.key) ?? []), { user, shown: answered.has('shown'), followed: answered.has('followed'), dismissed: answered.has('dismissed'), resolved }]);
      }
    }
    const expected = order
      .filter((iv) => perKey.has(iv.key))
      .map((iv) => {
        const list = perKey.get(iv.key)!;
        if (new Set(list.map((a) => a.user)).size < MIN_GROUP) return [iv.title, null, null, null, null, null, WITHIN_DAYS, null, null];
        const rate = (xs: typeof list) => (xs.length ? r4(xs.filter((a) => a.resolved).length / xs.length) : null);
        const eff = rate(list.filter((a) => a.followed));
        const rest = rate(list.filter((a) => !a.followed));
        const count = (k: 'shown' | 'followed' | 'dismissed' | 'resolved') => list.filter((a) => a[k]).length;
        return [iv.title, list.length, count('shown'), count('followed'), count('dismissed'), count('resolved'), WITHIN_DAYS, eff, eff !== null && rest !== null ? r4(eff - rest) : null];
      });
    expect(section('Interventions and their effectiveness')).toEqual(expected);
    expect(expected.some((r) => r[1] !== null)).toBe(true);
    const best = expected.filter((r) => r[7] !== null).sort((x, y) => Number(y[7]) - Number(x[7]) || Number(y[3]) - Number(x[3]) || String(x[0]).localeCompare(String(y[0])))[0];
    if (best) expect(content.highlights.find((h) => h.startsWith('Most effective intervention'))).toContain(`${best[0]} (followed ${best[3]} `);
    else expect(content.highlights.some((h) => h.startsWith('Most effective intervention'))).toBe(false);

    // a Manager's report: the departments she manages only; the interventions as adoption shows them to Managers (org-wide)
    const mgr = await b.org.addUser({ email: 'lead@support.local', role: 'Manager', departments: [{ name: 'Platform', manager: true }] });
    const mine = await mgr.post('/api/v1/reports', { name: 'Platform support', kind: 'support', range_days: 28 });
    expect(mine.status, mine.text).toBe(201);
    const view = (await mgr.get(`/api/v1/reports/${mine.body.id}/preview`)).body.content as typeof content;
    const rowsOf = (c: typeof content, title: string) => c.sections.find((x) => x.title === title)?.rows;
    expect(rowsOf(view, 'Flagged users by department and signal')).toEqual(bySignal.filter((r) => r[0] === 'Platform'));
    expect(rowsOf(view, 'Interventions and their effectiveness')).toEqual(expected);

    // the same table as a file, through the exports routes
    const file = await b.client.get('/api/v1/export/json', { dataset: 'adoption.interventions', from: content.from, to: content.to });
    expect(file.status, file.text).toBe(200);
    expect(file.body.map((r: { title: string; assigned: number | null; followed: number | null }) => [r.title, r.assigned, r.followed])).toEqual(expected.map((r) => [r[0], r[1], r[3]]));
  }, 180_000);
  it('draws the heat map of departments × weeks from the scored days and the flags open on them', async () => {
    flags = (await b.client.get('/api/v1/adoption/flags', { status: 'all', limit: 1000 })).body.flags;
    const created = await b.client.post('/api/v1/reports', { name: 'Support heat map', kind: 'support', range_days: 28 });
    expect(created.status, created.text).toBe(201);
    const content = (await b.client.get(`/api/v1/reports/${created.body.id}/preview`)).body.content as { from: string; to: string; sections: Array<{ title: string; columns: string[]; rows: unknown[][] }> };
    const section = content.sections.find((x) => x.title.startsWith('Support need by department and week'));
    expect(section, 'heat map section').toBeTruthy();

    // per department and Monday-started week: the users scored on some day of it, and those of
    // them with a flag open on one of their scored days
    const first = content.from.slice(0, 10);
    const last = dayOf(Date.parse(content.to) - 1);
    const monday = (d: string) => addDays(d, -((new Date(`${d}T00:00:00Z`).getUTCDay() + 6) % 7));
    const cells = new Map<string, { users: Set<string>; flagged: Set<string> }>(); // "dept|week"
    for (let d = first; d <= last; d = addDays(d, 1)) {
      const open = openOn(d);
      for (const sc of await scoresOf(d)) {
        for (const dept of sc.departments) {
          const key = `${dept}|${monday(d)}`;
          const c = cells.get(key) ?? { users: new Set<string>(), flagged: new Set<string>() };
          c.users.add(sc.user_id);
          if (open.has(sc.user_id)) c.flagged.add(sc.user_id);
          cells.set(key, c);
        }
      }
    }
    const weeks = [...new Set([...cells.keys()].map((k) => k.split('|')[1]!))].sort();
    expect(weeks.length).toBeGreaterThan(1);
    expect(section!.columns).toEqual(['department', ...weeks.map((w) => `week of ${w} (% flagged)`)]);
    const depts = [...new Set([...cells.keys()].map((k) => k.split('|')[0]!))].map((id) => [id, deptName.get(id)!] as const).sort((a, b) => a[1].localeCompare(b[1]));
    const expected = depts.map(([id, name]) => [
      name,
      ...weeks.map((w) => {
        const c = cells.get(`${id}|${w}`);
        if (!c || c.users.size < MIN_GROUP) return null;
        return Math.round(r4(c.flagged.size / c.users.size) * 1000) / 10;
      }),
    ]);
    expect(section!.rows).toEqual(expected);
    expect(expected.some((r) => r.slice(1).some((v) => typeof v === 'number' && v > 0))).toBe(true);

    // the same cells as a file, through the exports routes
    const file = await b.client.get('/api/v1/export/json', { dataset: 'adoption.support_heatmap', from: content.from, to: content.to });
    expect(file.status, file.text).toBe(200);
    for (const r of file.body as Array<{ department_id: string; week: string; users: number; flagged: number | null; suppressed: boolean }>) {
      const c = cells.get(`${r.department_id}|${r.week}`)!;
      expect(r.users).toBe(c.users.size);
      expect(r.suppressed).toBe(c.users.size < MIN_GROUP);
      expect(r.flagged).toBe(r.suppressed ? null : c.flagged.size);
    }
  }, 180_000);
});
