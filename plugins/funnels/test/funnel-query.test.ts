/**
 * POST /api/v1/funnels/query against the exhaustive reference (reference.ts) on random
 * event sequences, and on the hand-made edge cases of the issue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend, type TestOrg } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';
import { referenceFunnel, rng, type Ev, type RefFunnel, type RefStep } from './reference.ts';

const T0 = Date.parse('2026-05-04T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const S = 1000;

function randomEvents(seed: number, users: number): Ev[] {
  const r = rng(seed);
  const out: Ev[] = [];
  const kinds: Array<() => { event_type: string; [field: string]: string }> = [
    () => ({ event_type: 'command', command_name: ['a', 'b', 'c'][Math.floor(r() * 3)] }),
    () => ({ event_type: 'feature_use', feature_name: ['x', 'y'][Math.floor(r() * 2)] }),
    () => ({ event_type: 'workflow_step', action: ['enrolled', 'step_entered'][Math.floor(r() * 2)], workflow_id: 'w1', workflow_step: 's1' }),
  ];
  for (let u = 0; u < users; u++) {
    const n = 3 + Math.floor(r() * 9);
    for (let i = 0; i < n; i++) {
      // whole seconds over 10 minutes: ties at one instant are common, as are edges of windows
      const t = T0 + Math.floor(r() * 600) * S + (r() < 0.2 ? Math.floor(r() * 1000) : 0);
      out.push({
        event_id: `r${seed}-${u}-${i}`,
        timestamp: iso(t),
        user_id: `user-${u}`,
        session_id: `sess-${u}-${Math.floor(r() * 2)}`,
        department_id: ['eng', 'ops', 'sales'][u % 3],
        ...kinds[Math.floor(r() * kinds.length)]!(),
      });
    }
  }
  return out;
}

const POOL: RefStep[] = [
  { event_type: 'command', where: { command_name: 'a' } },
  { event_type: 'command', where: { command_name: 'b' } },
  { event_type: 'command', where: { command_name: 'c' } },
  { event_type: 'command', where: { command_name: ['a', 'b'] } },
  { event_type: 'feature_use', where: { feature_name: 'x' } },
  { event_type: 'feature_use' },
  { event_type: 'workflow_step', action: 'enrolled', where: { workflow_id: 'w1' } },
];

function randomFunnel(r: () => number): RefFunnel {
  const n = 2 + Math.floor(r() * 4);
  const pick = () => POOL[Math.floor(r() * POOL.length)]!;
  const steps = Array.from({ length: n }, pick);
  const order = (['ordered', 'strict', 'unordered'] as const)[Math.floor(r() * 3)]!;
  const from = T0 + Math.floor(r() * 200) * S;
  const to = from + (60 + Math.floor(r() * 400)) * S;
  const f: RefFunnel = { steps, from: iso(from), to: iso(to), order, window_seconds: [20, 60, 120, 300, 900][Math.floor(r() * 5)] };
  if (order !== 'unordered') {
    if (r() < 0.5) f.step_windows_seconds = steps.map((_, k) => (k > 0 && r() < 0.5 ? [5, 15, 40][Math.floor(r() * 3)]! : null));
    if (r() < 0.5) {
      // one or two, spanning one gap or several (the steps inside a span still count)
      f.exclusions = Array.from({ length: 1 + Math.floor(r() * 2) }, () => {
        const a = Math.floor(r() * (n - 1));
        const b = a + 1 + Math.floor(r() * (n - 1 - a));
        return { ...pick(), from_step: a, to_step: b };
      });
    }
  }
  if (r() < 0.3) f.count_by = 'session';
  if (r() < 0.3) f.breakdown = 'department_id';
  return f;
}

function expectSame(actual: any, expected: ReturnType<typeof referenceFunnel>, label: string) {
  const cmp = (a: any[], e: any[], where: string) => {
    expect(a.map((s) => s.count), `${where} counts`).toEqual(e.map((s) => s.count));
    expect(a.map((s) => s.dropped), `${where} dropped`).toEqual(e.map((s) => s.dropped));
    a.forEach((s, k) => {
      for (const f of ['conversion_rate', 'step_conversion_rate', 'median_seconds_from_previous', 'avg_seconds_from_previous']) {
        if (e[k][f] === null) expect(s[f], `${where} step ${k} ${f}`).toBeNull();
        else expect(s[f], `${where} step ${k} ${f}`).toBeCloseTo(e[k][f], 6);
      }
    });
  };
  cmp(actual.steps, expected.steps, label);
  if (expected.breakdown) {
    expect(actual.breakdown.map((b: any) => b.value), `${label} breakdown values`).toEqual(expected.breakdown.map((b) => b.value));
    actual.breakdown.forEach((b: any, i: number) => cmp(b.steps, expected.breakdown![i]!.steps, `${label} [${b.value}]`));
  }
}

describe('POST /api/v1/funnels/query', () => {
  let b: TestBackend;
  let other: TestOrg;
  const random = randomEvents(7, 40);

  beforeAll(async () => {
    b = await startTestBackend({ plugins: [plugin], config: { plugins: { funnels: { rateLimitPerMinute: 100000 } } } });
    other = await b.createOrg('funnels-other');
    await b.org.insertEvents(random);
    // the other org: same names, other people, other timing
    await other.insertEvents(randomEvents(99, 25));
  });
  afterAll(() => b?.close());

  it('matches the exhaustive reference on 120 random funnels (ordered, strict, unordered, windows, exclusions, breakdown, sessions)', async () => {
    const r = rng(2026);
    let nonTrivial = 0;
    for (let i = 0; i < 120; i++) {
      const f = randomFunnel(r);
      const res = await b.client.post('/api/v1/funnels/query', f);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const expected = referenceFunnel(f, random);
      expectSame(res.body, expected, `case ${i} ${JSON.stringify(f)}`);
      if (expected.steps[1]!.count > 0) nonTrivial++;
    }
    // the generator must exercise conversions, not only empty funnels
    expect(nonTrivial).toBeGreaterThan(40);
  }, 900_000);

  it('keeps tenants apart: the other org answers from its own events only', async () => {
    const f: RefFunnel = { steps: [POOL[0]!, POOL[1]!], from: iso(T0), to: iso(T0 + 600 * S), window_seconds: 600 };
    const mine = await b.client.post('/api/v1/funnels/query', f);
    const theirs = await other.client.post('/api/v1/funnels/query', f);
    expectSame(mine.body, referenceFunnel(f, random), 'org A');
    expectSame(theirs.body, referenceFunnel(f, randomEvents(99, 25)), 'org B');
    expect(theirs.body.steps[0].count).not.toBe(mine.body.steps[0].count);
  });

  describe('hand-made edge cases', () => {
    const E = Date.parse('2026-06-01T12:00:00.000Z');
    let n = 0;
    const ev = (user: string, cmd: string, at: number, extra: Partial<Ev> = {}): Ev => ({
      event_id: `edge-${n++}`,
      event_type: 'command',
      command_name: cmd,
      timestamp: iso(E + at),
      user_id: user,
      session_id: `${user}-s`,
      department_id: 'eng',
      ...extra,
    });
    const cmd = (c: string): RefStep => ({ event_type: 'command', where: { command_name: c } });
    const edge: Ev[] = [
      // a second step-0 event that later completes (window 60 s)
      ev('re-anchor', 'ra', 0), ev('re-anchor', 'ra', 100 * S), ev('re-anchor', 'rb', 150 * S),
      // window edge: exactly 60 s is in, 60.001 s is out
      ev('edge-in', 'wa', 0), ev('edge-in', 'wb', 60 * S),
      ev('edge-out', 'wa', 0), ev('edge-out', 'wb', 60 * S + 1),
      // strict: another event between the steps
      ev('between', 'sa', 0), ev('between', 'noise', 5 * S), ev('between', 'sb', 10 * S),
      ev('adjacent', 'sa', 0), ev('adjacent', 'sb', 10 * S),
      // exclusion between the two steps, and one after the second
      ev('excluded', 'xa', 0), ev('excluded', 'xx', 5 * S), ev('excluded', 'xb', 10 * S),
      ev('not-excluded', 'xa', 0), ev('not-excluded', 'xb', 10 * S), ev('not-excluded', 'xx', 15 * S),
      // enrolment before `from`: not an attempt; a step after `to` inside the window counts
      ev('early', 'ea', -1 * S), ev('early', 'eb', 1 * S),
      ev('late', 'ea', 3599 * S), ev('late', 'eb', 3610 * S),
      // per-step window met only through the later of two step-1 events
      ev('per-step', 'pa', 0), ev('per-step', 'pb', 5 * S), ev('per-step', 'pb', 80 * S), ev('per-step', 'pc', 100 * S),
      ev('per-step-miss', 'pa', 0), ev('per-step-miss', 'pb', 5 * S), ev('per-step-miss', 'pc', 100 * S),
      // exclusions at the instant of a step: at the from_step event it is not between; at an inner step it is
      ev('tie-from', 'ta', 0), ev('tie-from', 'tx', 0), ev('tie-from', 'tb', 5 * S), ev('tie-from', 'tc', 10 * S),
      ev('tie-inner', 'ta', 0), ev('tie-inner', 'tb', 5 * S), ev('tie-inner', 'tx', 5 * S), ev('tie-inner', 'tc', 10 * S),
      // an exclusion spanning steps 0 → 2 happens before step 1: step 1 is still reached, step 2 not
      ev('span-inner', 'ia', 0), ev('span-inner', 'ix', 2 * S), ev('span-inner', 'ib', 5 * S), ev('span-inner', 'ic', 10 * S),
      ev('span-clean', 'ia', 0), ev('span-clean', 'ib', 4 * S), ev('span-clean', 'ic', 10 * S),
      // …and a later step-0 event after it starts a clean attempt, which reaches step 2
      ev('span-again', 'ia', 0), ev('span-again', 'ix', 1 * S), ev('span-again', 'ib', 3 * S), ev('span-again', 'ia', 6 * S), ev('span-again', 'ib', 8 * S), ev('span-again', 'ic', 12 * S),
    ];
    const base = { from: iso(E), to: iso(E + 3600 * S), window_seconds: 60 };
    const run = async (f: RefFunnel) => {
      const res = await b.client.post('/api/v1/funnels/query', f);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expectSame(res.body, referenceFunnel(f, edge), JSON.stringify(f));
      return res.body.steps.map((s: any) => s.count) as number[];
    };

    beforeAll(() => b.org.insertEvents(edge));

    it('a second step-0 event that later completes is the attempt that counts, with its own times', async () => {
      const f = { ...base, steps: [cmd('ra'), cmd('rb')] };
      expect(await run(f)).toEqual([1, 1]);
      const res = await b.client.post('/api/v1/funnels/query', f);
      expect(res.body.steps[1].median_seconds_from_previous).toBe(50);
    });

    it('the window is inclusive from step 0: 60 s in, 60.001 s out', async () => {
      expect(await run({ ...base, steps: [cmd('wa'), cmd('wb')] })).toEqual([2, 1]);
    });

    it('strict: an event between two steps breaks the attempt; ordered does not mind', async () => {
      expect(await run({ ...base, order: 'strict', steps: [cmd('sa'), cmd('sb')] })).toEqual([2, 1]);
      expect(await run({ ...base, order: 'ordered', steps: [cmd('sa'), cmd('sb')] })).toEqual([2, 2]);
    });

    it('an exclusion event between from_step and to_step stops the attempt there; one after does not', async () => {
      expect(await run({ ...base, steps: [cmd('xa'), cmd('xb')], exclusions: [{ ...cmd('xx'), from_step: 0, to_step: 1 }] })).toEqual([2, 1]);
    });

    it('an exclusion at the from_step instant is not between; one at an inner step instant is', async () => {
      const f = { ...base, steps: [cmd('ta'), cmd('tb'), cmd('tc')], exclusions: [{ ...cmd('tx'), from_step: 0, to_step: 2 }] };
      expect(await run(f)).toEqual([2, 2, 1]);
    });

    it('an exclusion spanning several steps stops a path at its to_step only: the steps inside it still count', async () => {
      const f = { ...base, steps: [cmd('ia'), cmd('ib'), cmd('ic')], exclusions: [{ ...cmd('ix'), from_step: 0, to_step: 2 }] };
      expect(await run(f)).toEqual([3, 3, 2]);
      // the same with a second, one-step exclusion that nobody does, and in strict order (nothing else between)
      expect(await run({ ...f, exclusions: [...f.exclusions, { ...cmd('never'), from_step: 1, to_step: 2 }] })).toEqual([3, 3, 2]);
      // span-inner's step 1 comes 5 s after step 0; span-clean's 4 s, span-again's (the attempt at 6 s) 2 s
      const res = await b.client.post('/api/v1/funnels/query', f);
      expect(res.body.steps[1].median_seconds_from_previous).toBe(4);
    });

    it('enrolment before `from` is no attempt; a step after `to` inside the window counts', async () => {
      expect(await run({ ...base, steps: [cmd('ea'), cmd('eb')] })).toEqual([1, 1]);
    });

    it('per-step windows: the later step-1 event carries the attempt on', async () => {
      expect(await run({ ...base, window_seconds: 600, step_windows_seconds: [null, null, 30], steps: [cmd('pa'), cmd('pb'), cmd('pc')] })).toEqual([2, 2, 1]);
    });
  });

  describe('bad input is a 400 naming the field', () => {
    const ok = { steps: [{ event_type: 'command' }, { event_type: 'feature_use' }], from: iso(T0), to: iso(T0 + 3600 * S) };
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['no steps', { ...ok, steps: [] }, 'steps'],
      ['21 steps', { ...ok, steps: Array(21).fill({ event_type: 'command' }) }, 'steps'],
      ['an unknown event type', { ...ok, steps: [{ event_type: 'nope' }, { event_type: 'command' }] }, 'steps[0].event_type'],
      ['an unknown field', { ...ok, steps: [{ event_type: 'command', where: { tool_name_x: 'a' } }, { event_type: 'command' }] }, 'steps[0].where.tool_name_x'],
      ['a field of another type', { ...ok, steps: [{ event_type: 'command' }, { event_type: 'command', where: { feature_name: 'a' } }] }, 'steps[1].where.feature_name'],
      ['window 0', { ...ok, window_seconds: 0 }, 'window_seconds'],
      ['a negative window', { ...ok, window_seconds: -5 }, 'window_seconds'],
      // 0 is no window: refused, not read as null (no per-step window)
      ['a per-step window of 0', { ...ok, step_windows_seconds: [null, 0] }, 'step_windows_seconds'],
      ['a negative per-step window', { ...ok, step_windows_seconds: [null, -30] }, 'step_windows_seconds'],
      ['a reversed range', { ...ok, from: ok.to, to: ok.from }, 'from'],
      ['an unknown breakdown', { ...ok, breakdown: 'nope' }, 'breakdown'],
      ['an exclusion to a missing step', { ...ok, exclusions: [{ event_type: 'command', from_step: 0, to_step: 2 }] }, 'exclusions[0].to_step'],
    ];
    for (const [name, body, field] of cases) {
      it(name, async () => {
        const res = await b.client.post('/api/v1/funnels/query', body);
        expect(res.status).toBe(400);
        expect(JSON.stringify(res.body.error)).toContain(field);
      });
    }
  });
});
