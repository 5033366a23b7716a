/**
 * The statistics of an A/B test, as pure functions of per-variant summaries
 * (units, mean, sample variance): nothing here touches a store. A proportion is
 * the mean of 0/1 outcomes, so one set of formulas serves both metric kinds.
 *
 * References: Welch (1947); the mixture SPRT / "generalized always-valid
 * inference" confidence sequences (Howard et al. 2021, as GrowthBook and
 * PostHog use them, tuning constant = the sample size at which decisions are
 * usually made); the normal-approximation Bayesian engine with a flat prior;
 * Pearson's chi-square for sample ratio mismatch; Holm (1979); CUPED (Deng et
 * al. 2013).
 */
import { chiSquareSurvival, normalCdf, normalPdf, normalQuantile, studentQuantile, studentTwoSidedP } from './distributions.ts';

/** Sufficient statistics of one variant's per-unit outcomes. */
export interface Moments {
  n: number;
  sum: number;
  sumSq: number;
}

/** What the tests read: units, mean and (n − 1) sample variance of the per-unit outcome. */
export interface Summary {
  n: number;
  mean: number;
  variance: number;
}

export function summarize(m: Moments): Summary {
  const mean = m.n > 0 ? m.sum / m.n : 0;
  const variance = m.n > 1 ? Math.max(0, (m.sumSq - m.n * mean * mean) / (m.n - 1)) : 0;
  return { n: m.n, mean, variance };
}

export interface WelchResult {
  difference: number;
  /** difference / control mean; null when the control mean is 0 */
  relativeLift: number | null;
  standardError: number;
  t: number;
  df: number;
  pValue: number;
  ciLow: number;
  ciHigh: number;
}

const UNDEFINED_TEST = (difference: number, control: number): WelchResult => ({
  difference,
  relativeLift: control !== 0 ? difference / control : null,
  standardError: 0,
  t: 0,
  df: 0,
  pValue: 1,
  ciLow: difference,
  ciHigh: difference,
});

/**
 * Welch's t-test of treatment − control with the unpooled standard error and
 * the Welch–Satterthwaite degrees of freedom; the interval bounds the absolute
 * difference at 1 − alpha.
 */
export function welch(control: Summary, treatment: Summary, alpha = 0.05): WelchResult {
  const difference = treatment.mean - control.mean;
  if (control.n < 2 || treatment.n < 2) return { ...UNDEFINED_TEST(difference, control.mean), pValue: NaN, ciLow: NaN, ciHigh: NaN };
  const vc = control.variance / control.n;
  const vt = treatment.variance / treatment.n;
  const se2 = vc + vt;
  if (se2 === 0) return { ...UNDEFINED_TEST(difference, control.mean), pValue: difference === 0 ? 1 : 0 };
  const se = Math.sqrt(se2);
  const df = (se2 * se2) / ((vc * vc) / (control.n - 1) + (vt * vt) / (treatment.n - 1));
  const t = difference / se;
  const q = studentQuantile(1 - alpha / 2, df);
  return {
    difference,
    relativeLift: control.mean !== 0 ? difference / control.mean : null,
    standardError: se,
    t,
    df,
    pValue: studentTwoSidedP(t, df),
    ciLow: difference - q * se,
    ciHigh: difference + q * se,
  };
}

/** ρ² of the normal mixture: chosen so the confidence sequence is tightest at `tuning` total units. */
export function mixtureRhoSquared(alpha: number, tuning: number): number {
  const l = -2 * Math.log(alpha);
  return (l + Math.log(l + 1)) / tuning;
}

export interface SequentialResult {
  /** always-valid two-sided p-value at this look */
  pValue: number;
  ciLow: number;
  ciHigh: number;
  halfWidth: number;
}

/**
 * Mixture SPRT on the difference of means. With V the squared standard error,
 * N the total units and σ² = V·N the per-unit variance, the normal mixture of
 * variance τ² = σ²ρ² gives the likelihood ratio
 *   Λ = (1 + r)^(−1/2) · exp(z² r / (2 (1 + r))),  r = τ²/V = N ρ²,
 * so p = min(1, 1/Λ), and inverting Λ ≥ 1/α gives the confidence sequence
 *   Δ ± SE · sqrt((1 + 1/r) · (−2 ln α + ln(1 + r))).
 * (This is GrowthBook's half-width sqrt(σ²)·sqrt(2(Nρ²+1)·ln(sqrt(Nρ²+1)/α)/(N²ρ²)).)
 * The p-value is valid at any look; an experiment read repeatedly may keep the
 * smallest one seen.
 */
export function sequential(control: Summary, treatment: Summary, alpha = 0.05, tuning = 5000): SequentialResult {
  const difference = treatment.mean - control.mean;
  const v = (control.n > 0 ? control.variance / control.n : 0) + (treatment.n > 0 ? treatment.variance / treatment.n : 0);
  if (control.n < 2 || treatment.n < 2 || v === 0) return { pValue: v === 0 && control.n >= 2 && treatment.n >= 2 && difference !== 0 ? 0 : 1, ciLow: NaN, ciHigh: NaN, halfWidth: NaN };
  const se = Math.sqrt(v);
  const r = (control.n + treatment.n) * mixtureRhoSquared(alpha, tuning);
  const z = difference / se;
  const halfWidth = se * Math.sqrt((1 + 1 / r) * (-2 * Math.log(alpha) + Math.log(1 + r)));
  const logInverseLambda = 0.5 * Math.log(1 + r) - (z * z * r) / (2 * (1 + r));
  return { pValue: Math.min(1, Math.exp(logInverseLambda)), ciLow: difference - halfWidth, ciHigh: difference + halfWidth, halfWidth };
}

export interface BayesianResult {
  /** P(treatment better than control) in the metric's good direction */
  chanceToBeatControl: number;
  /** credible interval of the absolute difference at 1 − alpha */
  ciLow: number;
  ciHigh: number;
  /** expected loss (in metric units) of shipping the treatment: E[max(0, −δ)] in the good direction */
  expectedLoss: number;
  /** expected loss of keeping the control: E[max(0, δ)] in the good direction */
  expectedLossControl: number;
}

/**
 * Normal posterior of the difference under a flat prior: δ ~ N(Δ, SE²).
 * `higherIsBetter` turns "better" around for latency, cost and tokens.
 */
export function bayesian(control: Summary, treatment: Summary, alpha = 0.05, higherIsBetter = true): BayesianResult {
  const difference = treatment.mean - control.mean;
  const v = (control.n > 0 ? control.variance / control.n : 0) + (treatment.n > 0 ? treatment.variance / treatment.n : 0);
  const good = higherIsBetter ? difference : -difference;
  if (control.n < 2 || treatment.n < 2) return { chanceToBeatControl: 0.5, ciLow: NaN, ciHigh: NaN, expectedLoss: NaN, expectedLossControl: NaN };
  if (v === 0) {
    return { chanceToBeatControl: good > 0 ? 1 : good < 0 ? 0 : 0.5, ciLow: difference, ciHigh: difference, expectedLoss: Math.max(0, -good), expectedLossControl: Math.max(0, good) };
  }
  const se = Math.sqrt(v);
  const q = normalQuantile(1 - alpha / 2);
  const k = good / se;
  return {
    chanceToBeatControl: normalCdf(k),
    ciLow: difference - q * se,
    ciHigh: difference + q * se,
    // E[max(0, −X)] for X ~ N(μ, s²) is s·φ(μ/s) − μ·Φ(−μ/s)
    expectedLoss: se * normalPdf(k) - good * normalCdf(-k),
    expectedLossControl: se * normalPdf(k) + good * normalCdf(k),
  };
}

export interface SrmResult {
  chiSquare: number;
  df: number;
  pValue: number;
  /** p < threshold (0.001): the split is not what the weights say; results are not to be trusted */
  mismatch: boolean;
  expected: number[];
}

/** Pearson's chi-square goodness of fit of observed units per variant against the weights. */
export function srm(observed: number[], weights: number[], threshold = 0.001): SrmResult {
  const total = observed.reduce((a, b) => a + b, 0);
  const wsum = weights.reduce((a, b) => a + b, 0);
  const expected = weights.map((w) => (total * w) / wsum);
  if (total === 0) return { chiSquare: 0, df: observed.length - 1, pValue: 1, mismatch: false, expected };
  let chi = 0;
  for (let i = 0; i < observed.length; i++) {
    const e = expected[i]!;
    if (e > 0) chi += (observed[i]! - e) ** 2 / e;
    else if (observed[i]! > 0) chi = Infinity;
  }
  const df = observed.length - 1;
  const pValue = df > 0 ? chiSquareSurvival(chi, df) : 1;
  return { chiSquare: chi, df, pValue, mismatch: pValue < threshold, expected };
}

/** Holm's step-down adjusted p-values (family-wise error at alpha over several treatments), in input order. */
export function holm(pValues: number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p: Number.isNaN(p) ? 1 : p, i })).sort((a, b) => a.p - b.p);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = Number.isNaN(pValues[i]!) ? NaN : running;
  });
  return out;
}

/** Per-variant sums of the outcome y and the pre-exposure covariate x. */
export interface CovariateMoments {
  n: number;
  sumY: number;
  sumY2: number;
  sumX: number;
  sumX2: number;
  sumXY: number;
}

export interface CupedResult {
  theta: number;
  summaries: Summary[];
  /** share of the outcome variance removed (pooled) */
  varianceReduction: number;
}

/**
 * CUPED: y' = y − θ (x − x̄), θ = cov(x, y) / var(x) pooled over the variants'
 * within-variant (co)variances. The adjusted mean and variance follow from the
 * sums, so no per-unit rows leave the store.
 */
export function cuped(variants: CovariateMoments[]): CupedResult {
  const N = variants.reduce((a, v) => a + v.n, 0);
  const meanX = N > 0 ? variants.reduce((a, v) => a + v.sumX, 0) / N : 0;
  let cov = 0;
  let varX = 0;
  let varY = 0;
  for (const v of variants) {
    if (v.n === 0) continue;
    cov += v.sumXY - (v.sumX * v.sumY) / v.n;
    varX += v.sumX2 - (v.sumX * v.sumX) / v.n;
    varY += v.sumY2 - (v.sumY * v.sumY) / v.n;
  }
  const theta = varX > 0 ? cov / varX : 0;
  const summaries = variants.map((v) => {
    if (v.n === 0) return { n: 0, mean: 0, variance: 0 };
    const my = v.sumY / v.n;
    const mx = v.sumX / v.n;
    const sxx = v.sumX2 - v.n * mx * mx;
    const syy = v.sumY2 - v.n * my * my;
    const sxy = v.sumXY - v.n * mx * my;
    const variance = v.n > 1 ? Math.max(0, (syy + theta * theta * sxx - 2 * theta * sxy) / (v.n - 1)) : 0;
    return { n: v.n, mean: my - theta * (mx - meanX), variance };
  });
  const varianceReduction = varY > 0 && varX > 0 ? (cov * cov) / (varX * varY) : 0;
  return { theta, summaries, varianceReduction };
}

export interface PowerInput {
  /** per-unit variance in the control (p(1 − p) for a proportion) */
  varianceControl: number;
  /** per-unit variance in the treatment; the control's when not known */
  varianceTreatment?: number;
  /** minimum detectable effect, absolute (in metric units) */
  mde: number;
  alpha?: number;
  power?: number;
}

/** Units each arm needs for a two-sided Welch test at `alpha` to detect `mde` with `power`. */
export function unitsPerVariant(input: PowerInput): number {
  const alpha = input.alpha ?? 0.05;
  const power = input.power ?? 0.8;
  const vt = input.varianceTreatment ?? input.varianceControl;
  if (!(input.mde !== 0)) return Infinity;
  const z = normalQuantile(1 - alpha / 2) + normalQuantile(power);
  return Math.ceil((z * z * (input.varianceControl + vt)) / (input.mde * input.mde));
}

/** Power of the two-sided test at a given number of units per arm (the inverse of `unitsPerVariant`). */
export function powerAt(input: Omit<PowerInput, 'power'> & { n: number }): number {
  const alpha = input.alpha ?? 0.05;
  const vt = input.varianceTreatment ?? input.varianceControl;
  const se = Math.sqrt((input.varianceControl + vt) / input.n);
  const q = normalQuantile(1 - alpha / 2);
  const k = Math.abs(input.mde) / se;
  return normalCdf(k - q) + normalCdf(-k - q);
}

export interface PowerPlan {
  units_per_variant: number;
  total_units: number;
  /** days at the given traffic, or null without traffic */
  days: number | null;
}

/**
 * Minimum detectable effect → units → days. The arm with the smallest weight
 * fills last, so it sets the duration.
 */
export function powerPlan(input: PowerInput & { weights: number[]; unitsPerDay?: number | null }): PowerPlan {
  const n = unitsPerVariant(input);
  const wsum = input.weights.reduce((a, b) => a + b, 0);
  const minShare = Math.min(...input.weights) / wsum;
  const total = Number.isFinite(n) ? Math.ceil(n / minShare) : Infinity;
  const days = input.unitsPerDay && input.unitsPerDay > 0 && Number.isFinite(total) ? total / input.unitsPerDay : null;
  return { units_per_variant: n, total_units: total, days };
}
