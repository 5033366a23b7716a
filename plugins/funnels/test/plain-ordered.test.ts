/**
 * The fast evaluation of plain ordered funnels (funnel/greedy.ts: no per-step windows, no
 * exclusions) against the exhaustive reference, on random event sequences made for it:
 * long per-unit sequences over few event kinds (so 20-step funnels convert deep), many
 * events at one instant, repeated steps, breakdowns and sessions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { referenceFunnel, rng, type Ev, type RefFunnel, type RefStep } from './reference.ts';

const T0 = Date.parse('2026-05-11T08:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const S = 1000;
const NAMES = ['a', 'b', 'c', 'd'];

function denseEvents(seed: number, users: number): Ev[] {
  const r = rng(seed);
  const out: Ev[] = [];
  for (let u = 0; u < users; u++) {
    const n = 1 + Math.floor(r() * (u % 4 === 0 ? 13 : 9));
    for (let i = 0; i < n; i++) {
      // whole seconds over 5 minutes: many events share an instant
      const t = T0 + Math.floor(r() * 300) * S;
      out.push({
        event_id: `p${seed}-${u}-${i}`,
        event_type: 'command',
        command_name: NAMES[Math.floor(r() * NAMES.length)]!,
        timestamp: iso(t),
        user_id: `pu-${u}`,
        session_id: `ps-${u}-${Math.floor(r() * 2)}`,
        department_id: ['eng', 'ops', 'sales'][Math.floor(r() * 3)],
      });
    }
  }
  return out;
}

const STEPS: RefStep[] = [
  ...NAMES.map((c) => ({ event_type: 'command', where: { command_name: c } })),
  { event_type: 'command', where: { command_name: ['a', 'b'] } },
  { event_type: 'command', where: { command_name: ['c', 'd'] } },
  { event_type: 'command' },
];

function plainFunnel(r: () => number): RefFunnel {
  const n = r() < 0.25 ? 12 + Math.floor(r() * 9) : 2 + Math.floor(r() * 6);
  // long funnels over two single names, so they convert deep; never a step matching every
  // event there: the reference enumerates every path, which that makes exponential
  const pool = n > 7 ? STEPS.slice(0, 2) : STEPS;
  const steps = Array.from({ length: n }, () => pool[Math.floor(r() * pool.length)]!);
  const from = T0 + Math.floor(r() * 150) * S;
  const to = from + (10 + Math.floor(r() * 150)) * S;
  const f: RefFunnel = { steps, from: iso(from), to: iso(to), order: 'ordered', window_seconds: [5, 30, 60, 120, 400][Math.floor(r() * 5)] };
  if (r() < 0.3) f.count_by = 'session';
  if (r() < 0.3) f.breakdown = 'department_id';
  return f;
}

describe('plain ordered funnels (the greedy evaluation)', () => {
  let b: TestBackend;
  const events = denseEvents(11, 60);

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [plugin], config: { plugins: { funnels: { rateLimitPerMinute: 100000 } } } });
    await b.org.insertEvents(events);
  }, 300_000);
  afterAll(() => b?.close());

  /** the route's step counts and times against the exhaustive reference over `all` */
  const expectAsReference = async (f: RefFunnel, all: Ev[]) => {
    const res = await b.client.post('/api/v1/funnels/query', f);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const expected = referenceFunnel(f, all);
    expect(res.body.steps.map((x: any) => x.count), JSON.stringify(f)).toEqual(expected.steps.map((x) => x.count));
    res.body.steps.forEach((x: any, k: number) => {
      for (const field of ['median_seconds_from_previous', 'avg_seconds_from_previous'] as const) {
        if (expected.steps[k]![field] === null) expect(x[field], `${JSON.stringify(f)} step ${k} ${field}`).toBeNull();
        else expect(x[field], `${JSON.stringify(f)} step ${k} ${field}`).toBeCloseTo(expected.steps[k]![field]!, 6);
      }
    });
    return { res, expected };
  };

  it('matches the exhaustive reference on 40 random funnels of 2 to 20 steps', async () => {
    const r = rng(4242);
    let deep = 0;
    for (let i = 0; i < 40; i++) {
      const f = plainFunnel(r);
      const res = await b.client.post('/api/v1/funnels/query', f);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const expected = referenceFunnel(f, events);
      const label = `case ${i} ${JSON.stringify(f)}`;
      const same = (a: any[], e: any[], where: string) => {
        expect(a.map((s) => s.count), `${where} counts`).toEqual(e.map((s) => s.count));
        a.forEach((s, k) => {
          for (const field of ['median_seconds_from_previous', 'avg_seconds_from_previous']) {
            if (e[k][field] === null) expect(s[field], `${where} step ${k} ${field}`).toBeNull();
            else expect(s[field], `${where} step ${k} ${field}`).toBeCloseTo(e[k][field], 6);
          }
        });
      };
      same(res.body.steps, expected.steps, label);
      if (expected.breakdown) {
        expect(res.body.breakdown.map((x: any) => x.value)).toEqual(expected.breakdown.map((x) => x.value));
        res.body.breakdown.forEach((x: any, j: number) => same(x.steps, expected.breakdown![j]!.steps, `${label} [${x.value}]`));
      }
      if (f.steps.length >= 4 && expected.steps[3]!.count > 0) deep++;
    }
    // the generator must reach deep steps, not only the first two
    expect(deep).toBeGreaterThan(2);
  }, 600_000);

  it('where the in-order bound says more than the answer: ties at one instant, one event on two steps, the window, a from before 1900', async () => {
    // the bound lets events at one instant follow each other and ignores the window, so
    // each of these units has a bound above its furthest step and needs the exact chain
    const E = T0 + 3600 * S;
    let n = 0;
    const ev = (user: string, c: string, at: number, dept = 'eng'): Ev => ({
      event_id: `bound-${n++}`, event_type: 'command', command_name: c, timestamp: iso(E + at), user_id: user, session_id: `${user}-s`, department_id: dept,
    });
    const edge: Ev[] = [
      ev('tie', 'a', 0), ev('tie', 'b', 0), ev('tie', 'c', 0), ev('tie', 'c', 9 * S),
      ev('tie-late', 'a', 0), ev('tie-late', 'b', 5 * S), ev('tie-late', 'c', 5 * S), ev('tie-late', 'c', 8 * S),
      ev('cut', 'a', 0), ev('cut', 'b', 30 * S), ev('cut', 'c', 61 * S),
      // the later anchor reaches further: its chain is the one that counts, and its times
      ev('second', 'a', 0, 'ops'), ev('second', 'a', 40 * S, 'sales'), ev('second', 'b', 50 * S), ev('second', 'c', 70 * S), ev('second', 'd', 95 * S),
      // an anchor after `to` is none, but it may fill a later step of the same command
      ev('late-anchor', 'a', 10 * S), ev('late-anchor', 'b', 20 * S), ev('late-anchor', 'a', 200 * S), ev('late-anchor', 'b', 210 * S),
    ];
    await b.org.insertEvents(edge);
    const abcd: RefStep[] = NAMES.map((c) => ({ event_type: 'command', where: { command_name: c } }));
    const cases: RefFunnel[] = [
      { steps: abcd, from: iso(E), to: iso(E + 100 * S), window_seconds: 60, order: 'ordered' },
      { steps: abcd, from: iso(E), to: iso(E + 100 * S), window_seconds: 60, order: 'ordered', breakdown: 'department_id' },
      { steps: [abcd[0]!, abcd[1]!, abcd[0]!, abcd[1]!], from: iso(E), to: iso(E + 100 * S), window_seconds: 600, order: 'ordered' },
      // from before the earliest instant the events table holds: times are packed from there
      { steps: abcd, from: '1800-01-01T00:00:00.000Z', to: iso(E + 100 * S), window_seconds: 60, order: 'ordered' },
    ];
    for (const f of cases) {
      // the reference over every event of the org: the 1800 case takes in the random ones too
      const { res, expected } = await expectAsReference(f, [...events, ...edge]);
      if (expected.breakdown) expect(res.body.breakdown.map((x: any) => x.steps.map((y: any) => y.count))).toEqual(expected.breakdown.map((x) => x.steps.map((y) => y.count)));
    }
    // by hand: tie stops at a (b at the same instant is not later), tie-late reaches c at 8 s
    // (not the c at b's instant), cut stops at b (c 61 s after a), second reaches d from its
    // anchor at 40 s, late-anchor reaches b once
    expect(referenceFunnel(cases[0]!, edge).steps.map((x) => x.count)).toEqual([5, 4, 2, 1]);
  });

  it('units that cannot pass step 0 are counted there without being grouped, once each, and none else', async () => {
    // funnelSql groups only the units with a step-1 event strictly after their first anchor;
    // every other anchored unit is counted at step 0 from the scalar that found them
    const E = T0 + 7200 * S;
    let n = 0;
    const ev = (user: string, c: string, at: number): Ev => ({
      event_id: `pass-${n++}`, event_type: 'command', command_name: c, timestamp: iso(E + at), user_id: user, session_id: `${user}-s`, department_id: 'eng',
    });
    const edge: Ev[] = [
      ev('b-before', 'b', 5 * S), ev('b-before', 'a', 10 * S), // step 1 only before the anchor
      ev('b-tie', 'a', 20 * S), ev('b-tie', 'b', 20 * S), // step 1 at the anchor's instant
      ev('b-late', 'a', 0), ev('b-late', 'b', 90 * S), // step 1 after, but outside the window: grouped, stops at 0
      ev('pre-from', 'a', -10 * S), ev('pre-from', 'b', 5 * S), // anchor before `from`: no attempt
      ev('post-to', 'b', 110 * S), ev('post-to', 'a', 120 * S), ev('post-to', 'b', 130 * S), // anchor after `to`: none
      ev('no-anchor', 'b', 10 * S), ev('no-anchor', 'c', 20 * S),
      ev('second', 'a', 0), ev('second', 'b', 0), ev('second', 'a', 30 * S), ev('second', 'b', 50 * S), ev('second', 'c', 55 * S),
      ev('passes', 'a', 1), ev('passes', 'b', 2), ev('passes', 'a', 3),
    ];
    await b.org.insertEvents(edge);
    const abcd: RefStep[] = NAMES.map((c) => ({ event_type: 'command', where: { command_name: c } }));
    const cases: RefFunnel[] = [
      { steps: abcd, from: iso(E), to: iso(E + 100 * S), window_seconds: 60, order: 'ordered' },
      { steps: abcd.slice(0, 2), from: iso(E), to: iso(E + 100 * S), window_seconds: 60, order: 'ordered', count_by: 'session' },
      // one command on both steps: its second event passes step 0
      { steps: [abcd[0]!, abcd[0]!, abcd[1]!], from: iso(E), to: iso(E + 100 * S), window_seconds: 60, order: 'ordered' },
      // no anchor in the range at all
      { steps: abcd, from: iso(E + 500 * S), to: iso(E + 600 * S), window_seconds: 60, order: 'ordered' },
    ];
    for (const f of cases) {
      await expectAsReference(f, [...events, ...edge]);
    }
    // by hand: b-before, b-tie, b-late, second and passes enter; second reaches c, passes b
    expect(referenceFunnel(cases[0]!, edge).steps.map((x) => x.count)).toEqual([5, 2, 1, 0]);
  });

  it('the window test of the units that may pass step 0: the window edge, a later anchor that completes, buckets that wrap', async () => {
    // funnelSql groups a unit only if some anchor's bucket is 0…D buckets before a step-1 event's
    // bucket (mod 64): the edge must pass, a millisecond past it need not, and a wrap is only a
    // unit grouped for nothing
    const E = T0 + 10_800 * S;
    let n = 0;
    const ev = (user: string, c: string, at: number): Ev => ({
      event_id: `win-${n++}`, event_type: 'command', command_name: c, timestamp: iso(E + at), user_id: user, session_id: `${user}-s`, department_id: 'eng',
    });
    const W = 1000 * S;
    const edge: Ev[] = [
      ev('edge', 'a', 0), ev('edge', 'b', 60 * S), // step 1 exactly at the window's end
      ev('edge-1', 'a', 0), ev('edge-1', 'b', 60 * S + 1), // a millisecond after it
      ev('second', 'a', 0), ev('second', 'a', 90 * S), ev('second', 'b', 140 * S), ev('second', 'c', 145 * S), // only the second anchor completes
      ev('late', 'a', 100 * S - 1), ev('late', 'b', 160 * S - 1), // anchor a millisecond before `to`, step 1 after `to` at the window's end
      ev('tie', 'a', 20 * S), ev('tie', 'b', 20 * S), ev('tie', 'b', 80 * S), // b at the anchor's instant, then at the edge
      ev('first-fails', 'a', 0), ev('first-fails', 'b', 61 * S), ev('first-fails', 'a', 70 * S), ev('first-fails', 'b', 75 * S),
      // window 60 s: buckets of 7.5 s, so 480 s is 64 buckets (the same bit) and 540 s 72 (8 after, mod 64)
      ev('wrap', 'a', W), ev('wrap', 'b', W + 480 * S),
      ev('wrap-8', 'a', W), ev('wrap-8', 'b', W + 540 * S),
      ev('wrap-late', 'a', W), ev('wrap-late', 'a', W + 480 * S), ev('wrap-late', 'b', W + 481 * S),
      ev('short', 'a', 200 * S), ev('short', 'b', 201 * S),
      ev('short-1', 'a', 200 * S), ev('short-1', 'b', 201 * S + 1),
    ];
    await b.org.insertEvents(edge);
    const abcd: RefStep[] = NAMES.map((c) => ({ event_type: 'command', where: { command_name: c } }));
    const cases: RefFunnel[] = [
      { steps: abcd, from: iso(E), to: iso(E + 100 * S), window_seconds: 60, order: 'ordered' },
      { steps: abcd.slice(0, 3), from: iso(E), to: iso(E + 100 * S), window_seconds: 60, order: 'ordered', count_by: 'session' },
      { steps: abcd, from: iso(E + W), to: iso(E + W + 6000 * S), window_seconds: 60, order: 'ordered' },
      // a window of 1 s: buckets of 125 ms, step 1 exactly 8 buckets after its anchor, or 1 ms more
      { steps: abcd, from: iso(E + 200 * S), to: iso(E + 300 * S), window_seconds: 1, order: 'ordered' },
    ];
    for (const f of cases) {
      await expectAsReference(f, [...events, ...edge]);
    }
    // by hand: edge, second, late, tie and first-fails reach b (edge-1 does not), second reaches c;
    // of the wrapping units only wrap-late, from its second anchor
    expect(referenceFunnel(cases[0]!, edge).steps.map((x) => x.count)).toEqual([6, 5, 1, 0]);
    expect(referenceFunnel(cases[2]!, edge).steps.map((x) => x.count)).toEqual([3, 1, 0, 0]);
    expect(referenceFunnel(cases[3]!, edge).steps.map((x) => x.count)).toEqual([2, 1, 0, 0]);
  });

  it('windowFunnel is no fast path: on ties it differs from API.md in both of its modes', async () => {
    const ch = b.kernel.services.analytics.client;
    const windowFunnel = async (seq: Array<[number, string]>, mode: string) => {
      const rows = seq.map(([t, c]) => `(${t}, '${c}')`).join(', ');
      const res = await ch.query({
        query: `SELECT windowFunnel(60${mode ? `, '${mode}'` : ''})(t, c = 'a', c = 'b') AS level
                FROM (SELECT arrayJoin([${rows}]) AS r, toDateTime(r.1) AS t, r.2 AS c)`,
        format: 'JSONEachRow',
      });
      return Number(((await res.json()) as Array<{ level: number }>)[0]!.level);
    };
    const reference = (seq: Array<[number, string]>) => {
      const evs: Ev[] = seq.map(([t, c], i) => ({ event_id: `wf-${i}`, event_type: 'command', command_name: c, timestamp: iso(T0 + t * S), user_id: 'wf' }));
      const f: RefFunnel = { steps: [STEPS[0]!, STEPS[1]!], from: iso(T0), to: iso(T0 + 3600 * S), window_seconds: 60, order: 'ordered' };
      return referenceFunnel(f, evs).steps.filter((x) => x.count > 0).length;
    };
    // b at the instant of the only a: not strictly later, API.md stops at step 0; the default mode moves on
    const sameInstant: Array<[number, string]> = [[5, 'a'], [5, 'b']];
    expect(reference(sameInstant)).toBe(1);
    expect(await windowFunnel(sameInstant, '')).toBe(2);
    // b strictly after the first a: API.md reaches it; strict_increase keeps only the later a's chain
    const earlierAnchor: Array<[number, string]> = [[0, 'a'], [5, 'a'], [5, 'b']];
    expect(reference(earlierAnchor)).toBe(2);
    expect(await windowFunnel(earlierAnchor, 'strict_increase')).toBe(1);
  });

  it('time to convert and the people who dropped read the same attempts as the reference', async () => {
    const f: RefFunnel = { steps: [STEPS[0]!, STEPS[1]!, STEPS[2]!], from: iso(T0), to: iso(T0 + 300 * S), window_seconds: 60, order: 'ordered' };
    const expected = referenceFunnel(f, events);
    const ttc = await b.client.post('/api/v1/funnels/query/time-to-convert', { ...f, from_step: 0, to_step: 2 });
    expect(ttc.status, JSON.stringify(ttc.body)).toBe(200);
    expect(ttc.body.units).toBe(expected.steps[2]!.count);
    const people = await b.client.post('/api/v1/funnels/query/people', { ...f, step: 1, limit: 500 });
    expect(people.status, JSON.stringify(people.body)).toBe(200);
    expect(people.body.total).toBe(expected.steps[0]!.count - expected.steps[1]!.count);
  });
});
