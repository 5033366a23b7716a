/**
 * The fast evaluation of a plain `ordered` funnel (no per-step windows, no exclusions).
 *
 * With only the conversion window, the attempt anchored at a step-0 event `a` is settled
 * by its earliest-completion greedy chain: G₀(a) = a, Gₖ(a) = the first step-k event
 * strictly later than Gₖ₋₁(a). Any path of the attempt has its step-k event at or after
 * Gₖ(a) (induction), so the attempt reaches step k exactly when Gₖ(a) ≤ a + window, and
 * Gₖ(a) is the earliest time it does.
 *
 * Gₖ is non-decreasing in `a` (the anchors are sorted), so one step of the chain for all
 * anchors at once is a merge: the anchors' Gₖ₋₁ and the step-k event times sorted
 * together (an event before a query at the same instant, so a query sees only strictly
 * later events), then `arrayReverseFill` hands every query the next event's time. That is
 * O(n log n) per step and unit with no array captured in a lambda (a captured array is
 * copied per element: quadratic on a unit with many events).
 *
 * The unit counts at K = max over anchors of its reach, from the earliest anchor reaching
 * K (the anchors' order). Its path: step K at GK(a*), the earliest time; then each earlier
 * step as late as possible: Pⱼ = the latest step-j event strictly before Pⱼ₊₁. That event is
 * reachable (Gⱼ(a*) < Gⱼ₊₁(a*) ≤ Pⱼ₊₁, so Pⱼ ≥ Gⱼ(a*) > Gⱼ₋₁(a*)), which makes the path the
 * one API.md names: the earliest arrival at K, then each earlier step latest.
 *
 * What makes it cheap (profiled on the bench's data: most units stop at step 0 or 1):
 *
 * - Each event is one UInt64, `(ms since from) << 20 | step bitmap` (20 steps at most), so
 *   the per-unit array is `groupArray` of a number and sorts as numbers. A tuple array (time,
 *   event_id, bitmaps, breakdown) cost over twice as much to collect, and its sort compared
 *   tuples. Ties at one instant need no event_id here: the chain reads times only.
 * - A cheap upper bound first: the steps matched in order by one pass over the unit's sorted
 *   events from its first anchor, without the window and letting events at one instant
 *   follow each other (a longest-prefix subsequence test: any real path is such a
 *   subsequence). The exact chain then runs for that many steps only, which is none for the
 *   units that never pass step 0, instead of one merge per step for every unit.
 * - The chain and the path are `arrayFold`s over the steps, not one subquery per step: the
 *   query text stays the same size for 2 or 20 steps (20 nested subqueries took about
 *   0.8 s of CPU to analyse before reading a row).
 */
import type { FunnelPlan } from './spec.ts';

/** bits of the packed event that hold the step bitmap (MAX_STEPS ≤ 20) */
const STEP_BITS = 20;
/** a time no event has: later than any anchor plus any window, and twice it still fits a UInt64 */
const NEVER = 'toUInt64(2305843009213693952)';
/** the earliest instant a DateTime64(3) holds (1900-01-01): times are packed relative to max(from, this) */
const EARLIEST_MS = -2_208_988_800_000;

const time = (x: string) => `bitShiftRight(${x}, ${STEP_BITS})`;
/** `expr` evaluated once and named `name` inside `body` (an alias used twice is computed twice) */
const bind = (expr: string, name: string, body: string) => `arrayMap(${name} -> ${body}, [${expr}])[1]`;

/** True when the fast evaluation answers the plan exactly. */
export function isPlainOrdered(plan: FunnelPlan): boolean {
  return plan.order === 'ordered' && plan.exclusions.length === 0 && plan.stepWindowsMs.every((w) => w < 0);
}

/** The parameters the packed times need besides `funnelParams`. */
export function plainOrderedParams(plan: FunnelPlan): Record<string, unknown> {
  const base = Math.max(plan.fromMs, EARLIEST_MS);
  return { base_ms: base, span_ms: plan.toMs - base };
}

/**
 * Gₖ for every anchor from Gₖ₋₁ (`prev`, non-decreasing) and the sorted step-k times (`times`):
 * both doubled into one sorted array, events even and queries odd (so an event sorts before a
 * query at its instant), each query filled with the next event after it.
 */
function nextStep(prev: string, times: string): string {
  return bind(
    `arraySort(arrayConcat(arrayMap(t -> t * 2, ${times}), arrayMap(g -> g * 2 + 1, ${prev})))`,
    'm',
    `arrayMap(v -> if(bitAnd(v, 1) = 1, ${NEVER}, intDiv(v, 2)), arrayFilter((v, q) -> bitAnd(q, 1) = 1, arrayReverseFill(v -> bitAnd(v, 1) = 0, m), m))`,
  );
}

/**
 * Rows (unit, bd, K, path, t0) like `unitsSql`, from `scan`: the unit's events as rows
 * (unit, t, sm, bd) with `t` in ms and `sm` the step bitmap, only events of some step.
 * `anchored`: every unit of the scan is known to have an anchor in [from, to), so the
 * grouping does not test it again.
 */
export function plainOrderedUnits(plan: FunnelPlan, scan: string, byBreakdown: boolean, anchored = false): string {
  const N = plan.steps.length;
  if (N > STEP_BITS) throw new Error(`a funnel has at most ${STEP_BITS} steps`);
  const isAnchor = (x: string) => `bitTest(${x}, 0) AND ${time(x)} < {span_ms:Int64}`;
  // the upper bound: next step to match, from the first anchor on (0 = no anchor yet)
  const bound = `toUInt64(greatest(arrayFold((acc, x) -> if(acc = 0, toUInt64(${isAnchor('x')}), acc + toUInt64(acc < ${N} AND bitTest(x, acc))), ev, toUInt64(0)), 1) - 1)`;
  // acc: (Gₖ₋₁ per anchor, the anchors, (furthest step, index of its earliest anchor, its Gₖ))
  const chainStep = `(acc, e, k) -> ${bind(
    nextStep('acc.1', 'e'),
    'g',
    bind(`arrayFirstIndex((x, a) -> x <= a + toUInt64({window_ms:Int64}), g, acc.2)`, 'i', '(g, acc.2, if(i > 0, (toUInt64(k), toUInt64(i), g[i]), acc.3))'),
  )}`;
  const best = `arrayFold(${chainStep}, es, range(1, hi + 1), (g0, g0, (toUInt64(0), toUInt64(1), g0[1]))).3`;
  // the path below step K: each earlier step the latest of its events before the next one's
  const below = `arrayFold((acc, e) -> arrayPushFront(acc, arrayLast(x -> x < acc[1], e)), arrayReverse(arraySlice(es, 1, greatest(reached, 1) - 1)), [best.3])`;
  const anchorsOf = byBreakdown
    ? `arraySort(arrayMap(x -> x.1, arrayFilter(x -> x.2 = bd, anchors)))`
    : `arrayMap(x -> ${time('x')}, arrayFilter(x -> ${isAnchor('x')}, ev))`;
  return `
    SELECT unit, bd, toInt64(reached) AS K, arrayMap(x -> toInt64(x) + {base_ms:Int64}, if(reached = 0, [a0], arrayPushFront(${below}, a0))) AS path,
      toInt64(a0) + {base_ms:Int64} AS t0
    FROM (
      SELECT unit, bd, es, ${best} AS best, best.1 AS reached, g0[best.2] AS a0
      FROM (
        SELECT unit, bd, hi, ${anchorsOf} AS g0,
          arrayMap(k -> arrayMap(x -> ${time('x')}, arrayFilter(x -> bitTest(x, k), ev)), range(1, hi + 1)) AS es
        FROM (
          SELECT unit, ev, ${bound} AS hi${byBreakdown ? ', anchors' : ''}
          FROM (
            SELECT unit, arraySort(groupArray(bitShiftLeft(toUInt64(t - {base_ms:Int64}), ${STEP_BITS}) + sm)) AS ev
              ${byBreakdown ? `, groupArrayIf((toUInt64(t - {base_ms:Int64}), bd), bitTest(sm, 0) AND t < {to_ms:Int64}) AS anchors` : ''}
            FROM (${scan})
            GROUP BY unit
            ${anchored ? '' : '-- only units with an anchor in [from, to) are walked at all\n            HAVING countIf(bitTest(sm, 0) AND t >= {from_ms:Int64} AND t < {to_ms:Int64}) > 0'}))
        ARRAY JOIN ${byBreakdown ? 'arrayDistinct(arrayMap(x -> x.2, anchors))' : "['']"} AS bd))`;
}
