/**
 * Property tests of the budget arithmetic on its edges: any instant of any month (leap
 * Februaries, the turn of the year, the first and last millisecond), any spend and amount,
 * against the definitions of README.md written out here.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { monthOf } from '../backend/cost.ts';
import { stateOf } from '../backend/budgets.ts';

const DAY = 86_400_000;

describe('budget state', () => {
  it('takes the calendar month (UTC) holding the instant', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-12-31T23:59:59.999Z'), noInvalidDate: true }), (at) => {
        const p = monthOf(at);
        const s = p.start.toISOString();
        const e = p.end.toISOString();
        expect(s.slice(0, 7)).toBe(at.toISOString().slice(0, 7));
        expect(s.slice(7)).toBe('-01T00:00:00.000Z');
        expect(e.slice(7)).toBe('-01T00:00:00.000Z');
        expect(p.start.getTime()).toBeLessThanOrEqual(at.getTime());
        expect(at.getTime()).toBeLessThan(p.end.getTime());
        // 28 to 31 days, and the next month starts where this one ends
        expect([28, 29, 30, 31]).toContain((p.end.getTime() - p.start.getTime()) / DAY);
        expect(monthOf(p.end).start.getTime()).toBe(p.end.getTime());
      }),
      { numRuns: 500 },
    );
  });

  it('projects and classifies as the definitions say', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-12-31T23:59:59.999Z'), noInvalidDate: true }),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.double({ min: 0.01, max: 1e6, noNaN: true }),
        (at, spent, amount) => {
          const p = monthOf(at);
          const s = stateOf(amount, spent, p);
          const elapsed = (at.getTime() - p.start.getTime()) / DAY;
          const left = (p.end.getTime() - at.getTime()) / DAY;
          const rate = elapsed > 0 ? spent / elapsed : 0;
          const projected = spent + rate * left;
          expect(s.burn_rate_usd_per_day).toBeCloseTo(rate, 6);
          expect(s.projected_usd).toBeCloseTo(projected, 4);
          expect(s.share).toBeCloseTo(spent / amount, 9);
          expect(s.projected_overspend_usd).toBeCloseTo(Math.max(0, projected - amount), 4);
          expect(s.status).toBe(spent > amount ? 'over' : projected > amount ? 'at_risk' : 'on_track');
          // a projection never falls below what was spent
          expect(s.projected_usd).toBeGreaterThanOrEqual(spent);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('at the first instant of a month nothing has burned', () => {
    const p = monthOf(new Date('2024-02-01T00:00:00.000Z'));
    expect(stateOf(10, 0, p)).toMatchObject({ burn_rate_usd_per_day: 0, projected_usd: 0, status: 'on_track', days_elapsed: 0, days_left: 29 });
  });
});
