/**
 * Saved cohorts: static ones (a list of user ids, or a CSV) and dynamic ones
 * whose members are the users meeting every behavioural criterion at a moment
 * (`as_of`), computed in ClickHouse over the org's events. A recomputation
 * replaces the members and records who joined and who left.
 *
 * `membersOf` is the cohort filter other features use: today retention and
 * spend; once the SDK's cohort-filter contract lands it is what this plugin
 * registers (see README).
 */
import { randomUUID } from 'node:crypto';
import { EVENT_TYPE_BY_NAME, badRequest, notFound, userScoreRef, type Role, type TenantContext } from '@orrery/plugin-sdk';
import { COHORTS, HISTORY, MEMBERS } from './store.ts';

const DAY = 86_400_000;

export type Criterion =
  /** did `event_type` at least `min_count` times in the last `days` days */
  | { kind: 'performed'; event_type: string; min_count: number; days: number }
  /** did `event_type` for the first time ever within the last `days` days */
  | { kind: 'first_time'; event_type: string; days: number }
  /** did it in at least `min_periods` of the last `of_periods` windows of `period_days` days */
  | { kind: 'regularly'; event_type: string; period_days: number; min_periods: number; of_periods: number }
  /** did it in the `prior_days` before the last `days` days, and not in the last `days` days */
  | { kind: 'stopped'; event_type: string; days: number; prior_days: number }
  /** did it in the last `days` days, not in the `gap_days` before those, and at some time before the gap */
  | { kind: 'restarted'; event_type: string; days: number; gap_days: number }
  /** has one of these roles in the org now (the directory's) */
  | { kind: 'role'; roles: Role[] }
  /** adoption score (through the SDK's `userScoreRef`) in [min, max] on the latest scored day at or before the evaluation's UTC day */
  | { kind: 'score_band'; min: number; max: number };

type EventCriterion = Exclude<Criterion, { kind: 'role' } | { kind: 'score_band' }>;
const isEventCriterion = (c: Criterion): c is EventCriterion => c.kind !== 'role' && c.kind !== 'score_band';

export interface CohortRecord {
  id: string;
  name: string;
  description: string;
  kind: 'static' | 'dynamic';
  criteria: Criterion[];
  department_id: string | null;
  size: number;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  computed_at: string | null;
}

const int = (min: number, max: number, description: string) => ({ type: 'integer', minimum: min, maximum: max, description });
const eventTypeProp = { type: 'string', minLength: 1, maxLength: 64, description: 'an event type, or `any`' };

export const criterionSchema = {
  type: 'object',
  required: ['kind'],
  additionalProperties: false,
  properties: {
    kind: { type: 'string', enum: ['performed', 'first_time', 'regularly', 'stopped', 'restarted', 'role', 'score_band'] },
    event_type: eventTypeProp,
    min_count: int(1, 1_000_000, 'performed: at least this many events'),
    days: int(1, 3650, 'the most recent window, in days'),
    period_days: int(1, 365, 'regularly: the length of one window'),
    min_periods: int(1, 366, 'regularly: windows with the event needed'),
    of_periods: int(1, 366, 'regularly: windows looked at'),
    prior_days: int(1, 3650, 'stopped: the window before the recent one in which they were active'),
    gap_days: int(1, 3650, 'restarted: the quiet window before the recent one'),
    roles: { type: 'array', minItems: 1, maxItems: 3, uniqueItems: true, items: { type: 'string', enum: ['Admin', 'Manager', 'Developer'] }, description: 'role: any of these roles' },
    min: { type: 'number', minimum: 0, maximum: 100, description: 'score_band: lowest score (inclusive)' },
    max: { type: 'number', minimum: 0, maximum: 100, description: 'score_band: highest score (inclusive)' },
  },
} as const;

/** Checks what JSON schema cannot say (which fields each kind needs); names the bad field. */
export function checkCriteria(criteria: unknown[]): Criterion[] {
  const need: Record<Criterion['kind'], string[]> = {
    performed: ['min_count', 'days'],
    first_time: ['days'],
    regularly: ['period_days', 'min_periods', 'of_periods'],
    stopped: ['days', 'prior_days'],
    restarted: ['days', 'gap_days'],
    role: ['roles'],
    score_band: ['min', 'max'],
  };
  criteria.forEach((c0, i) => {
    const c = c0 as Record<string, unknown>;
    const kind = c.kind as Criterion['kind'];
    for (const f of need[kind]) if (c[f] === undefined) throw badRequest(`criteria[${i}].${f} is required for a "${kind}" criterion`, { field: `criteria[${i}].${f}` });
    if (kind === 'role' || kind === 'score_band') {
      const extra = Object.keys(c).find((f) => f !== 'kind' && !need[kind].includes(f));
      if (extra) throw badRequest(`criteria[${i}].${extra} does not apply to a "${kind}" criterion`, { field: `criteria[${i}].${extra}` });
      if (kind === 'score_band' && (c.min as number) > (c.max as number)) throw badRequest(`criteria[${i}].min must not exceed max`, { field: `criteria[${i}].min` });
      return;
    }
    if (c.event_type === undefined) throw badRequest(`criteria[${i}].event_type is required for a "${kind}" criterion`, { field: `criteria[${i}].event_type` });
    const t = c.event_type as string;
    if (t !== 'any' && !EVENT_TYPE_BY_NAME.has(t))
      throw badRequest(`criteria[${i}].event_type: "${t}" is neither "any" nor an event type`, { field: `criteria[${i}].event_type` });
    if (kind === 'regularly' && (c.min_periods as number) > (c.of_periods as number))
      throw badRequest(`criteria[${i}].min_periods must not exceed of_periods`, { field: `criteria[${i}].min_periods` });
  });
  return criteria as Criterion[];
}

const chTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** ClickHouse SQL giving the user ids that meet one criterion at `asOf`; adds its params. */
function criterionSql(c: EventCriterion, i: number, asOf: number, events: string, departmentId: string | null, params: Record<string, unknown>): string {
  const p = (name: string, ms: number) => {
    params[`c${i}_${name}`] = chTime(ms);
    return `toDateTime64({c${i}_${name}:String}, 3, 'UTC')`;
  };
  const where = ['org_id = {org_id:String}', "user_id != ''", `timestamp < ${p('asof', asOf)}`];
  if (c.event_type !== 'any') {
    params[`c${i}_type`] = c.event_type;
    where.push(`event_type = {c${i}_type:String}`);
  }
  if (departmentId) where.push('department_id = {department_id:String}');
  const select = (extraWhere: string[], having: string) => `SELECT user_id FROM ${events} WHERE ${[...where, ...extraWhere].join(' AND ')} GROUP BY user_id HAVING ${having}`;
  switch (c.kind) {
    case 'performed':
      // uniqExact(event_id): rows of one event not yet merged by the ReplacingMergeTree count once;
      // "at least once" needs no set of ids
      return select([`timestamp >= ${p('from', asOf - c.days * DAY)}`], c.min_count === 1 ? 'count() > 0' : `uniqExact(event_id) >= ${c.min_count}`);
    case 'first_time':
      return select([], `min(timestamp) >= ${p('from', asOf - c.days * DAY)}`);
    case 'regularly': {
      const len = c.period_days * DAY;
      params[`c${i}_asof_ms`] = asOf;
      // window index 0 is the most recent: (asOf - t - 1 ms) / len for t in [asOf - n·len, asOf)
      return select(
        [`timestamp >= ${p('from', asOf - c.of_periods * len)}`],
        `uniqExact(intDiv({c${i}_asof_ms:Int64} - toUnixTimestamp64Milli(timestamp) - 1, ${len})) >= ${c.min_periods}`,
      );
    }
    case 'stopped': {
      const recent = p('recent', asOf - c.days * DAY);
      return select([`timestamp >= ${p('from', asOf - (c.days + c.prior_days) * DAY)}`], `countIf(timestamp >= ${recent}) = 0`);
    }
    case 'restarted': {
      const recent = p('recent', asOf - c.days * DAY);
      const gap = p('gap', asOf - (c.days + c.gap_days) * DAY);
      return select([], `countIf(timestamp >= ${recent}) > 0 AND countIf(timestamp >= ${gap} AND timestamp < ${recent}) = 0 AND countIf(timestamp < ${gap}) > 0`);
    }
  }
}

/**
 * The users meeting every criterion (and having events in the department, when one is set)
 * at `asOf`. Behavioural criteria are SQL over events; role and score-band criteria are sets
 * from the directory and the score provider, intersected with the users the events give
 * (with no behavioural criterion: everyone with an event before `asOf`, in the department
 * when one is set). Members are user ids as events carry them.
 */
export async function evaluate(ctx: TenantContext, criteria: Criterion[], departmentId: string | null, asOf: number): Promise<string[]> {
  const params: Record<string, unknown> = {};
  if (departmentId) params.department_id = departmentId;
  const events = ctx.analytics.table('events');
  const parts = criteria.flatMap((c, i) => (isEventCriterion(c) ? [criterionSql(c, i, asOf, events, departmentId, params)] : []));
  if (!parts.length) {
    // department only: everyone with an event in it before asOf
    params.asof = chTime(asOf);
    parts.push(
      `SELECT DISTINCT user_id FROM ${events} WHERE org_id = {org_id:String} AND user_id != '' AND timestamp < toDateTime64({asof:String}, 3, 'UTC')${departmentId ? ' AND department_id = {department_id:String}' : ''}`,
    );
  }
  const rows = await ctx.analytics.query<{ user_id: string }>(`SELECT DISTINCT user_id FROM (${parts.join(' INTERSECT ')}) ORDER BY user_id`, params);
  let users = rows.map((r) => r.user_id);
  for (const c of criteria) {
    if (isEventCriterion(c)) continue;
    const keep = c.kind === 'role' ? await withRole(ctx, c.roles) : await inScoreBand(ctx, c.min, c.max, asOf);
    users = users.filter((u) => keep.has(u));
  }
  return users;
}

/** Members of the org (the directory's, now) with one of the roles. */
async function withRole(ctx: TenantContext, roles: Role[]): Promise<Set<string>> {
  return new Set((await ctx.directory.members()).filter((m) => roles.includes(m.role)).map((m) => m.id));
}

/** Users whose score (the `userScoreRef` provider's, e.g. adoption's) on the latest scored day at or before asOf's UTC day is in [min, max]. */
async function inScoreBand(ctx: TenantContext, min: number, max: number, asOf: number): Promise<Set<string>> {
  const scores = await ctx.services.get(userScoreRef);
  const day = new Date(asOf).toISOString().slice(0, 10);
  return new Set((await scores.scores({ day })).filter((s) => s.score >= min && s.score <= max).map((s) => s.userId));
}

export function toRecord(r: Record<string, any>): CohortRecord {
  const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    kind: r.kind,
    criteria: typeof r.criteria === 'string' ? JSON.parse(r.criteria) : r.criteria,
    department_id: r.department_id ?? null,
    size: Number(r.size),
    created_by: r.created_by ?? null,
    created_at: iso(r.created_at)!,
    updated_at: iso(r.updated_at)!,
    computed_at: iso(r.computed_at),
  };
}

export async function getCohort(ctx: TenantContext, id: string, field = 'id'): Promise<CohortRecord> {
  const row = await ctx.db.table(COHORTS).where({ id }).first();
  if (!row) throw notFound(`no cohort ${id}`, { field, id });
  return toRecord(row);
}

/** The cohort filter: the current member ids of a saved cohort of the caller's org. */
export async function membersOf(ctx: TenantContext, id: string, field = 'cohort_id'): Promise<string[]> {
  await getCohort(ctx, id, field);
  const rows = await ctx.db.table(MEMBERS).where({ cohort_id: id }).select('user_id');
  return rows.map((r: { user_id: string }) => r.user_id);
}

/** Replaces a cohort's members, recording joins and leaves at `at`. */
export async function setMembers(ctx: TenantContext, id: string, users: string[], at: Date, computed: boolean) {
  const next = new Set(users);
  const schema = ctx.db.schema;
  const diff = await ctx.db.transaction(async (trx) => {
    const current = new Set((await trx.withSchema(schema).table(MEMBERS).where({ cohort_id: id }).select('user_id')).map((r: { user_id: string }) => r.user_id));
    const joined = [...next].filter((u) => !current.has(u));
    const left = [...current].filter((u) => !next.has(u));
    for (let i = 0; i < left.length; i += 10_000) await trx.withSchema(schema).table(MEMBERS).where({ cohort_id: id }).whereIn('user_id', left.slice(i, i + 10_000)).delete();
    // one statement per table whatever the size: the ids go as one array parameter, which the
    // database unnests; rows of bound values (at most 65,535 per statement) cost PGlite most of
    // a large recompute in parsing and binding
    const members = trx.raw('??.??', [schema, MEMBERS]);
    const history = trx.raw('??.??', [schema, HISTORY]);
    if (joined.length)
      await trx.raw('INSERT INTO ? (cohort_id, user_id, since) SELECT ?::uuid, u, ?::timestamptz FROM unnest(?::text[]) AS u', [members, id, at, joined]);
    if (joined.length || left.length)
      await trx.raw(
        "INSERT INTO ? (cohort_id, user_id, change, at) SELECT ?::uuid, u, 'joined', ?::timestamptz FROM unnest(?::text[]) AS u UNION ALL SELECT ?::uuid, u, 'left', ?::timestamptz FROM unnest(?::text[]) AS u",
        [history, id, at, joined, id, at, left],
      );
    await trx.withSchema(schema).table(COHORTS).where({ id }).update({ size: next.size, ...(computed ? { computed_at: at } : {}) });
    return { joined: joined.length, left: left.length };
  });
  return { size: next.size, ...diff };
}

/** Recomputes one dynamic cohort now (or as of an instant). */
export async function recompute(ctx: TenantContext, cohort: CohortRecord, asOf = new Date()) {
  if (cohort.kind !== 'dynamic') throw badRequest('only dynamic cohorts are recomputed; static ones change by their member list', { field: 'id' });
  const t0 = performance.now();
  const users = await evaluate(ctx, cohort.criteria, cohort.department_id, asOf.getTime());
  const t1 = performance.now();
  const result = await setMembers(ctx, cohort.id, users, asOf, true);
  const ms = { evaluate: Math.round(t1 - t0), store: Math.round(performance.now() - t1) };
  return { id: cohort.id, as_of: asOf.toISOString(), ...result, ms };
}

/** The scheduled job: every dynamic cohort of the org. */
export async function recomputeDynamicCohorts(ctx: TenantContext) {
  const rows = await ctx.db.table(COHORTS).where({ kind: 'dynamic' }).select('*');
  let changed = 0;
  for (const r of rows) {
    const res = await recompute(ctx, toRecord(r));
    changed += res.joined + res.left;
    await ctx.bus.publish('cohort-recomputed', { id: res.id, size: res.size, joined: res.joined, left: res.left });
  }
  if (changed) ctx.answersChanged();
  return { cohorts: rows.length, changed };
}

/** A user id per line: the first column, or the column named `user_id` when a header names it. */
export function parseCsv(csv: string): string[] {
  const lines = csv.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (!lines.length) return [];
  const cells = (l: string) => l.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  const header = cells(lines[0]!).map((h) => h.toLowerCase());
  const col = header.indexOf('user_id');
  const rows = col >= 0 ? lines.slice(1) : lines;
  const ids = rows.map((l) => cells(l)[Math.max(col, 0)] ?? '').filter(Boolean);
  return [...new Set(ids)];
}

export async function createCohort(
  ctx: TenantContext,
  body: { name: string; description?: string; kind: 'static' | 'dynamic'; criteria?: unknown[]; department_id?: string; user_ids?: string[]; csv?: string },
) {
  const criteria = body.kind === 'dynamic' ? checkCriteria(body.criteria ?? []) : [];
  if (body.kind === 'static' && body.criteria?.length) throw badRequest('a static cohort has members, not criteria', { field: 'criteria' });
  if (body.kind === 'dynamic' && (body.user_ids || body.csv)) throw badRequest('a dynamic cohort is computed from its criteria; it takes no user list', { field: body.user_ids ? 'user_ids' : 'csv' });
  if (await ctx.db.table(COHORTS).where({ name: body.name }).first()) throw badRequest(`a cohort named "${body.name}" exists`, { field: 'name' });
  // a score band needs a score provider on for the org (424 otherwise): refuse before saving anything
  if (criteria.some((c) => c.kind === 'score_band')) await ctx.services.get(userScoreRef);
  const id = randomUUID();
  await ctx.db.table(COHORTS).insert({
    id,
    name: body.name,
    description: body.description ?? '',
    kind: body.kind,
    criteria: JSON.stringify(criteria),
    department_id: body.department_id ?? null,
    created_by: ctx.caller?.userId ?? null,
  });
  const cohort = await getCohort(ctx, id);
  if (body.kind === 'dynamic') await recompute(ctx, cohort);
  else await setMembers(ctx, id, [...new Set([...(body.user_ids ?? []), ...(body.csv ? parseCsv(body.csv) : [])])], new Date(), false);
  await ctx.audit({ action: 'cohort.create', target: id, after: { name: body.name, kind: body.kind } });
  return getCohort(ctx, id);
}
