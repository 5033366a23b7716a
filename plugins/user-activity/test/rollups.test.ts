/**
 * Active users from the activity rollup against a brute-force count, on random events: folded,
 * late (old timestamps inserted after the watermark moved), in several zones, with filters,
 * and for a second org with the same department and agent names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import userActivity from '../backend/index.ts';
import { rng } from '@orrery/backend-test-utils/random';

const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 26); // a Monday
const SPAN = 40 * DAY;
const DEPTS = ['d-eng', 'd-sales', ''];
const AGENTS = ['planner', 'coder', ''];
type Ev = { event_id: string; event_type: string; timestamp: string; user_id: string; department_id: string; agent_name: string };

let serial = 0;
function events(seed: number, count: number, span: [number, number] = [START, START + SPAN]): Ev[] {
  const r = rng(seed);
  return Array.from({ length: count }, () => ({
    event_id: `ua${seed}-${serial++}`,
    event_type: r() < 0.5 ? 'feature_use' : 'agent_invocation',
    timestamp: new Date(span[0] + Math.floor(r() * (span[1] - span[0]))).toISOString(),
    // a few events without a user, which count for nobody
    user_id: r() < 0.05 ? '' : `user-${Math.floor(r() * 25)}`,
    department_id: DEPTS[Math.floor(r() * DEPTS.length)]!,
    agent_name: AGENTS[Math.floor(r() * AGENTS.length)]!,
  }));
}

/** The local calendar bucket (YYYY-MM-DD of its first day) of an instant in a zone. */
function localBucket(ms: number, tz: string, g: 'day' | 'week' | 'month'): string {
  const [y, m, d] = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms)).split('-').map(Number) as [number, number, number];
  if (g === 'month') return `${y}-${String(m).padStart(2, '0')}-01`;
  const day = new Date(Date.UTC(y, m - 1, d));
  if (g === 'week') day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
  return day.toISOString().slice(0, 10);
}

function expected(evs: readonly Ev[], q: { from: number; to: number; tz: string; g: 'day' | 'week' | 'month'; dept?: string; agent?: string }) {
  const by = new Map<string, Set<string>>();
  for (const e of evs) {
    const t = Date.parse(e.timestamp);
    if (!e.user_id || t < q.from || t >= q.to) continue;
    if (q.dept !== undefined && e.department_id !== q.dept) continue;
    if (q.agent !== undefined && e.agent_name !== q.agent) continue;
    const k = localBucket(t, q.tz, q.g);
    by.set(k, (by.get(k) ?? new Set()).add(e.user_id));
  }
  return Object.fromEntries([...by.entries()].sort().map(([k, v]) => [k, v.size]));
}

describe('active users from the activity rollup', () => {
  let b: TestBackend;
  let other: TestOrg;
  const mine: Ev[] = [];
  const theirs: Ev[] = [];

  const check = async (client: TestBackend['client'], evs: readonly Ev[], seed: number, label: string) => {
    const r = rng(seed);
    const cases: Array<{ from: number; to: number; tz: string; g: 'day' | 'week' | 'month'; dept?: string; agent?: string }> = [
      { from: START - DAY, to: START + SPAN + DAY, tz: 'UTC', g: 'day' },
      { from: START, to: START + SPAN, tz: 'UTC', g: 'month' },
    ];
    for (let i = 0; i < 10; i++) {
      const from = START - DAY + Math.floor(r() * SPAN);
      const to = from + 3_600_000 + Math.floor(r() * (SPAN / 2));
      cases.push({
        from,
        to,
        tz: ['UTC', 'America/New_York', 'Asia/Kolkata', 'Europe/Paris'][i % 4]!,
        g: (['day', 'week', 'day', 'month'] as const)[i % 4]!,
        ...(i % 3 === 1 ? { dept: 'd-eng' } : {}),
        ...(i % 5 === 2 ? { agent: 'planner' } : {}),
      });
    }
    for (const c of cases) {
      const res = await client.get('/api/v1/metrics/dau', {
        from: new Date(c.from).toISOString(),
        to: new Date(c.to).toISOString(),
        tz: c.tz,
        granularity: c.g,
        ...(c.dept ? { department_id: c.dept } : {}),
        ...(c.agent ? { agent: c.agent } : {}),
      });
      expect(res.status, res.text).toBe(200);
      const got = Object.fromEntries(res.body.series.filter((s: any) => s.value > 0).map((s: any) => [localBucket(Date.parse(s.bucket), c.tz, c.g), s.value]));
      expect(got, `${label}: ${JSON.stringify(c)}`).toEqual(expected(evs, c));
    }
  };

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [userActivity] });
    other = await b.createOrg('other-ua');
    mine.push(...events(1, 3000));
    theirs.push(...events(2, 800));
    await b.org.insertEvents(mine);
    await other.insertEvents(theirs);
  });
  afterAll(() => b?.close());

  it('answers from raw events before the first fold, and the same after it', async () => {
    await check(b.client, mine, 10, 'unfolded');
    const folded = await b.foldRollups();
    const mineRows = folded.find((f) => f.plugin === 'user-activity')!;
    expect(mineRows.rows).toBe([...mine, ...theirs].filter((e) => e.user_id).length);
    expect((await b.foldRollups()).find((f) => f.plugin === 'user-activity')!.rows).toBe(0);
    await check(b.client, mine, 11, 'folded');
    await check(other.client, theirs, 12, 'other org');
  });

  it('counts late events inserted after the watermark moved, before and after the next fold', async () => {
    const late = events(3, 700, [START, START + 10 * DAY]);
    mine.push(...late);
    await b.org.insertEvents(late);
    await check(b.client, mine, 13, 'late, unfolded');
    await b.foldRollups();
    await check(b.client, mine, 14, 'late, folded');
  });
});
