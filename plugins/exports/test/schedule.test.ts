/**
 * Next runs of report schedules, against a brute-force walk minute by minute
 * through the zone's wall clock (Intl), on random schedules, zones with DST
 * and instants: the first minute after `after` whose wall time matches (a
 * repeated wall time counts once, at its first occurrence).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { nextRun, type Schedule } from '../backend/schedule.ts';

const parts = new Map<string, Intl.DateTimeFormat>();
function wall(t: number, tz: string) {
  let f = parts.get(tz);
  if (!f) parts.set(tz, (f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })));
  const p = Object.fromEntries(f.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  return { y: +p.year!, m: +p.month!, d: +p.day!, hm: `${p.hour}:${p.minute}` };
}

function bruteForce(s: Schedule, after: number): number {
  // the first whole minute strictly after `after`
  let t = Math.floor(after / 60_000) * 60_000 + 60_000;
  for (let i = 0; i < 70 * 1440; i++, t += 60_000) {
    const w = wall(t, s.tz);
    if (w.hm !== s.time) continue;
    // a wall time the zone repeats (fall back) is the first occurrence's: skip the repeat
    const same = (x: ReturnType<typeof wall>) => x.y === w.y && x.m === w.m && x.d === w.d && x.hm === w.hm;
    if (same(wall(t - 30 * 60_000, s.tz)) || same(wall(t - 60 * 60_000, s.tz))) continue;
    const date = new Date(Date.UTC(w.y, w.m - 1, w.d));
    const weekday = date.getUTCDay();
    const last = new Date(Date.UTC(w.y, w.m, 0)).getUTCDate();
    const ok =
      s.frequency === 'daily' ||
      (s.frequency === 'weekly' && weekday === s.weekday) ||
      (s.frequency === 'monthly' && w.d === s.day_of_month) ||
      (s.frequency === 'last_friday' && weekday === 5 && w.d + 7 > last);
    if (ok) return t;
  }
  throw new Error('no run found');
}

const zones = ['UTC', 'Europe/Paris', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Pacific/Chatham', 'America/Sao_Paulo'];

describe('report schedules', () => {
  it('the next run is the first matching wall-clock minute after the instant', () => {
    const schedule = fc.record({
      frequency: fc.constantFrom('daily', 'weekly', 'monthly', 'last_friday') as fc.Arbitrary<Schedule['frequency']>,
      // DST changes happen at 00:00–03:00 local: those hours are drawn often
      time: fc.tuple(fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 23 })), fc.constantFrom(0, 15, 30, 59)).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`),
      tz: fc.constantFrom(...zones),
      weekday: fc.integer({ min: 0, max: 6 }),
      day_of_month: fc.integer({ min: 1, max: 28 }),
    });
    // instants around the DST changes of 2026 in the zones above, and anywhere in the year
    const instant = fc.oneof(
      fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2026-12-31T00:00:00Z') }),
      fc.constantFrom('2026-03-08T05:00:00Z', '2026-03-29T00:30:00Z', '2026-04-04T14:00:00Z', '2026-10-25T00:30:00Z', '2026-11-01T05:30:00Z', '2026-09-26T13:00:00Z').map(Date.parse),
    );
    fc.assert(
      fc.property(schedule, instant, (s, after) => {
        expect(nextRun(s, new Date(after)).getTime(), JSON.stringify({ s, after: new Date(after).toISOString() })).toBe(bruteForce(s, after));
      }),
      { numRuns: 80, seed: 24 },
    );
  }, 120_000);

  it('a 02:30 run skips the day Paris springs forward and runs once the day it falls back', () => {
    const s: Schedule = { frequency: 'daily', time: '02:30', tz: 'Europe/Paris' };
    expect(nextRun(s, new Date('2026-03-28T02:00:00Z')).toISOString()).toBe('2026-03-30T00:30:00.000Z');
    const fall = nextRun(s, new Date('2026-10-24T12:00:00Z'));
    expect(fall.toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(nextRun(s, fall).toISOString()).toBe('2026-10-26T01:30:00.000Z');
  });

  it('the last Friday of the month', () => {
    const s: Schedule = { frequency: 'last_friday', time: '17:00', tz: 'America/New_York' };
    expect(nextRun(s, new Date('2026-05-01T00:00:00Z')).toISOString()).toBe('2026-05-29T21:00:00.000Z');
    expect(nextRun(s, new Date('2026-05-29T21:00:00Z')).toISOString()).toBe('2026-06-26T21:00:00.000Z');
  });
});
