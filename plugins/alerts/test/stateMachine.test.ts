import { describe, it, expect } from 'vitest';
import { nextSlot, PHASE_SECONDS } from '../backend/engine.ts';
import { breaches, conditionProblem, initialState, step, type InstanceState, type Observation, type StateRule } from '../backend/stateMachine.ts';

const rule = (over: Partial<StateRule> = {}): StateRule => ({
  condition: { op: 'gt', threshold: 10 },
  for_seconds: 0,
  keep_firing_for_seconds: 0,
  no_data: 'nodata',
  on_error: 'error',
  ...over,
});
const v = (value: number): Observation => ({ kind: 'value', value });
const NODATA: Observation = { kind: 'nodata' };
const ERR: Observation = { kind: 'error', message: 'boom' };

/** Runs observations at the given seconds and returns the states and changes seen. */
function run(r: StateRule, seq: Array<[number, Observation]>, start: InstanceState = initialState(0)) {
  let s = start;
  const out: Array<{ t: number; state: string; change: string | null; flapping: boolean }> = [];
  for (const [t, obs] of seq) {
    const res = step(r, s, obs, t * 1000);
    s = res.next;
    out.push({ t, state: s.state, change: res.change, flapping: s.flapping });
  }
  return out;
}

describe('alert state machine (injected clock)', () => {
  it('normal → firing at once with for_seconds 0, and firing → normal when clear', () => {
    const r = run(rule(), [[0, v(5)], [10, v(11)], [20, v(12)], [30, v(3)]]);
    expect(r.map((x) => x.state)).toEqual(['normal', 'firing', 'firing', 'normal']);
    expect(r.map((x) => x.change)).toEqual([null, 'fired', null, 'resolved']);
  });

  it('normal → pending → firing only after for_seconds of breach; pending → normal on a clear value, without a notification', () => {
    const r = run(rule({ for_seconds: 30 }), [[0, v(11)], [10, v(11)], [20, v(2)], [30, v(11)], [50, v(11)], [60, v(11)]]);
    expect(r.map((x) => x.state)).toEqual(['pending', 'pending', 'normal', 'pending', 'pending', 'firing']);
    expect(r.map((x) => x.change)).toEqual([null, null, null, null, null, 'fired']);
  });

  it('firing → recovering for keep_firing_for_seconds → normal; a breach while recovering goes back to firing without a new notification', () => {
    const r = run(rule({ keep_firing_for_seconds: 30 }), [[0, v(11)], [10, v(1)], [20, v(11)], [30, v(1)], [50, v(1)], [60, v(1)]]);
    expect(r.map((x) => x.state)).toEqual(['firing', 'recovering', 'firing', 'recovering', 'recovering', 'normal']);
    expect(r.map((x) => x.change)).toEqual(['fired', null, null, null, null, 'resolved']);
  });

  it('hysteresis: once firing, the instance holds until the value passes the recovery threshold', () => {
    const r = run(rule({ condition: { op: 'gt', threshold: 10, recovery_threshold: 5 } }), [[0, v(8)], [10, v(11)], [20, v(8)], [30, v(6)], [40, v(5)], [50, v(8)]]);
    expect(r.map((x) => x.state)).toEqual(['normal', 'firing', 'firing', 'firing', 'normal', 'normal']);
    const lt = run(rule({ condition: { op: 'lt', threshold: 0.9, recovery_threshold: 0.95 } }), [[0, v(0.8)], [10, v(0.92)], [20, v(0.96)]]);
    expect(lt.map((x) => x.state)).toEqual(['firing', 'firing', 'normal']);
  });

  it('nodata behaviours: nodata state, ok, alerting, keep_last', () => {
    expect(run(rule({ no_data: 'nodata' }), [[0, NODATA], [10, v(1)]]).map((x) => [x.state, x.change])).toEqual([['nodata', 'fired'], ['normal', 'resolved']]);
    expect(run(rule({ no_data: 'ok' }), [[0, v(11)], [10, NODATA]]).map((x) => x.state)).toEqual(['firing', 'normal']);
    expect(run(rule({ no_data: 'alerting', for_seconds: 10 }), [[0, NODATA], [10, NODATA]]).map((x) => x.state)).toEqual(['pending', 'firing']);
    expect(run(rule({ no_data: 'keep_last' }), [[0, v(11)], [10, NODATA], [20, NODATA]]).map((x) => [x.state, x.change])).toEqual([['firing', 'fired'], ['firing', null], ['firing', null]]);
    // a value after nodata starts over: a breach fires (from nodata, already active: no second notification)
    expect(run(rule(), [[0, NODATA], [10, v(11)]]).map((x) => [x.state, x.change])).toEqual([['nodata', 'fired'], ['firing', null]]);
  });

  it('error behaviours: error state, ok, alerting, keep_last', () => {
    expect(run(rule(), [[0, ERR], [10, v(1)]]).map((x) => [x.state, x.change])).toEqual([['error', 'fired'], ['normal', 'resolved']]);
    expect(run(rule({ on_error: 'ok' }), [[0, v(11)], [10, ERR]]).map((x) => x.state)).toEqual(['firing', 'normal']);
    expect(run(rule({ on_error: 'alerting' }), [[0, ERR]]).map((x) => x.state)).toEqual(['firing']);
    expect(run(rule({ on_error: 'keep_last' }), [[0, v(2)], [10, ERR]]).map((x) => x.state)).toEqual(['normal', 'normal']);
    expect(run(rule(), [[0, NODATA], [10, ERR], [20, NODATA]]).map((x) => [x.state, x.change])).toEqual([['nodata', 'fired'], ['error', null], ['nodata', null]]);
  });

  it('flap detection: max_changes changes within the window mark the instance flapping until it settles', () => {
    const r = run(rule({ flapping: { window_seconds: 60, max_changes: 4 } }), [
      [0, v(11)], [10, v(1)], [20, v(11)], [30, v(1)], [40, v(11)], [50, v(11)], [100, v(11)], [200, v(11)],
    ]);
    expect(r.map((x) => x.flapping)).toEqual([false, false, false, true, true, true, false, false]);
    expect(r.map((x) => x.state)).toEqual(['firing', 'normal', 'firing', 'normal', 'firing', 'firing', 'firing', 'firing']);
  });

  it('conditions: every operator at and around its thresholds', () => {
    const c = (op: any, value: number, threshold2?: number) => breaches({ op, threshold: 10, threshold2 }, value, false);
    expect([c('gt', 10), c('gt', 10.1), c('gte', 10), c('gte', 9.9)]).toEqual([false, true, true, false]);
    expect([c('lt', 10), c('lt', 9.9), c('lte', 10), c('lte', 10.1)]).toEqual([false, true, true, false]);
    expect([c('outside', 9, 20), c('outside', 10, 20), c('outside', 20, 20), c('outside', 21, 20)]).toEqual([true, false, false, true]);
    expect([c('inside', 9, 20), c('inside', 10, 20), c('inside', 20, 20), c('inside', 21, 20)]).toEqual([false, true, true, false]);
    // outside with a recovery band: held while outside the narrower band
    expect(breaches({ op: 'outside', threshold: 10, threshold2: 20, recovery_threshold: 12, recovery_threshold2: 18 }, 11, true)).toBe(true);
    expect(breaches({ op: 'outside', threshold: 10, threshold2: 20, recovery_threshold: 12, recovery_threshold2: 18 }, 15, true)).toBe(false);
  });

  it('refuses recovery thresholds on the breaching side, and ranges without their bound', () => {
    expect(conditionProblem({ op: 'gt', threshold: 10, recovery_threshold: 12 })?.field).toBe('condition.recovery_threshold');
    expect(conditionProblem({ op: 'lt', threshold: 10, recovery_threshold: 8 })?.field).toBe('condition.recovery_threshold');
    expect(conditionProblem({ op: 'outside', threshold: 10 })?.field).toBe('condition.threshold2');
    expect(conditionProblem({ op: 'inside', threshold: 10, threshold2: 5 })?.field).toBe('condition.threshold2');
    expect(conditionProblem({ op: 'gt', threshold: 10, recovery_threshold: 5 })).toBeNull();
  });

  it('spreads rules over their interval: each its own phase, never sooner than half an interval', () => {
    const now = new Date('2026-06-01T00:00:00.500Z');
    const ids = Array.from({ length: 200 }, (_, i) => `${(i * 2654435761 % 2 ** 32).toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`);
    const slots = ids.map((id) => nextSlot(id, 60, now).getTime());
    for (const t of slots) {
      expect(t - now.getTime()).toBeGreaterThanOrEqual(30_000);
      expect(t - now.getTime()).toBeLessThanOrEqual(90_000);
      expect((t % 60_000) % (PHASE_SECONDS * 1000)).toBe(0);
    }
    // every phase of the interval is used
    expect(new Set(slots.map((t) => t % 60_000)).size).toBe(60 / PHASE_SECONDS);
    // after that, exactly one interval apart
    const first = nextSlot(ids[0]!, 60, now);
    expect(nextSlot(ids[0]!, 60, first).getTime() - first.getTime()).toBe(60_000);
  });
});
