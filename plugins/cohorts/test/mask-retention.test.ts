/**
 * The bit-mask fast path (one 64-bit mask per user) against the brute-force reference, with
 * events on both sides of the rollup's watermark: half of each user's history folded, the
 * rest read raw, and some quarter-hours in both (the same instant sent twice under two ids).
 * Also where it hands over to the array path: a breakdown, and questions of more than 63
 * periods; and the 63-period edge, where bit 63 holds "returned after the last period".
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { expectReference, rng, type Ev, type P, type RefQuery } from './reference.ts';

const TYPES = ['session', 'command', 'agent_invocation', 'feature_use'] as const;
const DEPTS = ['dept-a', 'dept-b'];
const DAY = 86_400_000;
const BASE = Date.parse('2026-01-05T00:00:00Z');

/** 80 users over 150 days: some start before every range asked, many return, a few stop early */
function history(seed: number): Ev[] {
  const r = rng(seed);
  const events: Ev[] = [];
  for (let u = 0; u < 80; u++) {
    let t = BASE + Math.floor(r() * 120 * DAY);
    const stay = 0.5 + r() * 0.45;
    for (let n = 0; n < 40 && t < BASE + 150 * DAY; n++) {
      // every fourth event on a local midnight of +05:30 or UTC, ± 1 ms
      const edge = r() < 0.25 ? Math.round(t / DAY) * DAY - (r() < 0.5 ? 19_800_000 : 0) + [-1, 0, 1][Math.floor(r() * 3)]! : t;
      events.push({ event_id: `m-${u}-${n}`, event_type: TYPES[Math.floor(r() * TYPES.length)]!, timestamp: new Date(edge).toISOString(), user_id: `u${u}`, department_id: DEPTS[Math.floor(r() * 2)]! });
      if (r() > stay) break;
      t += r() < 0.6 ? Math.floor(r() * 2 * DAY) : Math.floor(r() * 20 * DAY);
    }
  }
  return events;
}

describe('retention from one bit-mask per user', () => {
  let backend: TestBackend;
  const events = history(31);
  // the same instant again under another id, after the watermark: a quarter-hour read from
  // the rollup and raw at once must count once
  const echoes = events.filter((_, i) => i % 7 === 0).map((e) => ({ ...e, event_id: `${e.event_id}-echo` }));
  const all = [...events, ...echoes];

  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin] });
    const rows = (xs: Ev[]) => xs.map((e) => ({ ...e, action: e.event_type === 'session' ? 'started' : '' }));
    await backend.org.insertEvents(rows(events.filter((_, i) => i % 2 === 0)));
    await backend.foldRollups();
    await backend.org.insertEvents(rows([...events.filter((_, i) => i % 2 === 1), ...echoes]));
  }, 300_000);
  afterAll(() => backend?.close());

  const ask = async (q: RefQuery & { breakdown?: string; source?: string }) => {
    const res = await backend.client.get('/api/v1/cohorts/retention', q as any);
    expect(res.status, res.text).toBe(200);
    return res.body;
  };

  const shapes: Array<{ period: P; periods: number; from: string; to: string }> = [
    { period: 'week', periods: 12, from: '2026-01-12T00:00:00Z', to: '2026-04-06T00:00:00Z' },
    { period: 'day', periods: 14, from: '2026-02-01T00:00:00Z', to: '2026-03-01T00:00:00Z' },
    { period: 'month', periods: 4, from: '2026-01-01T00:00:00Z', to: '2026-04-01T00:00:00Z' },
    { period: 'hour', periods: 24, from: '2026-03-07T00:00:00Z', to: '2026-03-08T12:00:00Z' },
  ];

  for (const s of shapes)
    it(`${s.period}: masks = reference in UTC, +05:30 and New York, both modes and countings, events and department`, async () => {
      const r = rng(s.periods);
      let members = 0;
      for (const tz of ['UTC', 'Asia/Kolkata', 'America/New_York'])
        for (const mode of ['first_time', 'recurring'] as const)
          for (const counting of ['exact', 'on_or_after'] as const) {
            const q: RefQuery = {
              ...s,
              tz,
              mode,
              counting,
              start_event: r() < 0.6 ? 'any' : TYPES[Math.floor(r() * TYPES.length)]!,
              return_event: r() < 0.6 ? 'any' : TYPES[Math.floor(r() * TYPES.length)]!,
              ...(r() < 0.3 ? { department_id: 'dept-a' } : {}),
            };
            const body = await ask(q);
            expect(body.rollup_path).toBe('masks');
            const ref = expectReference(all, q, body);
            members += [...ref.values()].reduce((a, x) => a + x.size, 0);
          }
      expect(members).toBeGreaterThan(0);
    }, 120_000);

  it('63 periods (bit 63 is "after the last period") use masks; 64 hand over to the sets, both equal to the reference', async () => {
    // 33 daily cohorts × 31 periods = 63 mask bits; on_or_after counts returns after the last one
    for (const [to, path] of [['2026-03-06T00:00:00Z', 'masks'], ['2026-03-07T00:00:00Z', 'sets']] as const) {
      const q: RefQuery = { from: '2026-02-01T00:00:00Z', to, tz: 'Asia/Kolkata', period: 'day', periods: 31, mode: 'first_time', counting: 'on_or_after', start_event: 'any', return_event: 'any' };
      const body = await ask(q);
      expect(body.rollup_path).toBe(path);
      expectReference(all, q, body);
    }
  });

  it('a breakdown is answered by the sets; source=sets and source=raw give the masks\' figures', async () => {
    const q: RefQuery = { from: '2026-01-12T00:00:00Z', to: '2026-04-06T00:00:00Z', tz: 'UTC', period: 'week', periods: 8, mode: 'recurring', counting: 'exact', start_event: 'any', return_event: 'any' };
    const broken = await ask({ ...q, breakdown: 'department' });
    expect(broken.rollup_path).toBe('sets');
    expectReference(all, q, broken);
    const masks = await ask(q);
    const sets = await ask({ ...q, source: 'sets' });
    const raw = await ask({ ...q, source: 'raw' });
    expect([masks.rollup_path, sets.rollup_path, raw.source]).toEqual(['masks', 'sets', 'raw']);
    expect(sets.cohorts).toEqual(masks.cohorts);
    expect(raw.cohorts).toEqual(masks.cohorts);
  });
});
