/**
 * The live summary stream (`GET /workflows/{id}/analytics/stream`, Server-Sent Events over
 * real HTTP) against a reference computed here from the events sent, before and after new
 * events arrive and on a resumed stream; and the per-user limit of the heavy routes
 * (429 with Retry-After), set low through the plugin's config.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { rng, type Ev } from './reference.ts';

const H = 3_600_000;
const LIMIT = 5;
const now0 = Date.now();
const FROM = new Date(now0 - 48 * H).toISOString();

let seq = 0;
function generate(seed: number, users: string[], t0: number, t1: number): Ev[] {
  const r = rng(seed);
  const out: Ev[] = [];
  const push = (user: string, action: string, t: number) =>
    out.push({ event_id: `s${seed}-${seq++}`, event_type: 'workflow_step', action, workflow_id: 'onb', timestamp: new Date(t).toISOString(), user_id: user, session_id: `${user}-s`, department_id: 'eng' });
  for (const u of users) {
    let t = t0 + Math.floor(r() * (t1 - t0) * 0.7);
    push(u, 'enrolled', t);
    if (r() < 0.2) push(u, 'enrolled', t + 1000);
    t += Math.floor(r() * (t1 - t) * 0.5) + 1;
    const end = r();
    if (end < 0.4) push(u, 'goal_reached', t);
    else if (end < 0.7) push(u, 'exited', t);
  }
  return out;
}

/** API.md's workflow figures over enrolments in [from, to), from the events alone. */
function reference(events: Ev[], from: number, to: number) {
  const e = new Map<string, number>();
  for (const x of events) {
    const t = Date.parse(x.timestamp);
    if (x.workflow_id === 'onb' && x.action === 'enrolled' && t >= from && t < to && (!e.has(x.user_id) || t < e.get(x.user_id)!)) e.set(x.user_id, t);
  }
  let completed = 0;
  let exited = 0;
  for (const [u, t0] of e) {
    const later = events.filter((x) => x.user_id === u && x.workflow_id === 'onb' && Date.parse(x.timestamp) > t0);
    if (later.some((x) => x.action === 'goal_reached')) completed++;
    else if (later.some((x) => x.action === 'exited')) exited++;
  }
  return { enrolled: e.size, completed, exited, currently_active: e.size - completed - exited };
}

interface Sse { id?: string; event?: string; data?: any; comment?: string }

/** Opens a stream and reads events until `until` says stop (or the time runs out). */
async function stream(url: string, token: string, headers: Record<string, string>, until: (evs: Sse[]) => boolean, onOpen?: () => Promise<void>) {
  const ac = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers }, signal: ac.signal });
  const evs: Sse[] = [];
  if (res.status !== 200) return { res, evs, text: await res.text() };
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const deadline = Date.now() + 30_000;
  let opened = false;
  try {
    while (Date.now() < deadline && !until(evs)) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev: Sse = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) ev.comment = line.slice(1).trim();
          else if (line.startsWith('id: ')) ev.id = line.slice(4);
          else if (line.startsWith('event: ')) ev.event = line.slice(7);
          else if (line.startsWith('data: ')) ev.data = JSON.parse(line.slice(6));
        }
        evs.push(ev);
      }
      if (!opened && evs.some((e) => e.event === 'summary')) {
        opened = true;
        await onOpen?.();
      }
    }
  } finally {
    ac.abort();
  }
  return { res, evs, text: '' };
}

describe('workflow stream and rate limits', () => {
  let b: TestBackend;
  let other: TestOrg;
  const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);
  const events = generate(1, users, now0 - 72 * H, now0 - H);
  const otherEvents = generate(2, users.slice(0, 15), now0 - 72 * H, now0 - H).map((e) => ({ ...e, event_id: `o-${e.event_id}` }));

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [plugin], listen: true, config: { plugins: { funnels: { rateLimitPerMinute: LIMIT } } } });
    other = await b.createOrg('stream-other');
    await b.org.insertEvents(events as any);
    await other.insertEvents(otherEvents as any);
  }, 180_000);
  afterAll(() => b?.close());

  const url = (q: string) => `${b.url}/api/v1/workflows/onb/analytics/stream?${q}`;
  const figures = (d: any) => ({ enrolled: d.enrolled, completed: d.completed, exited: d.exited, currently_active: d.currently_active });

  it('streams the summary, a delta when new events arrive, and heartbeats; a resumed stream gets what it missed', async () => {
    const before = reference(events, Date.parse(FROM), Date.now());
    expect(before.enrolled).toBeGreaterThan(10);
    expect(before.completed * before.exited * before.currently_active).toBeGreaterThan(0);
    // new enrolments, and goals of people who were active
    const active = [...new Set(events.filter((e) => e.action === 'enrolled' && Date.parse(e.timestamp) >= Date.parse(FROM)).map((e) => e.user_id))].filter((u) => !events.some((e) => e.user_id === u && e.action !== 'enrolled'));
    expect(active.length).toBeGreaterThan(1);
    const t = Date.now() - 60_000;
    const fresh: Ev[] = [
      ...['new-1', 'new-2', 'new-3'].map((u, i) => ({ event_id: `n-${i}`, event_type: 'workflow_step', action: 'enrolled', workflow_id: 'onb', timestamp: new Date(t).toISOString(), user_id: u, session_id: 's', department_id: 'eng' })),
      ...active.slice(0, 2).map((u, i) => ({ event_id: `g-${i}`, event_type: 'workflow_step', action: 'goal_reached', workflow_id: 'onb', timestamp: new Date(t).toISOString(), user_id: u, session_id: 's', department_id: 'eng' })),
    ];
    const s = await stream(url(`from=${FROM}&interval_seconds=1&heartbeat_seconds=1`), b.client.token, {}, (evs) => evs.some((e) => e.event === 'delta') && evs.some((e) => e.comment === 'heartbeat'), async () => {
      await new Promise((r) => setTimeout(r, 1500));
      await b.org.insertEvents(fresh as any);
    });
    expect(s.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const first = s.evs.find((e) => e.event === 'summary')!;
    expect(figures(first.data)).toEqual(before);
    expect(first.data.new_enrollments_delta).toBeNull();
    const delta = s.evs.find((e) => e.event === 'delta')!;
    const after = reference([...events, ...fresh], Date.parse(FROM), Date.now());
    expect(figures(delta.data)).toEqual(after);
    expect(delta.data).toMatchObject({
      new_enrollments_delta: after.enrolled - before.enrolled,
      completed_delta: after.completed - before.completed,
      exited_delta: 0,
      currently_active_delta: after.currently_active - before.currently_active,
    });
    expect(delta.data.new_enrollments_delta).toBe(3);
    expect(delta.data.completed_delta).toBe(2);
    expect(s.evs.some((e) => e.comment === 'heartbeat')).toBe(true);

    // resumed from the first event, without `from`: the deltas since then, over the same `from`
    const resumed = await stream(url('interval_seconds=1'), b.client.token, { 'last-event-id': first.id! }, (evs) => evs.some((e) => e.event === 'summary'));
    const r = resumed.evs.find((e) => e.event === 'summary')!;
    expect(r.data.from).toBe(new Date(Date.parse(FROM)).toISOString());
    expect(figures(r.data)).toEqual(after);
    expect(r.data).toMatchObject({ new_enrollments_delta: 3, completed_delta: 2, currently_active_delta: after.currently_active - before.currently_active });
    expect(r.id).toBe(delta.id);
  }, 180_000);

  it("another org's stream carries its own figures", async () => {
    const s = await stream(url(`from=${FROM}`), other.client.token, {}, (evs) => evs.some((e) => e.event === 'summary'));
    expect(figures(s.evs.find((e) => e.event === 'summary')!.data)).toEqual(reference(otherEvents, Date.parse(FROM), Date.now()));
  });

  it('bad input is a 400 naming the field', async () => {
    for (const [q, field] of [['interval_seconds=0', 'interval_seconds'], [`from=${new Date(Date.now() + H).toISOString()}`, 'from'], ['from=soon', 'from'], ['nonsense=1', 'nonsense']] as const) {
      const res = await b.org.addUser({ email: `bad-${field}-${q.length}@s.local`, role: 'Developer' }).then((u) => u.get('/api/v1/workflows/onb/analytics/stream', Object.fromEntries(new URLSearchParams(q))));
      expect(res.status, q).toBe(400);
      expect(JSON.stringify(res.body.error), q).toContain(field);
    }
  });

  it(`heavy routes allow ${LIMIT} requests a minute per user, then 429 with Retry-After; other users and routes keep theirs`, async () => {
    const dev = await b.org.addUser({ email: 'limited@s.local', role: 'Developer' });
    const q = { from: FROM, to: new Date().toISOString() };
    for (let i = 0; i < LIMIT; i++) expect((await dev.get('/api/v1/workflows', q)).status).toBe(200);
    const over = await dev.get('/api/v1/workflows', q);
    expect(over.status).toBe(429);
    const retry = Number(over.headers['retry-after']);
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    expect(over.body.error).toMatchObject({ code: 'rate_limited', details: { limit: LIMIT, window_seconds: 60, retry_after: retry } });
    expect(over.body.error.message).toContain('/api/v1/workflows');
    // the funnel query is another route: its own count
    const funnel = await dev.post('/api/v1/funnels/query', { steps: [{ event_type: 'workflow_step', action: 'enrolled' }, { event_type: 'workflow_step', action: 'goal_reached' }], ...q });
    expect(funnel.status, funnel.text).toBe(200);
    // another user of the same org is not limited by this one
    const dev2 = await b.org.addUser({ email: 'limited2@s.local', role: 'Developer' });
    expect((await dev2.get('/api/v1/workflows', q)).status).toBe(200);
    // saved-funnel CRUD is not a heavy route
    for (let i = 0; i < LIMIT + 2; i++) expect((await dev.get('/api/v1/funnels/saved')).status).toBe(200);
  });
});
