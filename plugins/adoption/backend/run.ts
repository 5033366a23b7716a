/**
 * One scoring run for one org and one day: read features, score, rank within
 * departments, store (one row per user per day, so a rerun overwrites), then —
 * for the current day — raise, update or resolve needs-support flags, assign
 * interventions, notify, and record expertise moves. Every write is keyed so
 * that running the same day twice, or after a crash, leaves the same state.
 */
import type { TenantContext } from '@orrery/plugin-sdk';
import { loadDirectory, managersOf, type Directory } from './directory.ts';
import { emptyFeatures, readFeatures } from './features.ts';
import { classify, components, departmentPercentiles, expertiseReasons, KINDS, scoreOf, triggers, usageBaselines, type Kind, type Signal, type UserFeatures } from './score.ts';
import { loadSettings, type AdoptionSettings } from './settings.ts';

export interface RunOptions {
  /** UTC day, YYYY-MM-DD */
  day: string;
  /** only these users (the near-real-time path); null = everyone */
  users: string[] | null;
  /** evaluate flags and expertise (the current day, or a replayed timeline) */
  flags: boolean;
  notify: boolean;
  /**
   * raised flags wait for an Admin's confirmation before anyone is notified
   * (`POST /flags/confirm`): flags of a back-fill, or of a threshold change
   */
  hold?: 'backfill' | 'thresholds';
  /** end of the scored period; default: now for today, else the end of the day */
  end?: Date;
}

export interface RunResult {
  day: string;
  scored: number;
  raised: number;
  updated: number;
  resolved: number;
  notified: number;
  /** raised flags waiting for an Admin's confirmation before notifying */
  held: number;
  experts: number;
  ms: { features: number; score: number; store: number; flags: number };
}

export const today = () => new Date().toISOString().slice(0, 10);
export const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

/**
 * Scores and needs-support signals of one day under the given settings, without
 * writing anything (the scoring run stores them; the settings preview counts them).
 */
export async function evaluateDay(ctx: TenantContext, s: AdoptionSettings, dir: Directory, opts: Pick<RunOptions, 'day' | 'users' | 'end'>) {
  const end = opts.end ?? (opts.day === today() ? new Date() : new Date(`${addDays(opts.day, 1)}T00:00:00Z`));
  const { features, activeEvents } = await readFeatures(ctx, end, s.windowDays, opts.users);
  const t1 = performance.now();

  const byUser = new Map(features.map((f) => [f.user_id, f]));
  const universe = opts.users ?? [...new Set([...byUser.keys(), ...dir.members.keys()])];
  const all: UserFeatures[] = universe.map((u) => byUser.get(u) ?? emptyFeatures(u));
  const scored = all.map((f) => {
    const c = components(f.now, s);
    const before = components(f.before, s);
    const departments = dir.departmentsOf.get(f.user_id) ?? f.departments;
    return { f, c, score: scoreOf(c), scoreBefore: scoreOf(before), departments };
  });

  // percentiles need the whole department: peers scored earlier today come from the store
  const fresh = new Set(scored.map((x) => x.f.user_id));
  const peers = opts.users
    ? ((await ctx.db.table('adoption_scores').where({ day: opts.day }).select('user_id', 'score', 'departments')) as Array<{ user_id: string; score: number; departments: string[] }>).filter(
        (p) => !fresh.has(p.user_id),
      )
    : [];
  const pct = departmentPercentiles([...scored.map((x) => ({ user_id: x.f.user_id, score: x.score, departments: x.departments })), ...peers.map((p) => ({ ...p, score: Number(p.score) }))]);
  const usage = usageBaselines(
    scored.map((x) => ({ user_id: x.f.user_id, departments: x.departments })),
    activeEvents,
    (u) => dir.departmentsOf.get(u) ?? byUser.get(u)?.departments ?? [],
    s.thresholds.usageBaseline,
  );
  const evaluated: Evaluated[] = scored.map((x) => {
    const signals = triggers(x.f, x.score, x.scoreBefore, pct.get(x.f.user_id) ?? {}, usage.get(x.f.user_id)!, s);
    return { user_id: x.f.user_id, score: x.score, departments: x.departments, signals, f: x.f, ...classify(signals, x.f) };
  });
  return { scored, pct, evaluated, featuresMs: t1 };
}

/** How many of the org's scored people the given settings flag today, by kind (the settings preview). */
export async function previewFlags(ctx: TenantContext, s: AdoptionSettings) {
  const dir = await loadDirectory(ctx);
  const { evaluated } = await evaluateDay(ctx, s, dir, { day: today(), users: null });
  const flagged = evaluated.filter((e) => e.signals.length);
  const by_kind = Object.fromEntries(KINDS.map((k) => [k, flagged.filter((e) => e.kind === k).length])) as Record<Kind, number>;
  return { day: today(), people: evaluated.length, flagged: flagged.length, by_kind };
}

export async function scoreDay(ctx: TenantContext, opts: RunOptions): Promise<RunResult> {
  const t0 = performance.now();
  const s = await loadSettings(ctx);
  const dir = await loadDirectory(ctx);
  const { scored, pct, evaluated, featuresMs: t1 } = await evaluateDay(ctx, s, dir, opts);
  const t2 = performance.now();

  const rows = scored.map((x) => {
    const p = pct.get(x.f.user_id) ?? {};
    const first = x.departments.find((d) => p[d]) ?? null;
    return {
      user_id: x.f.user_id,
      day: opts.day,
      score: x.score,
      frequency: x.c.frequency,
      diversity: x.c.diversity,
      success: x.c.success,
      workflow: x.c.workflow,
      percentile: first ? p[first]!.percentile : null,
      departments: JSON.stringify(x.departments),
      // what the score was computed from, for drill-down; the departments and percentiles have their own columns
      features: JSON.stringify({ now: x.f.now, before: x.f.before, commands: x.f.commands, score_7_days_ago: x.scoreBefore, percentiles: p }),
      computed_at: new Date(),
    };
  });
  for (let i = 0; i < rows.length; i += 500) {
    await ctx.db.table('adoption_scores').insert(rows.slice(i, i + 500)).onConflict(['user_id', 'day']).merge();
  }
  const t3 = performance.now();

  const result: RunResult = { day: opts.day, scored: rows.length, raised: 0, updated: 0, resolved: 0, notified: 0, held: 0, experts: 0, ms: { features: 0, score: 0, store: 0, flags: 0 } };
  if (opts.flags) {
    await evaluateFlags(ctx, s, dir, opts, evaluated, result);
    await recordExpertise(ctx, s, opts, evaluated, result);
  }
  const t4 = performance.now();
  result.ms = { features: Math.round(t1 - t0), score: Math.round(t2 - t1), store: Math.round(t3 - t2), flags: Math.round(t4 - t3) };
  // scores, flags and expertise rows were written: remembered answers that read them are stale
  if (result.scored || result.raised || result.updated || result.resolved || result.notified || result.experts) ctx.answersChanged();
  await ctx.bus.publish('scores', { day: opts.day, scored: result.scored, raised: result.raised, resolved: result.resolved });
  return result;
}

interface Evaluated {
  user_id: string;
  score: number;
  departments: string[];
  signals: Signal[];
  f: UserFeatures;
  kind: Kind;
  kinds: Kind[];
  severity: number;
  level: 'high' | 'medium' | 'low';
}

async function evaluateFlags(ctx: TenantContext, s: AdoptionSettings, dir: Directory, opts: RunOptions, evaluated: Evaluated[], result: RunResult) {
  const ids = evaluated.map((e) => e.user_id);
  const open = new Map<string, { id: string; triggers: string[]; latest_triggers: string[] | null }>();
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = (await ctx.db.table('adoption_flags').where({ status: 'open' }).whereIn('user_id', ids.slice(i, i + 1000)).select('id', 'user_id', 'triggers', 'latest_triggers')) as Array<{ id: string; user_id: string; triggers: string[]; latest_triggers: string[] | null }>;
    for (const r of rows) open.set(r.user_id, r);
  }
  const raised: Array<{ flagId: string; e: Evaluated }> = [];
  const toRaise: Array<{ id: string; e: Evaluated }> = [];
  const toUpdate: Array<{ id: string; e: Evaluated; before: string[] }> = [];
  const toResolve: Array<{ id: string; e: Evaluated }> = [];
  for (const e of evaluated) {
    const current = open.get(e.user_id);
    if (e.signals.length && !current) toRaise.push({ id: globalThis.crypto.randomUUID(), e });
    else if (e.signals.length && current) toUpdate.push({ id: current.id, e, before: current.latest_triggers ?? current.triggers });
    else if (!e.signals.length && current) toResolve.push({ id: current.id, e });
  }
  // batched writes: a large org raises or updates thousands of flags in one run
  for (let i = 0; i < toRaise.length; i += 500) {
    const batch = toRaise.slice(i, i + 500);
    // DO NOTHING (no target) also covers the partial unique index: a racing run's open flag wins
    const ins = (await ctx.db
      .table('adoption_flags')
      .insert(
        batch.map(({ id, e }) => ({
          id,
          user_id: e.user_id,
          status: 'open',
          raised_day: opts.day,
          triggers: JSON.stringify(e.signals.map((x) => x.trigger)),
          signals: JSON.stringify(e.signals),
          departments: JSON.stringify(e.departments),
          kind: e.kind,
          severity: e.severity,
          pending: opts.hold ?? null,
        })),
      )
      .onConflict()
      .ignore()
      .returning('id')) as Array<{ id: string }>;
    const ok = new Set(ins.map((r) => r.id));
    for (const r of batch) if (ok.has(r.id)) raised.push({ flagId: r.id, e: r.e });
  }
  result.raised = raised.length;
  for (let i = 0; i < toUpdate.length; i += 500) {
    const batch = toUpdate.slice(i, i + 500);
    await ctx.db.raw(
      `UPDATE ??.adoption_flags AS f SET latest_triggers = v.t::jsonb, latest_signals = v.s::jsonb, kind = v.k, severity = v.sev::float8, updated_at = now()
         FROM (VALUES ${batch.map(() => '(?, ?, ?, ?, ?)').join(', ')}) AS v(id, t, s, k, sev) WHERE f.id = v.id::uuid`,
      [ctx.db.schema, ...batch.flatMap(({ id, e }) => [id, JSON.stringify(e.signals.map((x) => x.trigger)), JSON.stringify(e.signals), e.kind, String(e.severity)])],
    );
  }
  result.updated = toUpdate.length;
  await suggestForNewTriggers(ctx, opts.day, toUpdate);
  for (let i = 0; i < toResolve.length; i += 500) {
    const batch = toResolve.slice(i, i + 500);
    await ctx.db.table('adoption_flags').whereIn('id', batch.map((r) => r.id)).where({ status: 'open' }).update({ status: 'resolved', resolved_day: opts.day, resolved_at: new Date(), updated_at: new Date() });
    for (const { id, e } of batch) await ctx.bus.publish('flags', { kind: 'resolved', flag_id: id, user_id: e.user_id, day: opts.day });
  }
  result.resolved = toResolve.length;
  if (!raised.length) return;
  const interventions = await enabledInterventions(ctx);
  const paths = new Map<string, typeof interventions>();
  const assignments: Array<Record<string, unknown>> = [];
  for (const { flagId, e } of raised) {
    const names = new Set<string>(e.signals.map((x) => x.trigger));
    const path = interventions.filter((i) => i.triggers.some((t) => names.has(t)));
    paths.set(flagId, path);
    for (const i of path) assignments.push({ id: globalThis.crypto.randomUUID(), flag_id: flagId, user_id: e.user_id, intervention_id: i.id, assigned_day: opts.day });
  }
  for (let i = 0; i < assignments.length; i += 500)
    await ctx.db.table('adoption_assignments').insert(assignments.slice(i, i + 500)).onConflict(['flag_id', 'intervention_id']).ignore();
  for (const { flagId, e } of raised) {
    const names = new Set(e.signals.map((x) => x.trigger));
    const path = paths.get(flagId)!;
    const flag = { kind: 'raised', flag_id: flagId, user_id: e.user_id, day: opts.day, score: e.score, triggers: [...names], signals: e.signals, support_kind: e.kind, severity: e.severity, pending: opts.hold ?? null };
    await ctx.bus.publish('flags', flag);
    for (const d of e.departments) await ctx.bus.publish('flags', flag, { kind: 'department', id: d });
    if (opts.hold) result.held++;
    else if (opts.notify) {
      const delivered = await notifyFlag(ctx, s, dir, e, path);
      await ctx.db.table('adoption_flags').where({ id: flagId }).update({ notifications: JSON.stringify(delivered) });
      result.notified++;
    }
  }
}

function enabledInterventions(ctx: TenantContext) {
  return ctx.db.table('adoption_interventions').where({ enabled: true }).orderBy('position').select('id', 'title', 'url', 'kind', 'triggers') as Promise<
    Array<{ id: string; title: string; url: string | null; kind: string; triggers: string[] }>
  >;
}

/**
 * An open flag whose run finds a trigger it did not see last time (a user flagged as not started
 * who now fails too often) gets the steps that answer it, on their learning path from this day.
 * Steps already suggested for the flag stay as they are (one per flag and intervention); nobody is
 * notified again: the flag is the same.
 */
async function suggestForNewTriggers(ctx: TenantContext, day: string, updated: Array<{ id: string; e: Evaluated; before: string[] }>) {
  const grown = updated.filter(({ e, before }) => e.signals.some((x) => !before.includes(x.trigger)));
  if (!grown.length) return;
  const interventions = await enabledInterventions(ctx);
  const rows: Array<Record<string, unknown>> = [];
  for (const { id, e, before } of grown) {
    const fresh = new Set<string>(e.signals.map((x) => x.trigger).filter((t) => !before.includes(t)));
    for (const i of interventions) if (i.triggers.some((t) => fresh.has(t))) rows.push({ id: globalThis.crypto.randomUUID(), flag_id: id, user_id: e.user_id, intervention_id: i.id, assigned_day: day });
  }
  for (let i = 0; i < rows.length; i += 500) await ctx.db.table('adoption_assignments').insert(rows.slice(i, i + 500)).onConflict(['flag_id', 'intervention_id']).ignore();
}

/**
 * Sends the notifications of flags held for confirmation (raised by a back-fill or a
 * threshold change) and clears their hold; `ids` null confirms every held flag.
 * With `notify` false the hold is cleared without notifying anyone. Flags resolved
 * meanwhile are released without a notification: there is nothing left to act on.
 */
export async function confirmFlags(ctx: TenantContext, ids: string[] | null, notify: boolean) {
  const s = await loadSettings(ctx);
  const dir = await loadDirectory(ctx);
  let q = ctx.db.table('adoption_flags').whereNotNull('pending');
  if (ids) q = q.whereIn('id', ids);
  const rows = (await q.select('id', 'user_id', 'status', 'signals', 'departments', 'kind', 'severity')) as Array<{ id: string; user_id: string; status: string; signals: Signal[]; departments: string[] }>;
  let notified = 0;
  if (rows.length && notify) {
    const interventions = (await ctx.db.table('adoption_interventions').where({ enabled: true }).orderBy('position').select('title', 'url', 'triggers')) as Array<{ title: string; url: string | null; triggers: string[] }>;
    for (const r of rows.filter((x) => x.status === 'open')) {
      const names = new Set<string>(r.signals.map((x) => x.trigger));
      const path = interventions.filter((i) => i.triggers.some((t) => names.has(t)));
      const latest = (await ctx.db.table('adoption_scores').where({ user_id: r.user_id }).orderBy('day', 'desc').first('score')) as { score: number } | undefined;
      const e = { user_id: r.user_id, score: Number(latest?.score ?? 0), departments: r.departments, signals: r.signals };
      const delivered = await notifyFlag(ctx, s, dir, e, path);
      await ctx.db.table('adoption_flags').where({ id: r.id }).update({ notifications: JSON.stringify(delivered), pending: null, updated_at: new Date() });
      notified++;
    }
  }
  const released = rows.map((r) => r.id);
  for (let i = 0; i < released.length; i += 1000) await ctx.db.table('adoption_flags').whereIn('id', released.slice(i, i + 1000)).update({ pending: null, updated_at: new Date() });
  if (rows.length) ctx.answersChanged();
  return { confirmed: rows.length, notified };
}

const BASELINE_TEXT: Record<string, string> = { org_mean: 'org average', org_median: 'org median', department_mean: 'department average', department_median: 'department median' };
const SIGNAL_TEXT: Record<string, (s: Signal) => string> = {
  low_score: (s) => `adoption score ${s.value} is under ${s.threshold}`,
  bottom_of_department: (s) => `in the bottom ${s.threshold}% of the department (percentile ${s.value} of ${s.department_size})`,
  score_drop: (s) => `score fell ${s.value}% in a week (from ${s.score_7_days_ago} to ${s.score})`,
  error_rate_24h: (s) => `${Math.round(s.value * 100)}% of the last 24 hours' attempts failed (${s.failures} of ${s.attempts})`,
  low_usage: (s) =>
    `${s.value} events in the window, more than ${s.percent_below_average}% below the ${BASELINE_TEXT[String(s.baseline ?? 'org_mean')] ?? 'org average'} of ${Math.round(Number(s.baseline_events ?? s.org_average_events))}`,
  limited_commands: (s) => `${s.value} distinct commands used (expected at least ${s.threshold})`,
  error_rate: (s) => `error rate ${Math.round(s.value * 100)}% over the window (threshold ${Math.round(s.threshold * 100)}%)`,
  workflow_failures: (s) => `${s.value} workflows failed or left unfinished`,
};
export const describeSignal = (s: Signal) => (SIGNAL_TEXT[s.trigger] ?? ((x: Signal) => `${x.trigger}: ${x.value}`))(s);

async function notifyFlag(ctx: TenantContext, s: AdoptionSettings, dir: Directory, e: Pick<Evaluated, 'user_id' | 'score' | 'signals'>, path: Array<{ title: string; url: string | null }>) {
  const who = dir.members.get(e.user_id);
  const name = who?.display_name || who?.email || e.user_id;
  const reasons = e.signals.map((x) => `- ${describeSignal(x)}`).join('\n');
  const steps = path.map((p) => `- ${p.title}${p.url ? ` (${p.url})` : ''}`).join('\n');
  const data = { plugin: 'adoption', user_id: e.user_id, score: e.score, triggers: e.signals.map((x) => x.trigger), signals: e.signals };
  const delivered: unknown[] = [];
  if (s.notify.user && who) {
    const r = await ctx.notify.send({
      orgId: ctx.org.id,
      to: [e.user_id],
      subject: 'A learning path to get more out of your AI tools',
      text: `Hi ${name},\n\nWe noticed:\n${reasons}\n\nSuggested next steps:\n${steps || '- your manager will get in touch'}`,
      channels: s.notify.channels.filter((c) => c !== 'slack'),
      link: '/adoption/learning-path',
      data,
    });
    delivered.push(...r.delivered.map((d) => ({ ...d, audience: 'user' })));
  }
  const managers = s.notify.managers ? managersOf(dir, e.user_id).filter((m) => dir.members.has(m)) : [];
  if (managers.length || (s.notify.managers && s.notify.channels.includes('slack'))) {
    const r = await ctx.notify.send({
      orgId: ctx.org.id,
      to: managers,
      subject: `${name} may need support with AI tools`,
      text: `${name} (score ${e.score}) was flagged as needing support:\n${reasons}\n\nSuggested interventions:\n${steps || '- none configured'}`,
      channels: s.notify.channels,
      link: `/adoption/users/${e.user_id}`,
      data,
    });
    delivered.push(...r.delivered.map((d) => ({ ...d, audience: 'managers' })));
  }
  return delivered;
}

async function recordExpertise(ctx: TenantContext, s: AdoptionSettings, opts: RunOptions, evaluated: Evaluated[], result: RunResult) {
  const ids = evaluated.map((e) => e.user_id);
  const already = new Set<string>();
  for (let i = 0; i < ids.length; i += 1000)
    for (const r of (await ctx.db.table('adoption_expertise').whereIn('user_id', ids.slice(i, i + 1000)).select('user_id')) as Array<{ user_id: string }>) already.add(r.user_id);
  const candidates = evaluated.filter((e) => !already.has(e.user_id));
  if (!candidates.length) return;
  // days in the streak ending today with a score over the bar (stored history; the run just wrote today)
  const first = addDays(opts.day, -(s.expertise.consecutiveDays - 1));
  const streak = new Map<string, number>();
  const cids = candidates.filter((c) => c.score > s.expertise.scoreOver).map((c) => c.user_id);
  for (let i = 0; i < cids.length; i += 1000) {
    const rows = (await ctx.db
      .table('adoption_scores')
      .whereIn('user_id', cids.slice(i, i + 1000))
      .where('day', '>=', first)
      .where('day', '<=', opts.day)
      .where('score', '>', s.expertise.scoreOver)
      .groupBy('user_id')
      .select('user_id')
      .count({ n: '*' })) as Array<{ user_id: string; n: string | number }>;
    for (const r of rows) streak.set(r.user_id, Number(r.n));
  }
  const moves = candidates.map((c) => ({ c, reasons: expertiseReasons(c.f, streak.get(c.user_id) ?? 0, s) })).filter((m) => m.reasons.length);
  const recorded = new Set<string>();
  for (let i = 0; i < moves.length; i += 500) {
    const ins = (await ctx.db
      .table('adoption_expertise')
      .insert(moves.slice(i, i + 500).map((m) => ({ user_id: m.c.user_id, day: opts.day, reasons: JSON.stringify(m.reasons) })))
      .onConflict('user_id')
      .ignore()
      .returning('user_id')) as Array<{ user_id: string }>;
    for (const r of ins) recorded.add(r.user_id);
  }
  for (const { c, reasons } of moves) {
    if (!recorded.has(c.user_id)) continue;
    result.experts++;
    await ctx.bus.publish('expertise', { user_id: c.user_id, day: opts.day, reasons });
    if (opts.notify)
      await ctx.notify.send({
        orgId: ctx.org.id,
        to: [c.user_id],
        subject: 'You are now an AI expert in your organisation',
        text: `Congratulations: ${reasons.map((r) => `${r.criterion.replace(/_/g, ' ')} (${r.value} ≥ ${r.threshold})`).join('; ')}.`,
        channels: ['in_app'],
        data: { plugin: 'adoption', expertise: reasons },
      });
  }
}
