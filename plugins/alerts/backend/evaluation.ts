/**
 * A round's evaluation: claim the rules that are due, answer their queries in as few shared
 * queries as their windows allow, step every instance through the state machine, and write
 * what changed in a handful of multi-row statements.
 *
 * The round shares its thread with the HTTP routes (embedded PostgreSQL runs each statement
 * on it), so it keeps its footprint there small: an instance that stays as it was is not
 * written again, the changes of a round go out in one statement per kind, and the round
 * yields to the event loop between slices of work (`slicer.ts`).
 */
import { metricsQueryRef, type TenantContext, type MetricsQueryDefinition as MetricsQuery, type MetricsSeries as Series } from '@orrery/plugin-sdk';
import { ACTIVE, initialState, step, type InstanceState, type Observation, type StateRule } from './stateMachine.ts';
import { publishPlatformEvent } from './platformEvents.ts';
import { changeObservations, thresholdObservations, ZERO_WHEN_MISSING, type GroupObservation } from './conditions.ts';
import { fingerprintOf, nextSlot, observe, phaseSlotAfter, renderTemplate, type RuleRow } from './engine.ts';
import { slicer, type Slicer } from './slicer.ts';

/** How many rule queries asked one by one run at once: ClickHouse work overlaps the others'. */
const CONCURRENCY = 4;
/**
 * Rows per statement: each statement holds the thread whole, so a round sends several short ones
 * rather than one long one, with a turn for the loop between them. At 200 a round's claim of ~170
 * rules was one statement of tens of milliseconds on the routes' thread (`scripts/bench/alertsShape.ts`).
 */
const CHUNK = 50;
/** rules per shared query: a round of a thousand due rules costs a few queries, none holding the thread long */
const BATCH = 250;
/**
 * A rule late by more than this (and by at least its interval) missed a whole slot: nothing was
 * evaluating (a stop, a restart). It is not caught up at once with every other such rule but takes
 * its own next slot, so a restart does not land every rule in the first round. The margin keeps a
 * slow round on a loaded machine from skipping a slot.
 */
const CATCH_UP_MARGIN_MS = 15_000;
/**
 * First evaluations (a rule created, edited or unpaused: due off its own phase) a round takes at
 * most. Beyond that, rules that came due together (created or unpaused in bulk) take their own
 * phase slot within one interval instead, so a thousand of them are not one burst of queries
 * beside the dashboards. A rule made alone is still evaluated at once; rules on their phase
 * are never deferred.
 */
const FIRST_EVALS_PER_ROUND = 50;

/** Whether `at` is one of the rule's own phase slots (where `nextSlot` puts it), not a first evaluation. */
const onPhase = (r: { id: string; interval_seconds: number }, at: Date) => phaseSlotAfter(r.id, r.interval_seconds, new Date(at.getTime() - 1)).getTime() === at.getTime();

/** What a rule saw this round: its groups' observations, or the error of its query; `ms` its share of the query time. */
interface Answer {
  observations: GroupObservation[];
  error: string | null;
  ms: number;
}

type InstanceRow = Record<string, unknown> & { rule_id: string; fingerprint: string };

/** Everything a round writes, gathered so that each kind goes out in one statement. */
interface RoundWrites {
  /** instance rows, by the columns their upsert sets (a transition also sets start/end and clears the acknowledgement) */
  upserts: { plain: Map<string, InstanceRow>; fired: Map<string, InstanceRow>; resolved: Map<string, InstanceRow> };
  deletes: Array<[string, string]>;
  history: Array<Record<string, unknown>>;
  routed: Array<{ rule: RuleRow; fingerprint: string; labels: Record<string, string>; value: number | null; state: string; status: 'firing' | 'resolved' }>;
}

const newWrites = (): RoundWrites => ({ upserts: { plain: new Map(), fired: new Map(), resolved: new Map() }, deletes: [], history: [], routed: [] });

const PLAIN_COLUMNS = ['labels', 'annotations', 'machine', 'state', 'routed_status', 'value', 'updated_at'];
const MERGE_COLUMNS = {
  plain: PLAIN_COLUMNS,
  fired: [...PLAIN_COLUMNS, 'starts_at', 'ends_at', 'acked_at', 'acked_by'],
  resolved: [...PLAIN_COLUMNS, 'ends_at', 'acked_at', 'acked_by'],
};

const sameList = (a: readonly unknown[] | undefined, b: readonly unknown[] | undefined) => (a ?? []).length === (b ?? []).length && (a ?? []).every((x, i) => x === b![i]);

/** The stored machine (jsonb: its keys come back reordered) against the new one. */
const sameMachine = (a: InstanceState, b: InstanceState) =>
  a.state === b.state && a.since === b.since && (a.active_since ?? null) === (b.active_since ?? null) && (a.value ?? null) === (b.value ?? null) && !!a.flapping === !!b.flapping && sameList(a.changes, b.changes);

const sameRecord = (a: Record<string, string> | null | undefined, b: Record<string, string>) => {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b).length && ka.every((k) => a![k] === b[k]);
};

const stateRuleOf = (rule: RuleRow): StateRule => ({
  condition: rule.condition,
  for_seconds: rule.for_seconds,
  keep_firing_for_seconds: rule.keep_firing_for_seconds,
  no_data: rule.no_data,
  on_error: rule.on_error,
  flapping: rule.flapping,
});

/**
 * Steps one rule's instances with what it saw and adds what changed to the round's writes.
 * Pure but for `writes`: an instance whose state, value and annotations stay as stored is left alone.
 */
export function planRule(rule: RuleRow, now: Date, existing: any[], answer: Pick<Answer, 'observations' | 'error'>, writes: RoundWrites) {
  const machineRule = stateRuleOf(rule);
  const { observations, error } = answer;
  const byFp = new Map<string, any>(existing.map((r: any) => [r.fingerprint, r]));
  const base = { alertname: rule.name, ...rule.labels };
  const seen = new Set<string>();
  const work: Array<{ labels: Record<string, string>; obs: Observation; rule: StateRule }> = [];
  if (error !== null) {
    // every known instance learns of the error; a rule that never produced one gets one without group labels
    const targets = existing.length ? existing.map((r: any) => r.labels as Record<string, string>) : [base];
    for (const labels of targets) work.push({ labels, obs: { kind: 'error', message: error }, rule: machineRule });
  } else {
    for (const o of observations) work.push({ labels: { ...base, ...o.group }, obs: o.obs, rule: machineRule });
    for (const o of work) seen.add(fingerprintOf(o.labels));
    // a group that disappeared from the answer: 0 for counts, else clear (a missing series resolves)
    for (const r of existing) {
      if (seen.has(r.fingerprint)) continue;
      const obs: Observation = !rule.query || ('measure' in rule.query && ZERO_WHEN_MISSING.has(rule.query.measure)) ? { kind: 'value', value: 0 } : { kind: 'nodata' };
      work.push({ labels: r.labels, obs, rule: { ...machineRule, no_data: 'ok' } });
    }
  }
  const t = now.getTime();
  for (const w of work) {
    const fp = fingerprintOf(w.labels);
    const prev = byFp.get(fp);
    const prevMachine: InstanceState = prev ? prev.machine : initialState(t);
    const s = step(w.rule, prevMachine, w.obs, t);
    const routed = s.next.flapping ? (prev?.routed_status ?? 'resolved') : ACTIVE.has(s.next.state) ? 'firing' : 'resolved';
    const prevRouted = prev?.routed_status ?? 'resolved';
    const value = w.obs.kind === 'value' ? w.obs.value : null;
    const annotations = Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, renderTemplate(v, w.labels, value)]));
    if (w.obs.kind === 'error') annotations.error = w.obs.message;
    if (!prev && s.next.state === 'normal') continue; // nothing to remember about a quiet group
    if (prev && s.next.state === 'normal' && prevRouted === 'resolved' && !seen.has(fp) && error === null) {
      writes.deletes.push([rule.id, fp]);
      continue;
    }
    const unchanged =
      prev &&
      routed === prevRouted &&
      prev.state === s.next.state &&
      (prev.value ?? null) === value &&
      sameMachine(prev.machine, s.next) &&
      sameRecord(prev.annotations, annotations);
    if (unchanged) continue; // the stored row already says all of it
    const row: InstanceRow = {
      rule_id: rule.id,
      fingerprint: fp,
      labels: JSON.stringify(w.labels),
      annotations: JSON.stringify(annotations),
      machine: JSON.stringify(s.next),
      state: s.next.state,
      routed_status: routed,
      value,
      updated_at: now,
    };
    const key = `${rule.id}|${fp}`;
    if (routed === 'firing' && prevRouted !== 'firing') writes.upserts.fired.set(key, { ...row, starts_at: now, ends_at: null, acked_at: null, acked_by: null });
    else if (routed === 'resolved' && prevRouted === 'firing') writes.upserts.resolved.set(key, { ...row, ends_at: now, acked_at: null, acked_by: null });
    else writes.upserts.plain.set(key, row);
    if (s.transitioned || s.next.flapping !== prevMachine.flapping) {
      writes.history.push({
        rule_id: rule.id,
        fingerprint: fp,
        kind: 'state',
        from_state: prevMachine.state,
        to_state: s.next.state,
        value,
        at: now,
        detail: JSON.stringify({ labels: w.labels, flapping: s.next.flapping, ...(w.obs.kind === 'error' ? { error: w.obs.message } : {}) }),
      });
    }
    if (routed !== prevRouted) writes.routed.push({ rule, fingerprint: fp, labels: w.labels, value, state: s.next.state, status: routed });
  }
}

/** Writes a round's changes: one statement per kind (and per CHUNK rows), the loop given a turn between them. */
async function writeRound(ctx: TenantContext, writes: RoundWrites, slice: Slicer) {
  for (const [kind, rows] of Object.entries(writes.upserts) as Array<[keyof RoundWrites['upserts'], Map<string, InstanceRow>]>) {
    const list = [...rows.values()];
    for (let i = 0; i < list.length; i += CHUNK) {
      await ctx.db.table('alert_instances').insert(list.slice(i, i + CHUNK)).onConflict(['rule_id', 'fingerprint']).merge(MERGE_COLUMNS[kind]);
      await slice.pause();
    }
  }
  for (let i = 0; i < writes.deletes.length; i += CHUNK) {
    await ctx.db.table('alert_instances').whereIn(['rule_id', 'fingerprint'], writes.deletes.slice(i, i + CHUNK)).delete();
    await slice.pause();
  }
  for (let i = 0; i < writes.history.length; i += CHUNK) {
    await ctx.db.table('alert_history').insert(writes.history.slice(i, i + CHUNK));
    await slice.pause();
  }
  // routing hears of a change only once the instance row says it
  for (const r of writes.routed) {
    await ctx.bus.publish('firing', { rule_id: r.rule.id, fingerprint: r.fingerprint, status: r.status });
    await publishPlatformEvent(ctx, r.status === 'firing' ? 'alert.firing' : 'alert.resolved', { rule_id: r.rule.id, rule_name: r.rule.name, fingerprint: r.fingerprint, labels: r.labels, value: r.value, state: r.state });
    await slice.pause();
  }
}

const isEventQuery = (r: RuleRow): r is RuleRow & { query: MetricsQuery } => !!r.query && !('source' in r.query) && !r.source;

/**
 * The answers of the round's rules. Threshold and change rules with the same window and
 * department scope share one ClickHouse query per event type and grouping over the current
 * window (`runBatch`), and change rules one more over the window before it; what a change rule
 * compares is computed from the two exactly as `observe` does. Metric sources, signals and
 * anomaly rules (bucketed series) are asked one by one, a few at a time.
 */
async function answerRound(ctx: TenantContext, rules: RuleRow[], now: Date, slice: Slicer): Promise<Map<string, Answer>> {
  const answers = new Map<string, Answer>();
  const batches = new Map<string, Array<RuleRow & { query: MetricsQuery }>>();
  for (const r of rules) {
    const kind = r.condition.kind ?? 'threshold';
    if (!isEventQuery(r) || (kind !== 'threshold' && kind !== 'change' && kind !== 'change_percent')) continue;
    const key = JSON.stringify([r.window_seconds, r.department_scope ?? null]);
    batches.set(key, [...(batches.get(key) ?? []), r]);
  }
  // building a batch's SQL is synchronous work on this thread: a thousand rules go in a few batches, with a turn for the loop between them
  const parts = [...batches.values()].flatMap((b) => Array.from({ length: Math.ceil(b.length / BATCH) }, (_, i) => b.slice(i * BATCH, (i + 1) * BATCH)));
  const t = now.getTime();
  for (const batch of parts) {
    await slice.pause();
    const started = performance.now();
    try {
      const first = batch[0]!;
      const w = first.window_seconds * 1000;
      // a round's reads wait on nobody: one ClickHouse thread each, the other core stays with the dashboards
      const opts = { departments: first.department_scope, background: true };
      const metrics = await ctx.services.get(metricsQueryRef);
      // rules asking the same question are answered once by the metrics service (runBatch)
      const changing = batch.filter((r) => (r.condition.kind ?? 'threshold') !== 'threshold');
      const [current, previous] = await Promise.all([
        metrics.runBatch(batch.map((r) => r.query), { from: new Date(t - w), to: now }, opts),
        changing.length ? metrics.runBatch(changing.map((r) => r.query), { from: new Date(t - 2 * w), to: new Date(t - w) }, opts) : Promise.resolve([] as Series[][]),
      ]);
      const ms = (performance.now() - started) / batch.length;
      const previousOf = new Map(changing.map((r, i) => [r.id, previous[i]!]));
      for (const [i, r] of batch.entries()) {
        const kind = r.condition.kind ?? 'threshold';
        const cur = current[i]!;
        const observations = kind === 'threshold' ? thresholdObservations(cur) : changeObservations(r.query.measure, cur, previousOf.get(r.id)!, kind === 'change_percent');
        answers.set(r.id, { observations, error: null, ms });
      }
    } catch {
      // one bad query must not fail the others: those rules are asked one by one below
    }
  }
  const alone = rules.filter((r) => !answers.has(r.id));
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, alone.length) }, async () => {
      while (next < alone.length) {
        const rule = alone[next++]!;
        const started = performance.now();
        try {
          answers.set(rule.id, { observations: await observe(ctx, rule, now), error: null, ms: performance.now() - started });
        } catch (err) {
          answers.set(rule.id, { observations: [], error: (err as Error).message.slice(0, 1000), ms: performance.now() - started });
        }
      }
    }),
  );
  return answers;
}

/**
 * Claims the due rules: each moves to its next slot in `UPDATE … WHERE next_eval_at <= now`
 * statements (CHUNK rules each), so two nodes never evaluate a rule twice. Returns the rules to evaluate now; a rule
 * that missed a whole slot (CATCH_UP_MARGIN_MS), or a first evaluation beyond the round's
 * share (FIRST_EVALS_PER_ROUND), is only moved to its next one.
 */
async function claimDue(ctx: TenantContext, now: Date, slice: Slicer): Promise<RuleRow[]> {
  // only what the claim needs: the rules themselves come back from the claiming statements, CHUNK at a time
  const due: Array<Pick<RuleRow, 'id' | 'interval_seconds' | 'next_eval_at'>> = await ctx.db
    .table('alert_rules')
    .where({ paused: false })
    .whereNull('deleted_at')
    .andWhere('next_eval_at', '<=', now)
    .orderBy('next_eval_at')
    .limit(5000)
    .select('id', 'interval_seconds', 'next_eval_at');
  await slice.pause();
  const t = now.getTime();
  // moved to their own next slot without an evaluation now: those that missed a whole slot, and first evaluations beyond the round's share (the oldest keep their turn)
  const deferred = new Set(due.filter((r) => t - new Date(r.next_eval_at).getTime() >= Math.max(r.interval_seconds * 1000, CATCH_UP_MARGIN_MS)).map((r) => r.id));
  const first = due.filter((r) => !deferred.has(r.id) && !onPhase(r, new Date(r.next_eval_at)));
  for (const r of first.slice(FIRST_EVALS_PER_ROUND)) deferred.add(r.id);
  const nextOf = (r: (typeof due)[number]) => (deferred.has(r.id) ? phaseSlotAfter(r.id, r.interval_seconds, now) : nextSlot(r.id, r.interval_seconds, now));
  const claimed: RuleRow[] = [];
  // one statement per CHUNK rules, each moved to its own slot: rules have their own phases, so one statement per slot would be
  // one per rule. The slots are a joined VALUES list (a hash join), not `CASE id WHEN …` (every row tests every branch)
  for (let i = 0; i < due.length; i += CHUNK) {
    const chunk = due.slice(i, i + CHUNK);
    const res = await ctx.db.raw(
      `UPDATE ??.alert_rules AS r SET next_eval_at = v.slot FROM (VALUES ${chunk.map(() => '(?::uuid, ?::timestamptz)').join(', ')}) AS v(id, slot)
         WHERE r.id = v.id AND r.paused = false AND r.next_eval_at <= ? RETURNING r.*`,
      [ctx.db.schema, ...chunk.flatMap((r) => [r.id, nextOf(r)]), now],
    );
    const got = (res as { rows: RuleRow[] }).rows;
    claimed.push(...got.filter((r) => !deferred.has(r.id)));
    await slice.pause();
  }
  return claimed;
}

/**
 * Evaluates every rule that is due; returns each evaluation's query time (ms, a shared query's
 * time divided among its rules).
 */
export async function evaluateDue(ctx: TenantContext, now = new Date()) {
  const slice = slicer();
  const rules = await claimDue(ctx, now, slice);
  if (!rules.length) return [];
  const instances = new Map<string, any[]>();
  for (let i = 0; i < rules.length; i += CHUNK) {
    for (const row of await ctx.db.table('alert_instances').whereIn('rule_id', rules.slice(i, i + CHUNK).map((r) => r.id)))
      instances.set(row.rule_id, [...(instances.get(row.rule_id) ?? []), row]);
    await slice.pause();
  }
  const answers = await answerRound(ctx, rules, now, slice);
  const writes = newWrites();
  for (const rule of rules) {
    planRule(rule, now, instances.get(rule.id) ?? [], answers.get(rule.id)!, writes);
    await slice.pause();
  }
  await writeRound(ctx, writes, slice);
  const runs = rules.map((r) => ({ rule_id: r.id, last_eval_at: now, last_eval_ms: Math.round(answers.get(r.id)!.ms), last_error: answers.get(r.id)!.error }));
  for (let i = 0; i < runs.length; i += CHUNK) {
    await ctx.db.table('alert_rule_runs').insert(runs.slice(i, i + CHUNK)).onConflict('rule_id').merge();
    await slice.pause();
  }
  return runs.map((r) => r.last_eval_ms);
}
