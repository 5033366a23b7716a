/**
 * From per-variant sums to the answer of `GET /experiments/{key}/results`:
 * SRM first, then each treatment against the control (Welch, Holm-adjusted
 * when there are several treatments; mixture SPRT; Bayesian), guardrails, and a
 * recommendation with its reason.
 */
import { higherIsBetter, type ExperimentDef, type MetricDef } from './definition.ts';
import { EXCLUDED, type VariantSums } from './sql.ts';
import { studentQuantile } from './stats/distributions.ts';
import { bayesian, cuped, holm, sequential, srm, summarize, unitsPerVariant, welch, type Summary } from './stats/tests.ts';

const DAY_MS = 86_400_000;

export interface Comparison {
  variant: string;
  control: string;
  absolute_difference: number;
  relative_lift: number | null;
  ci_low: number | null;
  ci_high: number | null;
  p_value: number | null;
  p_value_adjusted: number | null;
  significant: boolean;
  chance_to_beat_control: number | null;
  expected_loss: number | null;
  credible_low: number | null;
  credible_high: number | null;
}

export type Decision = 'ship' | 'keep_control' | 'keep_running' | 'inconclusive';

export interface MetricAnalysis {
  variants: Array<{ key: string; units: number; assigned: number; value: number | null; ci_low: number | null; ci_high: number | null }>;
  summaries: Map<string, Summary>;
  comparisons: Comparison[];
  sequential: Array<{ variant: string; p_value: number | null; ci_low: number | null; ci_high: number | null }>;
  excluded: number;
  cuped: { theta: number; variance_reduction: number } | null;
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** The statistics of one metric from its per-variant sums. */
export function analyseMetric(def: ExperimentDef, metric: MetricDef, sums: VariantSums[]): MetricAnalysis {
  const byKey = new Map(sums.map((s) => [s.variant, s]));
  const excluded = byKey.get(EXCLUDED)?.assigned ?? 0;
  const zero: VariantSums = { variant: '', assigned: 0, n: 0, s: 0, ss: 0, sx: 0, sxx: 0, sxy: 0 };
  const rows = def.variants.map((v) => ({ ...zero, ...byKey.get(v.key), variant: v.key }));
  let summaries = rows.map((r) => summarize({ n: r.n, sum: r.s, sumSq: r.ss }));
  let cupedInfo: MetricAnalysis['cuped'] = null;
  if (def.cuped) {
    const c = cuped(rows.map((r) => ({ n: r.n, sumY: r.s, sumY2: r.ss, sumX: r.sx, sumX2: r.sxx, sumXY: r.sxy })));
    summaries = c.summaries;
    cupedInfo = { theta: c.theta, variance_reduction: c.varianceReduction };
  }
  const summaryOf = new Map(def.variants.map((v, i) => [v.key, summaries[i]!]));
  const control = summaryOf.get(def.control)!;
  const up = higherIsBetter(metric);
  const treatments = def.variants.filter((v) => v.key !== def.control);
  const welchs = treatments.map((v) => welch(control, summaryOf.get(v.key)!, def.alpha));
  const seqs = treatments.map((v) => sequential(control, summaryOf.get(v.key)!, def.alpha, def.sequential_tuning));
  const bayes = treatments.map((v) => bayesian(control, summaryOf.get(v.key)!, def.alpha, up));
  const adjustedWelch = holm(welchs.map((w) => w.pValue));
  const adjustedSeq = holm(seqs.map((s) => s.pValue));
  const comparisons: Comparison[] = treatments.map((v, i) => {
    const w = welchs[i]!;
    const b = bayes[i]!;
    const significant =
      def.method === 'frequentist'
        ? adjustedWelch[i]! < def.alpha
        : def.method === 'sequential'
          ? adjustedSeq[i]! < def.alpha
          : b.chanceToBeatControl >= 1 - def.alpha / 2 || b.chanceToBeatControl <= def.alpha / 2;
    return {
      variant: v.key,
      control: def.control,
      absolute_difference: w.difference,
      relative_lift: w.relativeLift,
      ci_low: finite(w.ciLow),
      ci_high: finite(w.ciHigh),
      p_value: finite(w.pValue),
      p_value_adjusted: finite(adjustedWelch[i]!),
      significant,
      chance_to_beat_control: finite(b.chanceToBeatControl),
      expected_loss: finite(b.expectedLoss),
      credible_low: finite(b.ciLow),
      credible_high: finite(b.ciHigh),
    };
  });
  const variants = def.variants.map((v, i) => {
    const s = summaries[i]!;
    const half = s.n > 1 ? studentQuantile(1 - def.alpha / 2, s.n - 1) * Math.sqrt(s.variance / s.n) : NaN;
    return { key: v.key, units: s.n, assigned: rows[i]!.assigned, value: s.n > 0 ? s.mean : null, ci_low: finite(s.mean - half), ci_high: finite(s.mean + half) };
  });
  return {
    variants,
    summaries: summaryOf,
    comparisons,
    sequential: treatments.map((v, i) => ({ variant: v.key, p_value: finite(adjustedSeq[i]!), ci_low: finite(seqs[i]!.ciLow), ci_high: finite(seqs[i]!.ciHigh) })),
    excluded,
    cuped: cupedInfo,
  };
}

export function srmOf(def: ExperimentDef, analysis: MetricAnalysis) {
  const r = srm(
    def.variants.map((v) => analysis.variants.find((x) => x.key === v.key)!.assigned),
    def.variants.map((v) => v.weight),
  );
  return { p_value: r.pValue, mismatch: r.mismatch, chi_square: r.chiSquare, expected: r.expected };
}

export interface Guardrail {
  metric: string;
  variant: string;
  absolute_difference: number;
  p_value: number | null;
  regression: boolean;
}

/** A treatment regresses a guardrail when it is significantly worse in the guardrail's direction. */
export function guardrailsOf(metric: MetricDef, analysis: MetricAnalysis): Guardrail[] {
  const up = higherIsBetter(metric);
  return analysis.comparisons.map((c) => ({
    metric: metric.name,
    variant: c.variant,
    absolute_difference: c.absolute_difference,
    p_value: c.p_value_adjusted,
    regression: c.significant && (up ? c.absolute_difference < 0 : c.absolute_difference > 0),
  }));
}

export interface Recommendation {
  decision: Decision;
  text: string;
  variant?: string;
  expected_days_left?: number | null;
  units_needed_per_variant?: number | null;
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`);
const fmtP = (p: number | null) => (p === null ? 'n/a' : p < 0.0001 ? p.toExponential(1) : p.toFixed(4));

export function recommend(input: {
  def: ExperimentDef;
  metric: MetricDef;
  analysis: MetricAnalysis;
  srm: { p_value: number; mismatch: boolean };
  guardrails: Guardrail[];
  stopped: boolean;
  nowMs: number;
}): Recommendation {
  const { def, metric, analysis, guardrails } = input;
  if (input.srm.mismatch) {
    return {
      decision: 'inconclusive',
      text: `Sample ratio mismatch (χ² p = ${fmtP(input.srm.p_value)} < 0.001): the units per variant do not follow the weights, so the comparison is not trustworthy. Find out why (assignment, logging, exclusions) before reading the results.`,
    };
  }
  const startMs = Date.parse(def.start_at);
  const endMs = def.end_at ? Date.parse(def.end_at) : Infinity;
  const ended = input.stopped || input.nowMs >= endMs;
  const control = analysis.summaries.get(def.control)!;
  const totalUnits = analysis.variants.reduce((a, v) => a + v.units, 0);
  const elapsedDays = Math.max(1 / 24, (Math.min(input.nowMs, endMs) - startMs) / DAY_MS);
  const unitsPerDay = totalUnits / elapsedDays;
  const mdeAbs = def.mde * Math.abs(control.mean);
  const variance = control.variance > 0 ? control.variance : metric.kind === 'proportion' ? 0.25 : 0;
  const needed = mdeAbs > 0 && variance > 0 ? Math.max(def.min_units_per_variant, unitsPerVariant({ varianceControl: variance, mde: mdeAbs, alpha: def.alpha, power: def.power })) : def.min_units_per_variant;
  const daysLeft = (target: number): number | null => {
    if (!(unitsPerDay > 0)) return null;
    const total = def.variants.reduce((a, v) => a + v.weight, 0);
    let days = 0;
    for (const v of def.variants) {
      const have = analysis.summaries.get(v.key)!.n;
      days = Math.max(days, Math.max(0, target - have) / ((unitsPerDay * v.weight) / total));
    }
    return Math.round(days * 10) / 10;
  };
  const smallest = Math.min(...analysis.variants.map((v) => v.units));
  if (smallest < def.min_units_per_variant) {
    const left = ended ? null : daysLeft(def.min_units_per_variant);
    return {
      decision: ended ? 'inconclusive' : 'keep_running',
      text: ended
        ? `The experiment ended with ${smallest} units in its smallest variant, below the minimum of ${def.min_units_per_variant}: no winner can be called.`
        : `Too early to call: the smallest variant has ${smallest} units, the minimum is ${def.min_units_per_variant}${left !== null ? `; about ${left} more days at the current traffic` : ''}.`,
      expected_days_left: left,
      units_needed_per_variant: def.min_units_per_variant,
    };
  }
  const up = higherIsBetter(metric);
  const better = analysis.comparisons.filter((c) => c.significant && (up ? c.absolute_difference > 0 : c.absolute_difference < 0));
  const worse = analysis.comparisons.filter((c) => c.significant && (up ? c.absolute_difference < 0 : c.absolute_difference > 0));
  if (better.length) {
    const best = better.reduce((a, b) => (Math.abs(b.absolute_difference) > Math.abs(a.absolute_difference) ? b : a));
    const blocking = guardrails.filter((g) => g.variant === best.variant && g.regression);
    if (blocking.length) {
      return {
        decision: 'keep_control',
        variant: def.control,
        text: `${best.variant} improves ${metric.name} (${pct(best.relative_lift)}, p = ${fmtP(best.p_value_adjusted)}) but regresses the guardrail${blocking.length > 1 ? 's' : ''} ${blocking.map((g) => g.metric).join(', ')}: do not ship it; keep ${def.control}.`,
      };
    }
    return {
      decision: 'ship',
      variant: best.variant,
      text: `Ship ${best.variant}: ${metric.name} ${pct(best.relative_lift)} against ${def.control} (${def.method}, p = ${fmtP(def.method === 'sequential' ? analysis.sequential.find((s) => s.variant === best.variant)!.p_value : best.p_value_adjusted)}${def.method === 'bayesian' ? `, chance to beat control ${((best.chance_to_beat_control ?? 0) * 100).toFixed(1)}%` : ''}), no guardrail regressed.`,
    };
  }
  if (worse.length === analysis.comparisons.length) {
    return {
      decision: 'keep_control',
      variant: def.control,
      text: `Keep ${def.control}: every treatment is significantly worse on ${metric.name} (${worse.map((c) => `${c.variant} ${pct(c.relative_lift)}`).join(', ')}).`,
    };
  }
  const reached = analysis.variants.every((v) => v.units >= needed);
  if (ended || reached) {
    return {
      decision: 'inconclusive',
      text: `No significant difference on ${metric.name}${reached ? ` with at least ${smallest.toLocaleString('en-US')} units in every variant (enough to detect a ${(def.mde * 100).toFixed(1)}% change with ${(def.power * 100).toFixed(0)}% power)` : ' and the experiment has ended'}: the variants perform alike within what this experiment can detect.`,
      units_needed_per_variant: Number.isFinite(needed) ? needed : null,
    };
  }
  const left = daysLeft(needed);
  return {
    decision: 'keep_running',
    text: `No significant difference yet on ${metric.name}. Detecting a ${(def.mde * 100).toFixed(1)}% change needs about ${needed} units per variant${left !== null ? `: about ${left} more days at the current ${Math.round(unitsPerDay)} units/day` : ''}.`,
    expected_days_left: left,
    units_needed_per_variant: Number.isFinite(needed) ? needed : null,
  };
}
