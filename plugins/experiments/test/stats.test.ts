/**
 * The statistics module against independent computations: reference values
 * printed by SciPy 1.17 (`scipy.stats.ttest_ind(..., equal_var=False)`,
 * `chisquare`, `t.ppf`, `norm.sf`) for the same inputs, the published
 * examples, numerical integration and Monte Carlo written here, and an A/A
 * simulation that shows what sequential testing is for.
 */
import { describe, it, expect } from 'vitest';
import { chiSquareSurvival, normalCdf, normalQuantile, studentQuantile, studentTwoSidedP } from '../backend/stats/distributions.ts';
import { bayesian, cuped, holm, powerAt, powerPlan, sequential, srm, summarize, unitsPerVariant, welch, type Summary } from '../backend/stats/tests.ts';
import { rng } from '@orrery/backend-test-utils/random';

const fromValues = (xs: number[]): Summary => {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  return { n, mean, variance: xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1) };
};
const proportion = (k: number, n: number) => summarize({ n, sum: k, sumSq: k });

describe('distributions (SciPy reference values)', () => {
  it('normal, Student t and chi-square tails and quantiles', () => {
    expect(2 * normalCdf(-6) / 2).toBeCloseTo(9.865876450376946e-10, 20);
    expect(normalQuantile(1e-8)).toBeCloseTo(-5.612001244174789, 9);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
    expect(studentQuantile(0.975, 7.3)).toBeCloseTo(2.345066736547703, 9);
    expect(studentQuantile(0.995, 2.5)).toBeCloseTo(7.163728138948783, 8);
    expect(studentTwoSidedP(2.1, 5.5)).toBeCloseTo(0.08469192512974699, 10);
    expect(studentTwoSidedP(0.3, 30.2)).toBeCloseTo(0.7662324690219195, 10);
    expect(chiSquareSurvival(16, 1) / 6.334248366623988e-5).toBeCloseTo(1, 9);
    expect(chiSquareSurvival(7.5, 2)).toBeCloseTo(0.023517745856009114, 12);
    expect(chiSquareSurvival(30, 3) / 1.3800570312932553e-6).toBeCloseTo(1, 9);
  });

  it('the t tail equals a numerical integral of the t density', () => {
    // Simpson's rule over the density, written from its definition
    const density = (x: number, v: number) => {
      const lg = (z: number): number => { // Stirling series, independent of the module's Lanczos
        let s = 0;
        while (z < 10) { s -= Math.log(z); z += 1; }
        return s + (z - 0.5) * Math.log(z) - z + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * z) - 1 / (360 * z ** 3);
      };
      return Math.exp(lg((v + 1) / 2) - lg(v / 2)) / Math.sqrt(v * Math.PI) * (1 + (x * x) / v) ** (-(v + 1) / 2);
    };
    for (const [t, v] of [[1.3, 4], [2.7, 11.5], [0.4, 60]] as const) {
      const steps = 20000;
      const h = t / steps;
      let s = density(0, v) + density(t, v);
      for (let i = 1; i < steps; i++) s += (i % 2 ? 4 : 2) * density(i * h, v);
      const central = (s * h) / 3; // P(0 < T < t)
      expect(studentTwoSidedP(t, v)).toBeCloseTo(1 - 2 * central, 8);
    }
  });
});

describe('Welch t-test', () => {
  it('matches SciPy on a textbook pair of samples', () => {
    const a = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
    const b = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];
    const r = welch(fromValues(a), fromValues(b), 0.05);
    expect(r.t).toBeCloseTo(2.455356398286006, 10);
    expect(r.df).toBeCloseTo(24.988529290231416, 8);
    expect(r.pValue).toBeCloseTo(0.021378001462866992, 10);
    expect(r.ciLow).toBeCloseTo(0.3492370661924069, 8);
    expect(r.ciHigh).toBeCloseTo(3.984096267140929, 8);
    const r90 = welch(fromValues(a), fromValues(b), 0.1);
    expect(r90.ciLow).toBeCloseTo(0.6593347835830357, 8);
    expect(r90.ciHigh).toBeCloseTo(3.6739985497502996, 8);
  });

  it('the published two-proportion example: 500/5000 vs 600/5000', () => {
    const r = welch(proportion(500, 5000), proportion(600, 5000));
    expect(r.difference).toBeCloseTo(0.02, 12);
    expect(r.relativeLift).toBeCloseTo(0.2, 12);
    expect(r.t).toBeCloseTo(3.2, 2);
    expect(r.pValue).toBeCloseTo(0.0014, 4);
    // SciPy on the 0/1 arrays
    expect(r.t).toBeCloseTo(3.1973276162258637, 9);
    expect(r.pValue).toBeCloseTo(0.0013914193024238276, 9);
    expect(r.ciLow).toBeCloseTo(0.007738492689802277, 8);
    expect(r.ciHigh).toBeCloseTo(0.0322615073101977, 8);
    // and the textbook unpooled z-test: SE = sqrt(p1 q1 / n1 + p2 q2 / n2)
    const se = Math.sqrt((0.1 * 0.9) / 5000 + (0.12 * 0.88) / 5000);
    expect(r.standardError / se).toBeCloseTo(1, 3);
  });

  it('covers the true difference at 1 − alpha over repeated samples', () => {
    const rand = rng(7);
    let covered = 0;
    const runs = 2000;
    for (let k = 0; k < runs; k++) {
      const a = Array.from({ length: 30 }, () => rand() * 10);
      const b = Array.from({ length: 12 }, () => 2 + rand() * rand() * 30); // unequal variance and n: Welch's case
      const r = welch(fromValues(a), fromValues(b), 0.1);
      const trueDiff = 2 + 30 / 4 - 5;
      if (r.ciLow <= trueDiff && trueDiff <= r.ciHigh) covered++;
    }
    expect(covered / runs).toBeGreaterThan(0.87);
    expect(covered / runs).toBeLessThan(0.93);
  });
});

describe('mixture SPRT', () => {
  it('the published example: half-width ≈ 0.0192, p ≈ 0.034 at alpha 0.05, tuning 5000', () => {
    const r = sequential(proportion(500, 5000), proportion(600, 5000), 0.05, 5000);
    expect(r.halfWidth).toBeCloseTo(0.0192, 4);
    expect(r.pValue).toBeCloseTo(0.034, 3);
    expect(r.ciLow).toBeCloseTo(0.02 - r.halfWidth, 12);
  });

  it('is GrowthBook’s confidence sequence, written out from its documented formula', () => {
    const c = proportion(480, 4100);
    const t = proportion(530, 3900);
    for (const [alpha, tuning] of [[0.05, 5000], [0.1, 20000], [0.01, 1000]] as const) {
      const N = c.n + t.n;
      const s2 = (c.variance / c.n + t.variance / t.n) * N;
      const rho = Math.sqrt((-2 * Math.log(alpha) + Math.log(-2 * Math.log(alpha) + 1)) / tuning);
      const hw = Math.sqrt(s2) * Math.sqrt((2 * (N * rho * rho + 1) * Math.log(Math.sqrt(N * rho * rho + 1) / alpha)) / (N * N * rho * rho));
      expect(sequential(c, t, alpha, tuning).halfWidth).toBeCloseTo(hw, 12);
    }
  });

  it('its p-value is below alpha exactly when its interval excludes 0', () => {
    const rand = rng(11);
    for (let k = 0; k < 500; k++) {
      const n1 = 200 + Math.floor(rand() * 5000);
      const n2 = 200 + Math.floor(rand() * 5000);
      const c = proportion(Math.floor(n1 * 0.2), n1);
      const t = proportion(Math.floor(n2 * (0.15 + rand() * 0.12)), n2);
      const r = sequential(c, t, 0.05, 5000);
      expect(r.pValue < 0.05).toBe(r.ciLow > 0 || r.ciHigh < 0);
    }
  });

  it('A/A: 200 experiments peeked every 100 units — sequential stays at or below alpha, fixed-horizon does not', () => {
    const rand = rng(2026);
    const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    const experiments = 200;
    const looks = 50;
    let fixedFalse = 0;
    let sequentialFalse = 0;
    for (let e = 0; e < experiments; e++) {
      const sums = [{ n: 0, sum: 0, sumSq: 0 }, { n: 0, sum: 0, sumSq: 0 }];
      let fixedHit = false;
      let seqHit = false;
      for (let look = 0; look < looks; look++) {
        for (let u = 0; u < 100; u++) {
          const arm = sums[rand() < 0.5 ? 0 : 1]!;
          const y = normal(); // both arms from one distribution: every rejection is a false positive
          arm.n++;
          arm.sum += y;
          arm.sumSq += y * y;
        }
        const c = summarize(sums[0]!);
        const t = summarize(sums[1]!);
        if (welch(c, t).pValue < 0.05) fixedHit = true;
        if (sequential(c, t, 0.05, 5000).pValue < 0.05) seqHit = true;
      }
      if (fixedHit) fixedFalse++;
      if (seqHit) sequentialFalse++;
    }
    expect(sequentialFalse / experiments).toBeLessThanOrEqual(0.05);
    expect(fixedFalse / experiments).toBeGreaterThan(0.05);
  });
});

describe('Bayesian', () => {
  it('chance to beat control, credible interval and expected loss match Monte Carlo over the posterior', () => {
    const c = proportion(500, 5000);
    const t = proportion(540, 5000);
    const r = bayesian(c, t, 0.05, true);
    const rand = rng(5);
    const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    const se = Math.sqrt(c.variance / c.n + t.variance / t.n);
    const draws = 200_000;
    let wins = 0;
    let loss = 0;
    const sample: number[] = [];
    for (let i = 0; i < draws; i++) {
      const d = t.mean - c.mean + se * normal();
      if (d > 0) wins++;
      loss += Math.max(0, -d);
      sample.push(d);
    }
    sample.sort((a, b) => a - b);
    expect(r.chanceToBeatControl).toBeCloseTo(wins / draws, 2);
    expect(r.expectedLoss).toBeCloseTo(loss / draws, 4);
    expect(r.ciLow).toBeCloseTo(sample[Math.floor(draws * 0.025)]!, 3);
    expect(r.ciHigh).toBeCloseTo(sample[Math.floor(draws * 0.975)]!, 3);
    // lower is better (latency): the chances turn around
    const flipped = bayesian(c, t, 0.05, false);
    expect(flipped.chanceToBeatControl).toBeCloseTo(1 - r.chanceToBeatControl, 12);
    expect(flipped.expectedLoss).toBeCloseTo(r.expectedLossControl, 12);
  });
});

describe('sample ratio mismatch', () => {
  it('the published example: 5200/4800 at 50/50 → χ² = 16, p ≈ 6.3e-5, mismatch', () => {
    const r = srm([5200, 4800], [50, 50]);
    expect(r.chiSquare).toBeCloseTo(16, 12);
    expect(r.pValue).toBeCloseTo(6.3e-5, 6);
    expect(r.mismatch).toBe(true);
  });
  it('three variants and uneven weights (SciPy chisquare)', () => {
    const r = srm([3400, 3300, 3300], [1, 1, 1]);
    expect(r.chiSquare).toBeCloseTo(2, 10);
    expect(r.pValue).toBeCloseTo(0.36787944117144245, 10);
    expect(r.mismatch).toBe(false);
    const w = srm([2100, 7900], [20, 80]);
    expect(w.chiSquare).toBeCloseTo(100 ** 2 / 2000 + 100 ** 2 / 8000, 10);
  });
});

describe('Holm', () => {
  it('rejects what the step-down procedure rejects, for every alpha', () => {
    const rand = rng(3);
    for (let k = 0; k < 300; k++) {
      const m = 2 + Math.floor(rand() * 5);
      const ps = Array.from({ length: m }, () => rand() ** 3);
      const adjusted = holm(ps);
      for (const alpha of [0.01, 0.05, 0.1]) {
        // the procedure as Holm wrote it: walk up the sorted p-values, stop at the first p(k) > alpha / (m − k)
        const sorted = ps.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p);
        const rejected = new Set<number>();
        for (let j = 0; j < m; j++) {
          if (sorted[j]!.p > alpha / (m - j)) break;
          rejected.add(sorted[j]!.i);
        }
        ps.forEach((_, i) => expect(adjusted[i]! <= alpha).toBe(rejected.has(i)));
      }
      adjusted.forEach((a, i) => expect(a).toBeGreaterThanOrEqual(ps[i]!));
    }
  });
});

describe('CUPED', () => {
  it('equals adjusting every unit by hand, and narrows the variance by the squared correlation', () => {
    const rand = rng(9);
    const arms = [0, 0.3].map((lift) =>
      Array.from({ length: 400 }, () => {
        const x = rand() * 10;
        return { x, y: 0.8 * x + lift + rand() * 2 };
      }),
    );
    const moments = arms.map((units) => ({
      n: units.length,
      sumY: units.reduce((a, u) => a + u.y, 0),
      sumY2: units.reduce((a, u) => a + u.y * u.y, 0),
      sumX: units.reduce((a, u) => a + u.x, 0),
      sumX2: units.reduce((a, u) => a + u.x * u.x, 0),
      sumXY: units.reduce((a, u) => a + u.x * u.y, 0),
    }));
    const r = cuped(moments);
    // θ by hand: pooled within-arm covariance over pooled within-arm variance of x
    let cov = 0;
    let vx = 0;
    for (const units of arms) {
      const mx = units.reduce((a, u) => a + u.x, 0) / units.length;
      const my = units.reduce((a, u) => a + u.y, 0) / units.length;
      for (const u of units) {
        cov += (u.x - mx) * (u.y - my);
        vx += (u.x - mx) ** 2;
      }
    }
    expect(r.theta).toBeCloseTo(cov / vx, 10);
    const all = arms.flat();
    const meanX = all.reduce((a, u) => a + u.x, 0) / all.length;
    arms.forEach((units, i) => {
      const adjusted = fromValues(units.map((u) => u.y - r.theta * (u.x - meanX)));
      expect(r.summaries[i]!.mean).toBeCloseTo(adjusted.mean, 10);
      expect(r.summaries[i]!.variance).toBeCloseTo(adjusted.variance, 8);
      expect(r.summaries[i]!.variance).toBeLessThan(fromValues(units.map((u) => u.y)).variance / 2);
    });
  });
});

describe('power calculator', () => {
  it('units per variant reach the asked power, one unit fewer does not', () => {
    for (const [p, mde, alpha, power] of [[0.1, 0.02, 0.05, 0.8], [0.5, 0.01, 0.01, 0.9], [0.03, 0.006, 0.1, 0.8]] as const) {
      const input = { varianceControl: p * (1 - p), varianceTreatment: (p + mde) * (1 - p - mde), mde, alpha };
      const n = unitsPerVariant({ ...input, power });
      expect(powerAt({ ...input, n })).toBeGreaterThanOrEqual(power - 1e-4);
      expect(powerAt({ ...input, n: n - Math.ceil(n * 0.01) })).toBeLessThan(power);
    }
    // textbook: (z.975 + z.8)² (p1q1 + p2q2) / Δ² = 7.849 · 0.1956 / 0.0004 ≈ 3839
    expect(unitsPerVariant({ varianceControl: 0.09, varianceTreatment: 0.1056, mde: 0.02 })).toBe(3839);
  });
  it('days at current traffic: the smallest arm fills last', () => {
    const plan = powerPlan({ varianceControl: 0.09, mde: 0.02, weights: [25, 75], unitsPerDay: 1000 });
    expect(plan.units_per_variant).toBe(unitsPerVariant({ varianceControl: 0.09, mde: 0.02 }));
    expect(plan.total_units).toBe(Math.ceil(plan.units_per_variant / 0.25));
    expect(plan.days).toBeCloseTo(plan.total_units / 1000, 10);
  });
});
