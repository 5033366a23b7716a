/**
 * Roll-ups and reports over the stored scores and flags: department and org
 * scores, the departments × weeks heatmap, flagged users by department and
 * signal, the share flagged over time, intervention effectiveness, and ROI.
 */
import { type TenantContext } from '@orrery/plugin-sdk';
import { suppress } from './access.ts';
import { person, type Directory } from './directory.ts';
import { addDays } from './run.ts';
import type { AdoptionSettings } from './settings.ts';
import { bySeverity, classify, KINDS, severityLevel, type Kind, type Signal } from './score.ts';

const countKinds = (kinds: Iterable<Kind>) => {
  const out = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
  for (const k of kinds) out[k]++;
  return out;
};

const r1 = (x: number) => Math.round(x * 10) / 10;
const r4 = (x: number) => Math.round(x * 10_000) / 10_000;
const median = (xs: number[]) => {
  if (!xs.length) return null;
  const a = [...xs].sort((x, y) => x - y);
  const m = Math.floor(a.length / 2);
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
};

async function scoresOn(ctx: TenantContext, day: string) {
  return (await ctx.db.table('adoption_scores').where({ day }).select('user_id', 'score', 'departments')) as Array<{ user_id: string; score: number; departments: string[] }>;
}

/** Flags open at the end of `day` (raised on or before it, not resolved by then). */
export async function openOn(ctx: TenantContext, day: string) {
  const rows = (await ctx.db
    .table('adoption_flags')
    .where('raised_day', '<=', day)
    .andWhere((q) => q.whereNull('resolved_day').orWhere('resolved_day', '>', day))
    .select('user_id')) as Array<{ user_id: string }>;
  return new Set(rows.map((r) => r.user_id));
}

/** Department scores (mean and median of members' scores) and the org's, for one day; small groups suppressed. */
export async function rollup(ctx: TenantContext, s: AdoptionSettings, dir: Directory, day: string) {
  const scores = await scoresOn(ctx, day);
  const flagged = await openOn(ctx, day);
  const byDept = new Map<string, Array<{ user_id: string; score: number }>>();
  for (const r of scores) for (const d of r.departments) byDept.set(d, [...(byDept.get(d) ?? []), { user_id: r.user_id, score: Number(r.score) }]);
  const departments = [...byDept.entries()]
    .map(([id, rows]) => {
      const xs = rows.map((r) => r.score);
      return {
        department_id: id,
        name: dir.departments.get(id)?.name ?? null,
        users: rows.length,
        ...suppress(rows.length, s, {
          score: r1(xs.reduce((a, b) => a + b, 0) / xs.length),
          median: median(xs),
          flagged: rows.filter((r) => flagged.has(r.user_id)).length,
          flagged_share: r4(rows.filter((r) => flagged.has(r.user_id)).length / rows.length),
        }),
      };
    })
    .sort((a, b) => String(a.name).localeCompare(String(b.name)));
  const xs = scores.map((r) => Number(r.score));
  return {
    day,
    org: {
      users: xs.length,
      score: xs.length ? r1(xs.reduce((a, b) => a + b, 0) / xs.length) : null,
      median: median(xs),
      flagged: scores.filter((r) => flagged.has(r.user_id)).length,
      flagged_share: xs.length ? r4(scores.filter((r) => flagged.has(r.user_id)).length / xs.length) : 0,
    },
    departments,
  };
}

/**
 * Departments × weeks: the mean score of the department's users over the
 * week's scored days and the share of them flagged at some point of the week
 * (support need). Cells of fewer than the minimum group size are suppressed.
 */
export async function heatmap(ctx: TenantContext, s: AdoptionSettings, dir: Directory, from: string, to: string) {
  // Grouped in the database: a week of an org is one score row per user and day (thousands),
  // the answer one row per department and week; moving the rows out costs more than grouping.
  const schema = ctx.db.schema;
  const { rows } = (await ctx.db.raw(
    `WITH member_days AS (
       SELECT sc.user_id, sc.day, sc.score, dept.id AS department_id
         FROM ??.adoption_scores sc
         CROSS JOIN LATERAL jsonb_array_elements_text(sc.departments) AS dept(id)
        WHERE sc.day >= ? AND sc.day < ?
     ),
     -- the scored days on which the user had a flag open (joined once: a lookup per row costs more)
     flagged_days AS (
       SELECT DISTINCT ON (f.user_id, sc.day) f.user_id, sc.day, coalesce(f.kind, 'light_use') AS kind
         FROM ??.adoption_flags f
         JOIN ??.adoption_scores sc
           ON sc.user_id = f.user_id AND sc.day >= ? AND sc.day < ?
          AND f.raised_day <= sc.day AND (f.resolved_day IS NULL OR f.resolved_day > sc.day)
        WHERE f.raised_day < ? AND (f.resolved_day IS NULL OR f.resolved_day > ?)
        ORDER BY f.user_id, sc.day, f.raised_day DESC
     )
     SELECT m.department_id,
            to_char(date_trunc('week', m.day), 'YYYY-MM-DD') AS week,
            sum(m.score)::float8 AS score_sum,
            count(*)::int AS score_days,
            count(DISTINCT m.user_id)::int AS users,
            -- flagged at some point of the week: a flag open on one of the user's scored days
            count(DISTINCT m.user_id) FILTER (WHERE o.user_id IS NOT NULL)::int AS flagged,
            -- per kind: the kind of the user's flag on their last flagged day of the week
            coalesce(jsonb_object_agg(m.user_id, o.kind ORDER BY m.day) FILTER (WHERE o.user_id IS NOT NULL), '{}'::jsonb) AS kinds
       FROM member_days m
       LEFT JOIN flagged_days o ON o.user_id = m.user_id AND o.day = m.day
      GROUP BY 1, 2`,
    [schema, from, to, schema, schema, from, to, to, from],
  )) as { rows: Array<{ department_id: string; week: string; score_sum: number; score_days: number; users: number; flagged: number; kinds: Record<string, Kind> }> };
  return rows
    .map((c) => ({
      department_id: c.department_id,
      name: dir.departments.get(c.department_id)?.name ?? null,
      week: `${c.week}T00:00:00Z`,
      users: c.users,
      ...suppress(c.users, s, { score: r1(Number(c.score_sum) / c.score_days), flagged_share: r4(c.flagged / c.users), flagged: c.flagged, by_kind: countKinds(Object.values(c.kinds)) }),
    }))
    .sort((a, b) => a.week.localeCompare(b.week) || String(a.name).localeCompare(String(b.name)));
}

/**
 * Intervention effectiveness: of the flags raised in [from, to) that were given
 * an intervention, how many were resolved within `days` days, for users who
 * followed at least one of theirs and for those who followed none; and per
 * intervention (`by_intervention`): its assignments of those flags, how many
 * were shown, followed and dismissed, how many of their flags were resolved
 * within `days` days, and its effectiveness (the share resolved among the
 * assignments followed) with its lift over those not followed. An intervention
 * given to fewer users than the minimum group size is suppressed.
 */
export async function effectiveness(ctx: TenantContext, s: AdoptionSettings, from: string, to: string, days: number) {
  const flags = (await ctx.db
    .table('adoption_flags as f')
    .where('f.raised_day', '>=', from)
    .where('f.raised_day', '<', to)
    .whereExists((q) => q.select(ctx.db.raw('1')).from(`${ctx.db.schema}.adoption_assignments as a`).whereRaw('a.flag_id = f.id'))
    .select(
      'f.id',
      'f.user_id',
      ctx.db.raw(`to_char(f.raised_day, 'YYYY-MM-DD') as raised`),
      ctx.db.raw(`to_char(f.resolved_day, 'YYYY-MM-DD') as resolved`),
      ctx.db.raw(`exists (select 1 from ??.adoption_assignments a where a.flag_id = f.id and a.followed_at is not null) as followed`, [ctx.db.schema]),
    )) as Array<{ id: string; user_id: string; raised: string; resolved: string | null; followed: boolean }>;
  const recoveredIn = (f: { raised: string; resolved: string | null }) => !!f.resolved && f.resolved <= addDays(f.raised, days);
  const group = (list: typeof flags) => {
    const recovered = list.filter(recoveredIn);
    const spans = recovered.map((f) => (Date.parse(f.resolved!) - Date.parse(f.raised)) / 86_400_000);
    return { flagged: list.length, recovered: recovered.length, rate: list.length ? r4(recovered.length / list.length) : null, median_days_to_recover: median(spans) };
  };
  const followed = group(flags.filter((f) => f.followed));
  const notFollowed = group(flags.filter((f) => !f.followed));
  return {
    from,
    to,
    within_days: days,
    followed,
    not_followed: notFollowed,
    lift: followed.rate !== null && notFollowed.rate !== null ? r4(followed.rate - notFollowed.rate) : null,
    by_intervention: await byIntervention(ctx, s, new Map(flags.map((f) => [f.id, recoveredIn(f)]))),
  };
}

/** Per intervention, over the assignments of the flags given (flag id → resolved within the days). */
async function byIntervention(ctx: TenantContext, s: AdoptionSettings, recovered: Map<string, boolean>) {
  const interventions = (await ctx.db.table('adoption_interventions').orderBy('position').select('id', 'key', 'title')) as Array<{ id: string; key: string; title: string }>;
  const assignments: Array<{ flag_id: string; user_id: string; intervention_id: string; shown: boolean; followed: boolean; dismissed: boolean }> = [];
  const ids = [...recovered.keys()];
  for (let i = 0; i < ids.length; i += 1000) {
    assignments.push(
      ...((await ctx.db
        .table('adoption_assignments')
        .whereIn('flag_id', ids.slice(i, i + 1000))
        .select('flag_id', 'user_id', 'intervention_id', ctx.db.raw('shown_at is not null as shown'), ctx.db.raw('followed_at is not null as followed'), ctx.db.raw('dismissed_at is not null as dismissed'))) as typeof assignments),
    );
  }
  return interventions
    .map((iv) => {
      const mine = assignments.filter((a) => a.intervention_id === iv.id);
      const users = new Set(mine.map((a) => a.user_id)).size;
      const followed = mine.filter((a) => a.followed);
      const notFollowed = mine.filter((a) => !a.followed);
      const rate = (list: typeof mine) => (list.length ? r4(list.filter((a) => recovered.get(a.flag_id)).length / list.length) : null);
      const eff = rate(followed);
      const rest = rate(notFollowed);
      return {
        intervention_id: iv.id,
        key: iv.key,
        title: iv.title,
        users,
        ...suppress(users, s, {
          assigned: mine.length,
          shown: mine.filter((a) => a.shown).length,
          followed: followed.length,
          dismissed: mine.filter((a) => a.dismissed).length,
          resolved: mine.filter((a) => recovered.get(a.flag_id)).length,
          effectiveness: eff,
          lift: eff !== null && rest !== null ? r4(eff - rest) : null,
        }),
      };
    })
    .filter((r) => r.users > 0);
}

/**
 * Flagged users of a period by department and by signal, the share flagged per
 * day, and effectiveness. `visible` limits the per-user list (privacy); the
 * counts cover everyone but are suppressed for small departments. `countsOnly` leaves out
 * the share per day and effectiveness (the export table of the counts reads none of them).
 */
export async function flagReport(ctx: TenantContext, s: AdoptionSettings, dir: Directory, from: string, to: string, visible: Set<string> | null, individuals: boolean, countsOnly = false) {
  const flags = (await ctx.db
    .table('adoption_flags')
    .where('raised_day', '>=', from)
    .where('raised_day', '<', to)
    .orderBy('raised_day')
    .select('id', 'user_id', 'status', 'triggers', 'signals', 'departments', 'kind', 'severity', ctx.db.raw(`to_char(raised_day, 'YYYY-MM-DD') as raised_day`), ctx.db.raw(`to_char(resolved_day, 'YYYY-MM-DD') as resolved_day`))) as Array<{
    id: string;
    user_id: string;
    status: string;
    triggers: string[];
    signals: Signal[];
    departments: string[];
    kind: Kind | null;
    severity: number | null;
    raised_day: string;
    resolved_day: string | null;
  }>;
  for (const f of flags) {
    const c = classify(f.signals);
    f.kind = f.kind ?? c.kind;
    f.severity = Number(f.severity ?? c.severity);
  }
  const byDept = new Map<string, { flagged: Set<string>; triggers: Record<string, number>; kinds: Map<string, Kind> }>();
  const byTrigger: Record<string, number> = {};
  for (const f of flags) {
    for (const t of f.triggers) byTrigger[t] = (byTrigger[t] ?? 0) + 1;
    for (const d of f.departments.length ? f.departments : ['']) {
      const e = byDept.get(d) ?? { flagged: new Set<string>(), triggers: {} as Record<string, number>, kinds: new Map<string, Kind>() };
      e.flagged.add(f.user_id);
      e.kinds.set(f.user_id, f.kind!);
      for (const t of f.triggers) e.triggers[t] = (e.triggers[t] ?? 0) + 1;
      byDept.set(d, e);
    }
  }
  const share: Array<{ day: string; scored: number; flagged: number; share: number }> = [];
  // two queries a day: left out when only the counts are read (the flags_by_signal export table)
  for (let d = from; d < to && !countsOnly; d = addDays(d, 1)) {
    const scored = await ctx.db.table('adoption_scores').where({ day: d }).count({ n: '*' });
    const n = Number(scored[0]?.n ?? 0);
    if (!n) continue;
    const open = await openOn(ctx, d);
    share.push({ day: d, scored: n, flagged: open.size, share: r4(open.size / n) });
  }
  return {
    from,
    to,
    flags_raised: flags.length,
    by_signal: byTrigger,
    // flagged users by the kind of their latest flag of the period
    by_kind: countKinds(new Map(flags.map((f) => [f.user_id, f.kind!])).values()),
    by_department: [...byDept.entries()].map(([id, e]) => {
      const size = id ? (dir.membersOf.get(id)?.length ?? 0) : 0;
      return { department_id: id || null, name: dir.departments.get(id)?.name ?? null, department_size: size, ...suppress(id ? size : s.privacy.minGroupSize, s, { flagged_users: e.flagged.size, by_signal: e.triggers, by_kind: countKinds(e.kinds.values()) }) };
    }),
    flagged_share: share,
    effectiveness: countsOnly ? undefined : await effectiveness(ctx, s, from, to, s.effectivenessDays),
    users: individuals
      ? flags
          .filter((f) => visible === null || visible.has(f.user_id))
          .map((f) => ({ ...f, kind: f.kind!, severity: f.severity! }))
          .sort(bySeverity)
          .map((f) => ({ flag_id: f.id, user_id: f.user_id, ...person(dir, f.user_id), status: f.status, kind: f.kind, severity: f.severity, level: severityLevel(f.severity), raised_day: f.raised_day, resolved_day: f.resolved_day, triggers: f.triggers, signals: f.signals, departments: f.departments }))
      : undefined,
  };
}

/** Day buckets up to a month, weeks beyond: a week cut by the range's edge reads as a trend. */
export function roiBucket(from: string, to: string, asked?: 'day' | 'week'): 'day' | 'week' {
  return asked ?? ((Date.parse(to) - Date.parse(from)) / 86_400_000 <= 31 ? 'day' : 'week');
}

/**
 * ROI per day or week: time saved (successful agent invocations × minutes saved per
 * success × hourly rate) and errors avoided (tool calls and outputs a person
 * rejected × the cost of an error), against the AI spend (cost_usd).
 */
export async function roi(ctx: TenantContext, s: AdoptionSettings, from: string, to: string, departmentId?: string, bucket: 'day' | 'week' = 'week') {
  const rows = await ctx.analytics.query<{ start: string; successes: number; rejected: number; cost: number; users: number }>(
    `SELECT toString(${bucket === 'day' ? 'toDate(timestamp)' : 'toMonday(timestamp)'}) AS start,
            countIf(event_type = 'agent_invocation' AND status = 'success') AS successes,
            countIf((event_type = 'tool_call' AND decision = 'reject') OR (event_type = 'feedback' AND action = 'reject')) AS rejected,
            toFloat64(sum(cost_usd)) AS cost, uniqExact(user_id) AS users
       FROM {db}.events
      WHERE org_id = {org_id:String} AND timestamp >= toDateTime64({from:String}, 3, 'UTC') AND timestamp < toDateTime64({to:String}, 3, 'UTC')
        ${departmentId ? 'AND department_id = {department_id:String}' : ''}
      GROUP BY start ORDER BY start`,
    { from: `${from} 00:00:00`, to: `${to} 00:00:00`, ...(departmentId ? { department_id: departmentId } : {}) },
  );
  const raw = rows.map((r) => {
    const hours = (Number(r.successes) * s.roi.minutesSavedPerSuccess) / 60;
    const timeValue = hours * s.roi.hourlyRate;
    const errorsValue = Number(r.rejected) * s.roi.errorCost;
    return { start: r.start, users: Number(r.users), hours, timeValue, errors: Number(r.rejected), errorsValue, cost: Number(r.cost) };
  });
  const cents = (x: number) => Math.round(x * 100) / 100;
  const series = raw.map((r) => ({
    start: `${r.start}T00:00:00Z`,
    // the weekly series' original key, kept for readers of weekly answers
    ...(bucket === 'week' ? { week: `${r.start}T00:00:00Z` } : {}),
    active_users: r.users,
    hours_saved: r1(r.hours),
    time_value_usd: cents(r.timeValue),
    errors_avoided: r.errors,
    errors_value_usd: r.errorsValue,
    value_usd: cents(r.timeValue + r.errorsValue),
    cost_usd: cents(r.cost),
    roi: r.cost > 0 ? r4((r.timeValue + r.errorsValue - r.cost) / r.cost) : null,
  }));
  // totals from the exact figures, not the rounded buckets: the same range gives the same
  // totals whether it is cut into days or weeks
  const sum = (k: 'hours' | 'timeValue' | 'errorsValue' | 'cost' | 'errors') => raw.reduce((a, r) => a + r[k], 0);
  return {
    bucket,
    rates: s.roi,
    totals: { hours_saved: r1(sum('hours')), errors_avoided: sum('errors'), value_usd: cents(sum('timeValue') + sum('errorsValue')), cost_usd: cents(sum('cost')) },
    series,
  };
}
