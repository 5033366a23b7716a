/**
 * The workflow figures written the obvious way, over generated `workflow_step` events: the
 * cohort (each user's first enrolment in [from, to), their first goal after it, a later
 * exit), the summary cards and the series per bucket in a zone.
 */
import { median, rng, type Ev } from './reference.ts';

export const H = 3_600_000;
export const START = Date.parse('2026-03-25T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** `START` + up to 9 days of runs, with steps out of order, skipped and repeated, goals and exits (some after a goal). */
export function generate(seed: number, users: number, workflows: string[]): Ev[] {
  const r = rng(seed);
  const out: Ev[] = [];
  let id = 0;
  const push = (user: string, wf: string, action: string, t: number, extra: Record<string, unknown> = {}) =>
    out.push({ event_id: `w${seed}-${id++}`, event_type: 'workflow_step', action, workflow_id: wf, timestamp: iso(t), user_id: user, session_id: `${user}-s`, department_id: ['eng', 'ops'][id % 2], ...extra });
  for (let u = 0; u < users; u++) {
    const user = `user-${u}`;
    for (const wf of workflows) {
      if (r() < 0.25) continue;
      const runs = r() < 0.2 ? 2 : 1;
      for (let run = 0; run < runs; run++) {
        let t = START + Math.floor(r() * 9 * 24) * H + Math.floor(r() * H);
        push(user, wf, 'enrolled', t);
        const steps = ['setup', 'first-run', 'review'];
        // some take the steps out of order, skip one or go back to one
        const order = r() < 0.1 ? [1, 0, 2] : [0, 1, 2];
        let i = 0;
        for (const si of order) {
          const step = steps[si]!;
          if (r() < 0.08) continue;
          t += Math.floor(r() * 5 * H) + 1000;
          push(user, wf, 'step_entered', t, { workflow_step: step, step_index: si + 1 });
          if (r() < 0.1) push(user, wf, 'step_entered', t + 1000, { workflow_step: step, step_index: si + 1 });
          if (r() < 0.25) break;
          const took = Math.floor(r() * 3 * H) + 500;
          t += took;
          push(user, wf, 'step_completed', t, { workflow_step: step, step_index: si + 1, duration_ms: r() < 0.8 ? took : 0 });
          i++;
        }
        t += Math.floor(r() * 6 * H) + 1;
        const end = r();
        if (i === steps.length && end < 0.7) push(user, wf, 'goal_reached', t);
        else if (end < 0.85) push(user, wf, 'exited', t, { workflow_step: steps[Math.min(i, 2)], reason: ['blocked', 'no-time', 'confused'][Math.floor(r() * 3)] });
        if (r() < 0.1) push(user, wf, 'exited', t + H, { reason: 'late' }); // an exit after a goal: still completed
      }
    }
  }
  return out;
}

/* ---------- the reference ---------- */
const offsetCache = new Map<string, Intl.DateTimeFormat>();
function offset(t: number, tz: string): number {
  let f = offsetCache.get(tz);
  if (!f) offsetCache.set(tz, (f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })));
  const p = Object.fromEntries(f.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  return Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!, +p.second!) - (t - (t % 1000));
}
export function bucketOf(t: number, g: 'hour' | 'day' | 'week', tz: string): string {
  const wall = t + offset(t, tz);
  let start = g === 'hour' ? wall - (wall % H) : wall - (wall % (24 * H));
  if (g === 'week') start -= ((new Date(start).getUTCDay() + 6) % 7) * 24 * H;
  let u = start - offset(t, tz);
  u = start - offset(u, tz);
  return iso(u);
}

export type Cohort = Map<string, { e: number; goal: number | null; exited: boolean; dept: string; firstId: string }>;
/** The users who enrolled in [from, to) (ms), by their first enrolment there. */
export function cohort(events: Ev[], wf: string, from: number, to: number): Cohort {
  const mine = events.filter((x) => x.workflow_id === wf);
  const c: Cohort = new Map();
  for (const x of mine) {
    const t = Date.parse(x.timestamp);
    if (x.action === 'enrolled' && t >= from && t < to) {
      const cur = c.get(x.user_id);
      if (!cur || t < cur.e || (t === cur.e && x.event_id < cur.firstId)) c.set(x.user_id, { e: t, goal: null, exited: false, dept: x.department_id ?? '', firstId: x.event_id });
    }
  }
  for (const [user, v] of c) {
    const later = mine.filter((x) => x.user_id === user && Date.parse(x.timestamp) > v.e);
    const goals = later.filter((x) => x.action === 'goal_reached').map((x) => Date.parse(x.timestamp));
    v.goal = goals.length ? Math.min(...goals) : null;
    v.exited = v.goal === null && later.some((x) => x.action === 'exited');
  }
  return c;
}
export function summary(c: Cohort) {
  const vs = [...c.values()];
  const times = vs.filter((v) => v.goal !== null).map((v) => (v.goal! - v.e) / 1000);
  const completed = times.length;
  const exited = vs.filter((v) => v.exited).length;
  return {
    enrolled: vs.length,
    currently_active: vs.length - completed - exited,
    completed,
    exited,
    conversion_rate: vs.length ? completed / vs.length : null,
    median_seconds_to_complete: median(times),
    avg_seconds_to_complete: completed ? times.reduce((a, b) => a + b, 0) / completed : null,
  };
}

/** Distinct cohort users per bucket of the event's own time in [from, to): enrolments, later goals, later exits. */
/** `summary` per department of the cohort, the largest first (then by name), as the departments route lists them. */
export function byDept(c: Cohort) {
  return [...new Set([...c.values()].map((v) => v.dept))]
    .map((d) => ({ department_id: d, ...summary(new Map([...c.entries()].filter(([, v]) => v.dept === d))) }))
    .sort((x, y) => y.enrolled - x.enrolled || x.department_id.localeCompare(y.department_id));
}

export function series(events: Ev[], wf: string, from: number, to: number, g: 'hour' | 'day' | 'week', tz: string) {
  const c = cohort(events, wf, from, to);
  const buckets = new Map<string, { enrolled: Set<string>; completed: Set<string>; exited: Set<string> }>();
  for (const x of events) {
    const t = Date.parse(x.timestamp);
    const v = c.get(x.user_id);
    if (x.workflow_id !== wf || !v || t < from || t >= to) continue;
    const key = x.action === 'enrolled' ? 'enrolled' : x.action === 'goal_reached' && t > v.e ? 'completed' : x.action === 'exited' && t > v.e ? 'exited' : null;
    if (!key) continue;
    const bk = bucketOf(t, g, tz);
    if (!buckets.has(bk)) buckets.set(bk, { enrolled: new Set(), completed: new Set(), exited: new Set() });
    buckets.get(bk)![key].add(x.user_id);
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([bucket, s]) => ({ bucket, enrolled: s.enrolled.size, completed: s.completed.size, exited: s.exited.size }))
    .filter((s) => s.enrolled + s.completed + s.exited > 0);
}
