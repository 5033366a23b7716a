/**
 * The support report's figures against a reference computed here. Random command activity
 * for people in three departments over four weeks; the adoption plugin scores it and raises
 * its flags (its daily job); the test then reads the scores and the flags it stored through
 * the adoption plugin's own routes and computes, independently of the report's code, what the
 * support report must say: per department the users flagged at the end of the period and of
 * the period before, their change and the mean adoption score (groups under the minimum size
 * suppressed), the org's flagged users at the end of each step of the period (the trend), and
 * who is flagged with their departments.
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
interface Flag { user_id: string; raised_day: string; resolved_day: string | null }

describe('exports: the support report against a reference from the scores and flags', () => {
  let b: TestBackend;
  const emails = new Map<string, string>(); // user id → email
  const deptName = new Map<string, string>();

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
    expect(section('Users needing support by department')).toEqual(expectedDepts);
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
});
