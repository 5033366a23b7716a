import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { rng } from './reference.ts';

const DAY = 86_400_000;
const AS_OF = Date.parse('2026-05-01T00:00:00Z');
const START = AS_OF - 110 * DAY;

type E = { event_id: string; event_type: string; action: string; timestamp: string; user_id: string; department_id: string; status: string };

/**
 * 150 users active on random days; each stops for good at a random day (some never), and
 * fades out before stopping: fewer events, more failures. Churn is then predictable, not certain.
 */
function history(seed: number, depts: string[]): E[] {
  const r = rng(seed);
  const out: E[] = [];
  let n = 0;
  for (let u = 0; u < 150; u++) {
    const dept = depts[u % depts.length]!;
    const stop = r() < 0.35 ? 110 + 30 : 20 + Math.floor(r() * 100);
    const rate = 0.2 + r() * 0.6;
    const failBase = r() * 0.2;
    for (let d = Math.floor(r() * 15); d < Math.min(stop, 110); d++) {
      const fading = stop - d < 14 ? (stop - d) / 14 : 1;
      if (r() > rate * fading) continue;
      const k = 1 + Math.floor(r() * 4 * fading);
      for (let i = 0; i < k; i++) {
        const inv = r() < 0.6;
        out.push({
          event_id: `c${n++}`,
          event_type: inv ? 'agent_invocation' : 'command',
          action: '',
          timestamp: new Date(START + d * DAY + Math.floor(r() * DAY)).toISOString(),
          user_id: `cu${u}`,
          department_id: dept,
          status: inv ? (r() < failBase + (1 - fading) * 0.5 ? 'failure' : 'success') : '',
        });
      }
    }
  }
  return out;
}

/** Who was in the snapshot at T (an event in the 28 days before) and who of them had none in the 7 days after. */
function labels(events: E[], T: number) {
  const before = new Set(events.filter((e) => Date.parse(e.timestamp) >= T - 28 * DAY && Date.parse(e.timestamp) < T).map((e) => e.user_id));
  const after = new Set(events.filter((e) => Date.parse(e.timestamp) >= T && Date.parse(e.timestamp) < T + 7 * DAY).map((e) => e.user_id));
  return new Map([...before].map((u) => [u, after.has(u) ? 0 : 1]));
}

describe('churn prediction', () => {
  let backend: TestBackend;
  let events: E[];
  let open: string;
  let memberId: string;
  let secret: string;

  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin] });
    await backend.org.addUser({ email: 'in-secret@churn.local', role: 'Developer', departments: ['secret'], restricted: ['secret'] });
    const member = await backend.org.addUser({ email: 'in-open@churn.local', role: 'Developer', departments: ['open'] });
    open = backend.org.departments.get('open')!;
    secret = backend.org.departments.get('secret')!;
    events = history(5, [open, secret]);
    // one user still active in the month before as_of is a member of the org (the others are ids only): lists name them
    const recent = events.find((e) => Date.parse(e.timestamp) >= AS_OF - 7 * DAY && Date.parse(e.timestamp) < AS_OF)!.user_id;
    memberId = member.userId;
    for (const e of events) if (e.user_id === recent) e.user_id = memberId;
    await backend.org.insertEvents(events);
  }, 60_000);
  afterAll(() => backend?.close());

  it('backtest: held-out labels match the events, and every reported figure matches the scores', async () => {
    const res = await backend.client.get('/api/v1/cohorts/churn/model', { as_of: new Date(AS_OF).toISOString(), detail: true });
    expect(res.status, res.text).toBe(200);
    const bt = res.body.backtest;
    // the held-out snapshot is one period before as_of; its outcome is the last 7 days
    expect(bt.scored_snapshot).toBe(new Date(AS_OF - 7 * DAY).toISOString());
    const want = labels(events, AS_OF - 7 * DAY);
    expect(new Map(bt.scores.map((s: any) => [s.user_id, s.y]))).toEqual(want);

    const s: Array<{ p: number; y: number }> = bt.scores;
    const pos = s.filter((x) => x.y === 1);
    const neg = s.filter((x) => x.y === 0);
    let pairs = 0;
    for (const a of pos) for (const b of neg) pairs += a.p > b.p ? 1 : a.p === b.p ? 0.5 : 0;
    expect(bt.auc).toBeCloseTo(pairs / (pos.length * neg.length), 12);
    const called = s.filter((x) => x.p >= bt.threshold);
    expect(bt.precision).toBeCloseTo(called.filter((x) => x.y === 1).length / called.length, 12);
    expect(bt.recall).toBeCloseTo(called.filter((x) => x.y === 1).length / pos.length, 12);
    expect(bt.accuracy).toBeCloseTo((called.filter((x) => x.y === 1).length + s.filter((x) => x.p < bt.threshold && x.y === 0).length) / s.length, 12);
    expect(bt.calibration.reduce((a: number, b: any) => a + b.examples, 0)).toBe(s.length);
    for (const bin of bt.calibration) {
      const inBin = s.filter((x) => x.p >= bin.from && (bin.to === 1 ? x.p <= 1 : x.p < bin.to));
      expect(bin.examples).toBe(inBin.length);
      if (inBin.length) expect(bin.observed_rate).toBeCloseTo(inBin.filter((x) => x.y === 1).length / inBin.length, 12);
    }
    // the data carry signal: the model must find it (printed for the README)
    expect(bt.auc).toBeGreaterThan(0.7);
    console.log(`churn backtest: AUC ${bt.auc.toFixed(3)}, accuracy ${bt.accuracy.toFixed(3)} (majority ${bt.majority_accuracy.toFixed(3)}), precision ${bt.precision?.toFixed(3)}, recall ${bt.recall?.toFixed(3)}, n=${bt.examples}`);
  });

  it('at-risk list: features from the events; a Manager sees only departments they may see', async () => {
    const res = await backend.client.get('/api/v1/cohorts/churn/at-risk', { as_of: new Date(AS_OF).toISOString(), threshold: 0.3, limit: 1000 });
    expect(res.status, res.text).toBe(200);
    expect(res.body.users.length).toBeGreaterThan(0);
    const probs = res.body.users.map((u: any) => u.probability);
    expect([...probs].sort((a, b) => b - a)).toEqual(probs);
    for (const u of res.body.users) {
      const mine = events.filter((e) => e.user_id === u.user_id && Date.parse(e.timestamp) < AS_OF && Date.parse(e.timestamp) >= AS_OF - 28 * DAY);
      const last = Math.max(...mine.map((e) => Date.parse(e.timestamp)));
      expect(u.features.days_since_last_event).toBe(Math.floor((AS_OF - last - 1) / DAY));
      expect(u.features.log_events_4p).toBeCloseTo(Math.log1p(mine.length), 12);
      const inv = mine.filter((e) => e.event_type === 'agent_invocation');
      expect(u.features.error_rate).toBeCloseTo(inv.length ? inv.filter((e) => e.status === 'failure').length / inv.length : 0, 12);
      expect(u.probability).toBeGreaterThanOrEqual(0.3);
    }
    expect(new Set(res.body.users.map((u: any) => u.department_id))).toEqual(new Set([open, secret]));

    const manager = await backend.org.addUser({ email: 'mgr@churn.local', role: 'Manager', departments: [{ name: 'open', manager: true }] });
    const theirs = await manager.get('/api/v1/cohorts/churn/at-risk', { as_of: new Date(AS_OF).toISOString(), threshold: 0.3, limit: 1000 });
    expect(theirs.status, theirs.text).toBe(200);
    expect(theirs.body.users.map((u: any) => u.user_id)).toEqual(res.body.users.filter((u: any) => u.department_id === open).map((u: any) => u.user_id));

    const dev = await backend.org.addUser({ email: 'dev@churn.local', role: 'Developer', departments: ['open'] });
    expect((await dev.get('/api/v1/cohorts/churn/at-risk')).status).toBe(403);

    // everybody scored (the lowest threshold): the member is named by their email, users who are not members by their id only
    const all = (await backend.client.get('/api/v1/cohorts/churn/at-risk', { as_of: new Date(AS_OF).toISOString(), threshold: 0.01, limit: 1000 })).body.users as Array<{ user_id: string; email: string | null }>;
    expect(all.find((u) => u.user_id === memberId)?.email).toBe('in-open@churn.local');
    expect(all.filter((u) => u.user_id !== memberId).every((u) => u.email === null)).toBe(true);
    expect(all.length).toBeGreaterThan(10);
    const model = await dev.get('/api/v1/cohorts/churn/model', { as_of: new Date(AS_OF).toISOString() });
    expect(model.status).toBe(200);
    expect(model.body.backtest.scores).toBeUndefined();
  });

  it('another org has no examples; bad input names the field', async () => {
    const other = await backend.createOrg('churn-other');
    const res = await other.client.get('/api/v1/cohorts/churn/model', { as_of: new Date(AS_OF).toISOString() });
    expect(res.status, res.text).toBe(200);
    expect(res.body.backtest.examples).toBe(0);
    for (const [q, field] of [[{ period_days: 0 }, 'period_days'], [{ threshold: 2 }, 'threshold'], [{ as_of: 'soon' }, 'as_of'], [{ snapshots: 1 }, 'snapshots']] as const) {
      const r = await backend.client.get('/api/v1/cohorts/churn/model', q);
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.body.error)).toContain(field);
    }
  });
});
