/**
 * The collector's windows and the usage status, property-based against references the
 * test computes from the raw values it generated.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HealthCollector, Window, quantile, windowPoints } from './collector.ts';
import { UsageMeter, monthBounds } from './usage.ts';

/** Nearest-rank-interpolated quantile, written out plainly. */
function refQuantile(values: number[], q: number) {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return 0;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! * (1 - (pos - lo)) + s[hi]! * (pos - lo);
}

describe('a window of answers', () => {
  it('counts, errors, SLA and percentiles match the durations recorded (up to the reservoir size)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ ms: fc.double({ min: 0, max: 5000, noNaN: true }), status: fc.constantFrom(200, 201, 404, 500, 503) }), { minLength: 1, maxLength: 512 }),
        fc.integer({ min: 1, max: 3000 }),
        (answers, sla) => {
          const w = new Window();
          for (const a of answers) w.record(a.ms, a.status >= 500, sla);
          const pts = Object.fromEntries(windowPoints('http', 'k', w, true).map((p) => [p.series, p.value]));
          const ms = answers.map((a) => a.ms);
          expect(pts.http_count).toBe(answers.length);
          expect(pts.http_errors).toBe(answers.filter((a) => a.status >= 500).length);
          expect(pts.http_within_sla).toBe(ms.filter((x) => x <= sla).length);
          expect(pts.http_p50_ms).toBeCloseTo(refQuantile(ms, 0.5), 6);
          expect(pts.http_p95_ms).toBeCloseTo(refQuantile(ms, 0.95), 6);
          expect(pts.http_p99_ms).toBeCloseTo(refQuantile(ms, 0.99), 6);
          expect(pts.http_mean_ms).toBeCloseTo(ms.reduce((a, b) => a + b, 0) / ms.length, 6);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('past the reservoir, counts stay exact and the p95 stays close to the true one', () => {
    const w = new Window();
    const ms = Array.from({ length: 20_000 }, () => Math.random() * 100);
    for (const x of ms) w.record(x, false, 50);
    expect(w.count).toBe(20_000);
    expect(w.samples.length).toBe(512);
    // a uniform sample of 512 from U(0, 100): the p95 lands within a few units of 95
    expect(Math.abs(quantile([...w.samples].sort((a, b) => a - b), 0.95) - refQuantile(ms, 0.95))).toBeLessThan(5);
  });

  it("an org's take holds only its own answers, and empties", () => {
    const c = new HealthCollector('n1', { dashboardMs: 2000, queryMs: 1000 });
    const info = { classKey: 'class:api', pluginKey: 'plugin:p', routeKey: 'route:GET /api/v1/p', query: true };
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 100; i++) {
      const org = Math.random() < 0.5 ? 'a' : 'b';
      counts[org]++;
      c.request(info, org, Math.random() * 10, 200);
    }
    const count = (s: ReturnType<HealthCollector['takeOrg']>, key: string) => s.points.find((p) => p.series === 'http_count' && p.key === key)?.value ?? 0;
    expect(count(c.takeOrg('a'), 'plugin:p')).toBe(counts.a);
    expect(count(c.takeOrg('b'), 'plugin:p')).toBe(counts.b);
    expect(c.takeOrg('a').points).toEqual([]);
    const node = c.takeNode();
    expect(node.points.find((p) => p.series === 'http_count' && p.key === 'route:GET /api/v1/p')!.value).toBe(100);
    c.stop();
  });
});

describe('usage status', () => {
  const meter = new UsageMeter({
    config: { usage: { enabled: true, warnRatio: 0.8, softOverage: 0.2, tiers: {} } } as any,
    analytics: null as any,
    knex: null as any,
    orgs: null as any,
    audit: null as any,
    logger: { warn() {} },
    backlogRows: () => 0,
  });
  it('follows the thresholds: warning from 80%, over the limit, over the soft limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 0, max: 20_000_000 }), (limit, used) => {
        const hard = Math.floor(limit * 1.2);
        const expected = used >= hard ? 'over_limit' : used > limit ? 'over_soft_limit' : used >= limit * 0.8 ? 'warning' : 'ok';
        expect(meter.statusOf(used, limit, hard)).toBe(expected);
      }),
    );
  });
  it('the month is the calendar month in UTC', () => {
    const m = monthBounds(new Date('2026-12-31T23:59:59.999Z'));
    expect(m.from.toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(m.to.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(monthBounds(new Date('2027-01-01T00:00:00.000Z')).key).toBe('2027-01');
  });
});
