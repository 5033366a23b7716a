/**
 * The funnel as one ClickHouse query (no event is pulled into JS):
 *
 * 1. Each unit (user or session) becomes one array of its events in the scanned range,
 *    sorted by (timestamp, event_id), each tagged with a bitmap of the steps it matches
 *    and one of the exclusions it matches (PostHog's funnel UDF does the same).
 * 2. Every step-0 event in [from, to) anchors an attempt. `arrayFold` walks the unit's
 *    later events inside the window once, keeping per step the latest reachable event
 *    time (and the latest one before it, for ties at one instant) with the path that
 *    reached it. A step-k event is reachable when the latest reachable step-(k−1) event
 *    strictly before it exists and passes the per-step window, the strict rule (no other
 *    event strictly between) and the exclusions (no exclusion event strictly between its
 *    from_step and to_step events). Every one of these tests only gets easier for a later
 *    step-(k−1) event, so keeping the latest one is exact: the fold finds the furthest
 *    step any path of the attempt reaches, and the path that reaches it first.
 * 3. Per unit: the furthest step over its attempts, and the path of the earliest attempt
 *    that reaches it; then per step: units, median and mean seconds from the step before.
 *
 * `unordered`: every event matching any step in [from, to) anchors an attempt; it reaches
 * step k when k + 1 distinct steps have a matching event in [t0, t0 + window].
 */
import type { FunnelPlan } from './spec.ts';
import { isPlainOrdered, plainOrderedParams, plainOrderedUnits } from './greedy.ts';

const I = (n: number) => `toInt64(${Math.trunc(n)})`;

/**
 * The bitmap of the conditions a row matches, each distinct condition evaluated once: a
 * funnel that repeats a step (a → b → a → b) has the same condition under other parameter
 * names, and a 20-step funnel over 10 commands evaluated every condition twice per row.
 */
function bitmap(conds: string[], params: Record<string, unknown>): string {
  if (!conds.length) return '0';
  const resolved = (c: string) => c.replace(/\{(\w+):[^}]+\}/g, (_, name: string) => JSON.stringify(params[name]));
  const bitsOf = new Map<string, { cond: string; bits: number }>();
  conds.forEach((c, i) => {
    const key = resolved(c);
    const seen = bitsOf.get(key);
    if (seen) seen.bits += 2 ** i;
    else bitsOf.set(key, { cond: c, bits: 2 ** i });
  });
  return [...bitsOf.values()].map(({ cond, bits }) => `if(${cond}, ${bits}, 0)`).join(' + ');
}

export interface UnitsOptions {
  byBreakdown: boolean;
  deptFilter: boolean;
  /**
   * Only the units that can pass step 0 are grouped (see `anchoredUnits`); the others are
   * counted at step 0 without being grouped. Plain ordered funnels without breakdown or
   * department filter, inside `funnelSql` only (the scan reads its scalar `anchored`). Default false.
   */
  passersOnly?: boolean;
  /**
   * `unit` as the user or session id itself (routes that name people). Otherwise it is
   * `cityHash64` of the id: grouping a million units by a 64-bit key instead of their strings
   * is the larger part of a funnel's cost. Exact unless two ids of the range share a hash
   * (about n² / 2⁶⁵: 3·10⁻⁸ for a million ids).
   */
  ids?: boolean;
}

/**
 * The rows of the steps (and exclusions) in [from, to + window]: (unit, t, sm[, event_id, xm], bd).
 * `lean`: only (unit, t, sm, bd), for the plain ordered evaluation, which reads no event_id or exclusion.
 */
function baseScan(plan: FunnelPlan, eventsTable: string, opts: UnitsOptions, lean = false): string {
  const bits = (conds: string[]) => bitmap(conds, plan.params);
  const column = plan.unit === 'user' ? 'user_id' : 'session_id';
  const unit = opts.ids ? column : `cityHash64(${column})`;
  const bd = plan.breakdown ? `toString(${plan.breakdown})` : "''";
  const where = [
    'org_id = {org_id:String}',
    "timestamp >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')",
    "timestamp <= fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')",
    `${column} != ''`,
  ];
  // strict needs every event of the unit (any other event between two steps breaks it)
  if (plan.order !== 'strict') where.push('event_type IN {types:Array(String)}', plan.exclusions.length ? '(sm != 0 OR xm != 0)' : 'sm != 0');
  if (opts.deptFilter) where.push('department_id IN {departments:Array(String)}');
  where.push(`${unit} IN (${opts.passersOnly ? 'SELECT arrayJoin(anchored.2)' : anchorUnits(plan, eventsTable, column, unit)})`);
  if (lean) {
    return `SELECT ${unit} AS unit, toUnixTimestamp64Milli(timestamp) AS t, toUInt32(${bits(plan.steps)}) AS sm${plan.breakdown ? `, ${bd} AS bd` : ''}
      FROM ${eventsTable} WHERE ${where.join(' AND ')}`;
  }
  return `SELECT ${unit} AS unit, toUnixTimestamp64Milli(timestamp) AS t, event_id,
      toUInt32(${bits(plan.steps)}) AS sm, toUInt32(${bits(plan.exclusions.map((x) => x.cond))}) AS xm, ${bd} AS bd
    FROM ${eventsTable} WHERE ${where.join(' AND ')}`;
}

/**
 * The units with an anchor (a step-0 event, or any step's when unordered) in [from, to): a
 * prefilter of the scan, so that the events of units that cannot enter the funnel are never
 * grouped (on the bench's data half the units with a step event have no anchor). A superset
 * is harmless: the grouping's own anchor test (HAVING) still decides.
 */
function anchorUnits(plan: FunnelPlan, eventsTable: string, column: string, unit: string): string {
  const anchor = plan.order === 'unordered' ? `(${plan.steps.join(' OR ')})` : plan.steps[0]!;
  return `SELECT ${unit} FROM ${eventsTable}
      WHERE org_id = {org_id:String} AND event_type IN {types:Array(String)} AND ${column} != ''
        AND timestamp >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC') AND timestamp < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC') AND ${anchor}`;
}

/** window buckets per conversion window in the step-1 test of `anchoredUnits` */
const BUCKETS_PER_WINDOW = 8;

/**
 * One row per unit with a step-0 or step-1 event in [from, to + window]: `u`, its hash; `am`,
 * non-zero when it has an anchor in [from, to); and `pass`, whether it may pass step 0. A unit
 * that cannot pass stops at step 0, so its events need not be grouped: it counts at step 0 only,
 * and its path is its anchor, whose time no figure reads. `pass` is a superset test of "some
 * anchor a has a step-1 event e with a < e ≤ a + window", from two numbers per unit: time cut
 * into buckets of w = ⌊window / 8⌋ ms from `from`, `am` holds the buckets of the unit's anchors
 * and `bm` those of its step-1 events as bits of a UInt64 (bucket mod 64). a ≤ e ≤ a + window
 * puts e's bucket 0 … D = ⌈window / w⌉ (8 or 9) buckets after a's, so some rotation of `am` by
 * 0 … D meets a bit of `bm`. Modulo 64, the bucket width and e = a only let more units through;
 * the walk decides. (Testing besides that the first anchor is before the last step-1 event,
 * the test before, kept 4 % fewer units of the bench's and cost more than it saved.)
 *
 * Reads the step-0 and step-1 rows only; no array.
 */
function anchoredUnits(plan: FunnelPlan, eventsTable: string, column: string): string {
  const t = 'toUnixTimestamp64Milli(timestamp)';
  const w = Math.max(1, Math.floor(plan.windowMs / BUCKETS_PER_WINDOW));
  const shifts = Math.ceil(plan.windowMs / w);
  // rows are at or after `from`, so the bucket is never negative
  const bit = `bitShiftLeft(toUInt64(1), intDiv(${t} - {from_ms:Int64}, ${I(w)}) % 64)`;
  const near = Array.from({ length: shifts + 1 }, (_, s) => `bitAnd(bitRotateLeft(am, ${s}), bm)`).join(' + ');
  return `SELECT u, am, (${near}) != 0 AS pass FROM (
      SELECT cityHash64(${column}) AS u, groupBitOr(if(${plan.steps[0]!} AND ${t} < {to_ms:Int64}, ${bit}, 0)) AS am,
        groupBitOr(if(${plan.steps[1]!}, ${bit}, 0)) AS bm
      FROM ${eventsTable}
      WHERE org_id = {org_id:String} AND event_type IN {types:Array(String)} AND ${column} != ''
        AND timestamp >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC') AND timestamp <= fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC')
        AND (${plan.steps[0]!} OR ${plan.steps[1]!})
      GROUP BY u)`;
}

/**
 * The fold of one ordered/strict attempt anchored at `t0` over `evs`, over steps 0…`last`
 * with the exclusions that end by `last`; yields (furthest step, path of times).
 */
function orderedFold(plan: FunnelPlan, t0: string, evs: string, last = plan.steps.length - 1): string {
  const N = last + 1;
  // every exclusion keeps its bit and its state slot; only those ending by `last` are tested
  const E = plan.exclusions.length;
  // state: 1 cur times, 2 prev times, 3 cur paths, 4 prev paths, 5/6 exclusion cur/prev, 7/8 any-event cur/prev, 9 (best step, path)
  const before = (cur: string, prev: string) => `if(${cur} < x.1, ${cur}, ${prev})`;
  const pred = (s: number) => before(`acc.1[${s}]`, `acc.2[${s}]`); // step s−1 (1-based index s)
  const predPath = (s: number) => `if(acc.1[${s}] < x.1, acc.3[${s}], acc.4[${s}])`;
  const oks: string[] = [];
  for (let k = 1; k < N; k++) {
    const p = pred(k);
    const tests = [`bitTest(x.3, ${k})`, `${p} >= 0`];
    if (plan.stepWindowsMs[k]! >= 0) tests.push(`x.1 - ${p} <= ${I(plan.stepWindowsMs[k]!)}`);
    if (plan.order === 'strict') tests.push(`${before('acc.7', 'acc.8')} <= ${p}`);
    plan.exclusions.forEach((x, j) => {
      // gap between step k−1 and k lies inside [from, to]: no exclusion event strictly after
      // the from_step event, nor at an inner step's own instant
      if (x.to <= last && x.from <= k - 1 && k <= x.to) {
        const xb = before(`acc.5[${j + 1}]`, `acc.6[${j + 1}]`);
        tests.push(x.from === k - 1 ? `${xb} <= ${p}` : `${xb} < ${p}`);
      }
    });
    oks.push(`(${tests.join(' AND ')})`);
  }
  const adv = (k: number) => `(o[${k}] AND x.1 > acc.1[${k + 1}])`; // step k advances to this event
  const cur = ['acc.1[1]'];
  const prev = ['acc.2[1]'];
  const curP = ['acc.3[1]'];
  const prevP = ['acc.4[1]'];
  for (let k = 1; k < N; k++) {
    cur.push(`if(${adv(k)}, x.1, acc.1[${k + 1}])`);
    prev.push(`if(${adv(k)}, acc.1[${k + 1}], acc.2[${k + 1}])`);
    curP.push(`if(${adv(k)}, arrayPushBack(${predPath(k)}, x.1), acc.3[${k + 1}])`);
    prevP.push(`if(${adv(k)}, acc.3[${k + 1}], acc.4[${k + 1}])`);
  }
  const xc = E ? `[${plan.exclusions.map((_, j) => `if(bitTest(x.4, ${j}) AND x.1 > acc.5[${j + 1}], x.1, acc.5[${j + 1}])`).join(', ')}]` : 'acc.5';
  const xp = E ? `[${plan.exclusions.map((_, j) => `if(bitTest(x.4, ${j}) AND x.1 > acc.5[${j + 1}], acc.5[${j + 1}], acc.6[${j + 1}])`).join(', ')}]` : 'acc.6';
  const bestArms: string[] = [];
  for (let k = N - 1; k >= 1; k--) bestArms.push(`o[${k}] AND ${k} > acc.9.1`, `(${I(k)}, arrayPushBack(${predPath(k)}, x.1))`);
  const best = `multiIf(${bestArms.join(', ')}, acc.9)`;
  const step = `arrayMap(o -> (
      [${cur.join(', ')}], [${prev.join(', ')}], [${curP.join(', ')}], [${prevP.join(', ')}],
      ${xc}, ${xp}, if(x.1 > acc.7, x.1, acc.7), if(x.1 > acc.7, acc.7, acc.8), ${best}
    ), [[${oks.join(', ')}]])[1]`;
  const none = 'toInt64(-1)';
  const emptyPath = "CAST([], 'Array(Int64)')";
  const init = `(
      [${[t0, ...Array(N - 1).fill(none)].join(', ')}], arrayWithConstant(${N}, ${none}),
      [[${t0}], ${Array(N - 1).fill(emptyPath).join(', ')}], arrayWithConstant(${N}, ${emptyPath}),
      arrayWithConstant(${E}, ${none}), arrayWithConstant(${E}, ${none}), ${none}, ${none}, (toInt64(0), [${t0}]))`;
  return `arrayFold((acc, x) -> ${step}, ${evs}, ${init}).9`;
}

/**
 * Where an attempt's folds end. An exclusion spanning several steps (from_step → to_step ≥
 * from_step + 2) is tested at each gap of its span, which is what keeps one fold exact for
 * reaching `to_step`; but the steps inside the span still count when reached (the exclusion
 * only stops a path at `to_step`). So the steps before such a `to_step` are counted by a fold
 * that ends just before it, without that exclusion: one fold per such `to_step`, plus the
 * fold of every step. Without spanning exclusions this is the one fold it always was.
 */
export function foldEnds(plan: FunnelPlan): number[] {
  const ends = new Set([plan.steps.length - 1]);
  for (const x of plan.exclusions) if (x.to - x.from >= 2) ends.add(x.to - 1);
  return [...ends].sort((a, b) => a - b);
}

/**
 * The attempt's result over its folds: the furthest step, and the path of the fold whose
 * steps it falls in (the one ending first among those reaching it; a later fold reaching
 * the same step only ties it under more exclusions).
 */
function orderedAttempt(plan: FunnelPlan, t0: string, evs: string): string {
  const ends = foldEnds(plan);
  if (ends.length === 1) return orderedFold(plan, t0, evs);
  const folds = ends.map((last) => orderedFold(plan, t0, 'w', last));
  return `arrayMap(w -> arraySort((r, i) -> (-r.1, i), [${folds.join(', ')}], range(${ends.length}))[1], [${evs}])[1]`;
}

/** One attempt of an unordered funnel: (furthest step, sorted first times of the steps done). */
function unorderedAttempt(plan: FunnelPlan, t0: string): string {
  const N = plan.steps.length;
  const win = `arrayFilter(x -> x.1 >= ${t0} AND x.1 <= ${t0} + {window_ms:Int64}, ev)`;
  return `arrayMap(w -> arrayMap(done -> (toInt64(length(done)) - 1, arraySort(arrayMap(s -> w[arrayFirstIndex(x -> bitTest(x.3, s), w)].1, done))),
      [arrayFilter(s -> arrayExists(x -> bitTest(x.3, s), w), range(${N}))])[1], [${win}])[1]`;
}

/**
 * One row per unit (or per unit and breakdown value when `byBreakdown`): the furthest
 * step `K`, and the earliest attempt reaching it: its step-0 time `t0` and `path`, the
 * times (ms) of its steps 0…K.
 */
export function unitsSql(plan: FunnelPlan, eventsTable: string, opts: UnitsOptions): string {
  if (isPlainOrdered(plan)) return plainOrderedUnits(plan, baseScan(plan, eventsTable, opts, true), opts.byBreakdown, opts.passersOnly);
  const grouped = `
        SELECT unit, arraySort(x -> (x.1, x.2), groupArray((t, event_id, sm, xm, bd))) AS ev
        FROM (${baseScan(plan, eventsTable, opts)})
        GROUP BY unit
        -- only units with an anchor in [from, to) are walked at all
        HAVING countIf(${plan.order === 'unordered' ? 'sm != 0' : 'bitTest(sm, 0)'} AND t >= {from_ms:Int64} AND t < {to_ms:Int64}) > 0`;
  const anchorTest = plan.order === 'unordered' ? 'ev[i].3 != 0' : 'bitTest(ev[i].3, 0)';
  const t0 = 'ev[i].1';
  const attempt =
    plan.order === 'unordered'
      ? unorderedAttempt(plan, t0)
      : orderedAttempt(
          plan,
          t0,
          // outside strict, an event that matches neither a later step nor an exclusion cannot change the walk
          `arrayFilter(x -> x.1 <= ${t0} + {window_ms:Int64}${plan.order === 'strict' ? '' : ` AND (bitAnd(x.3, ${2 ** plan.steps.length - 2}) != 0 OR x.4 != 0)`}, arraySlice(ev, i + 1))`,
        );
  return `
    SELECT ${opts.byBreakdown ? 'unit, r.2 AS bd' : "unit, '' AS bd"}, max(r.3.1) AS K, argMin(r.3.2, (-r.3.1, r.1)) AS path, argMin(r.1, (-r.3.1, r.1)) AS t0
    FROM (
      SELECT unit, arrayMap(i -> (${t0}, ev[i].5, ${attempt}),
                  arrayFilter(i -> ${anchorTest} AND ev[i].1 >= {from_ms:Int64} AND ev[i].1 < {to_ms:Int64}, arrayEnumerate(ev))) AS rs
      FROM (${grouped})
    )
    ARRAY JOIN rs AS r
    GROUP BY ${opts.byBreakdown ? 'unit, bd' : 'unit'}`;
}

/**
 * Whether `funnelSql` groups only the units that can pass step 0 (`UnitsOptions.passersOnly`):
 * plain ordered funnels counted without breakdown or department filter.
 */
export function groupsPassersOnly(plan: FunnelPlan, opts: UnitsOptions): boolean {
  return isPlainOrdered(plan) && !opts.byBreakdown && !opts.deptFilter;
}

/** Rows (bd, k, units, median_ms, avg_ms) per step index k. */
export function funnelSql(plan: FunnelPlan, eventsTable: string, opts: UnitsOptions): string {
  if (opts.passersOnly ?? groupsPassersOnly(plan, opts)) {
    // `anchored`, a scalar computed once: (units with an anchor, the hashes of those that can
    // pass step 0). Step 0 counts the former; steps ≥ 1 come from grouping the latter only.
    const column = plan.unit === 'user' ? 'user_id' : 'session_id';
    return `
  WITH (SELECT (countIf(am != 0), groupArrayIf(u, pass)) FROM (${anchoredUnits(plan, eventsTable, column)})) AS anchored
  SELECT '' AS bd, toUInt64(0) AS k, anchored.1 AS units, CAST(NULL, 'Nullable(Float64)') AS median_ms, CAST(NULL, 'Nullable(Float64)') AS avg_ms
  UNION ALL
  SELECT bd, kg.1 AS k, count() AS units, quantileExactInclusive(0.5)(kg.2) AS median_ms, avg(kg.2) AS avg_ms
  FROM (${unitsSql(plan, eventsTable, { ...opts, passersOnly: true })})
  ARRAY JOIN arrayMap(k -> (k, path[k + 1] - path[k]), range(1, toUInt64(K + 1))) AS kg
  GROUP BY bd, k`;
  }
  return `
  SELECT bd, kg.1 AS k, count() AS units,
         quantileExactInclusiveIf(0.5)(kg.2, kg.1 > 0) AS median_ms, avgIf(kg.2, kg.1 > 0) AS avg_ms
  FROM (${unitsSql(plan, eventsTable, opts)})
  ARRAY JOIN arrayMap(k -> (k, if(k = 0, toInt64(0), path[k + 1] - path[k])), range(toUInt64(K + 1))) AS kg
  GROUP BY bd, k
  ORDER BY bd, k`;
}

export function funnelParams(plan: FunnelPlan, departments: string[] | null): Record<string, unknown> {
  return {
    ...plan.params,
    types: plan.types,
    from_ms: plan.fromMs,
    to_ms: plan.toMs,
    until_ms: plan.toMs + plan.windowMs,
    window_ms: plan.windowMs,
    ...(isPlainOrdered(plan) ? plainOrderedParams(plan) : {}),
    ...(departments ? { departments } : {}),
  };
}
