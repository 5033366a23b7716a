/**
 * The fast evaluation of a plain `ordered` funnel (no per-step windows, no exclusions):
 * per unit a few array passes, no per-attempt fold.
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
 */
import type { FunnelPlan } from './spec.ts';

/** a time no event has: later than any anchor plus any window, far from Int64 overflow */
const NEVER = 'toInt64(4611686018427387904)';

/** True when the fast evaluation answers the plan exactly. */
export function isPlainOrdered(plan: FunnelPlan): boolean {
  return plan.order === 'ordered' && plan.exclusions.length === 0 && plan.stepWindowsMs.every((w) => w < 0);
}

/** Gₖ for every anchor from Gₖ₋₁ (`prev`, non-decreasing) and the sorted step-k times (`times`). */
function nextStep(prev: string, times: string): string {
  const merged = `arraySort(arrayConcat(arrayMap(t -> (t, 0), ${times}), arrayMap(g -> (g, 1), ${prev})))`;
  return `arrayFilter((v, q) -> q = 1,
      arrayReverseFill((v, q) -> q = 0, arrayMap(m -> if(m.2 = 0, m.1, ${NEVER}), ${merged}), arrayMap(m -> m.2, ${merged})),
      arrayMap(m -> m.2, ${merged}))`;
}

/**
 * Rows (unit, bd, K, path, t0) like `unitsSql`, from `grouped`: one row per unit with `ev`,
 * its events (t, event_id, step bitmap, exclusion bitmap, breakdown value) sorted by
 * (t, event_id).
 */
export function plainOrderedUnits(plan: FunnelPlan, grouped: string, byBreakdown: boolean): string {
  const N = plan.steps.length;
  const ks = Array.from({ length: N - 1 }, (_, i) => i + 1);
  const reach = `arrayMap((a, ${ks.map((k) => `x${k}`).join(', ')}) -> toInt64(${ks.map((k) => `(x${k} <= a + {window_ms:Int64})`).join(' + ')}), g0, ${ks.map((k) => `g${k}`).join(', ')})`;
  // the path, from the last step down: Pk = Gk(a*) at K, the latest step-j event before P(j+1) below it
  const pathParts: string[] = [];
  for (let j = N - 1; j >= 1; j--) {
    const below = j === N - 1 ? '' : `, if(K > ${j}, arrayLast(x -> x < p${j + 1}, e${j}), toInt64(-1))`;
    pathParts.push(j === N - 1 ? `if(K = ${j}, g${j}[ix], toInt64(-1)) AS p${j}` : `if(K = ${j}, g${j}[ix]${below}) AS p${j}`);
  }
  // one subquery per step: an alias used twice is expanded twice, so chaining Gₖ by alias
  // would grow the query tree exponentially with the steps
  let chainLevels = `(
        SELECT unit,
          arrayFilter(x -> bitTest(x.3, 0) AND x.1 >= {from_ms:Int64} AND x.1 < {to_ms:Int64}, ev) AS anchors,
          arrayMap(x -> x.1, anchors) AS g0,
          arrayMap(x -> x.5, anchors) AS abd,
          ${ks.map((k) => `arrayMap(x -> x.1, arrayFilter(x -> bitTest(x.3, ${k}), ev)) AS e${k}`).join(',\n          ')}
        FROM (${grouped}))`;
  for (const k of ks) chainLevels = `(SELECT *, ${nextStep(`g${k - 1}`, `e${k}`)} AS g${k} FROM ${chainLevels})`;
  return `
    SELECT unit, bd, K, arraySlice([t0, ${ks.map((k) => `p${k}`).join(', ')}], 1, K + 1) AS path, t0
    FROM (
      SELECT unit, bd, e1${ks.slice(1).map((k) => `, e${k}`).join('')}, ${ks.map((k) => `g${k}`).join(', ')},
        ${byBreakdown ? 'arrayMap((r, v) -> if(v = bd, r, toInt64(-1)), reach, abd)' : 'reach'} AS rb,
        arrayMax(rb) AS K, arrayFirstIndex(r -> r = K, rb) AS ix, g0[ix] AS t0,
        ${pathParts.join(',\n        ')}
      FROM (
        SELECT *, ${reach} AS reach
        FROM ${chainLevels}
      )
      ARRAY JOIN ${byBreakdown ? 'arrayDistinct(abd)' : "['']"} AS bd
    )`;
}
