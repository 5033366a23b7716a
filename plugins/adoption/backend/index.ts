/**
 * adoption: a daily 0–100 adoption score per user, needs-support flags with
 * the signals that raised them, notifications to the user and their managers,
 * interventions shown as a learning path (and whether following them helps),
 * expertise moves, reports, and the privacy rules around all of it.
 *
 * Near real time: every committed event marks its user dirty (a table, so the
 * queue survives a restart); `rescore-dirty` runs every 15 s and rescores only
 * those users for today. `score-daily` rescored everyone hourly and closes
 * yesterday. Both are idempotent: scores are keyed by user and day, a user has
 * at most one open flag, assignments are keyed by flag and intervention.
 */
import { badRequest, definePlugin, forbidden, notFound, type StoredEvent, type TenantContext } from '@orrery/plugin-sdk';
import { assertMaySee, mayIndividuals, visibleUsers } from './access.ts';
import { loadDirectory, person } from './directory.ts';
import { pgMigrations } from './migrations.ts';
import { effectiveness, flagReport, heatmap, rollup, roi, roiBucket } from './reports.ts';
import { addDays, confirmFlags, describeSignal, previewFlags, scoreDay, today } from './run.ts';
import { bySeverity, classify, KINDS, severityLevel, WEIGHTS, type Kind, type Signal } from './score.ts';
import * as R from './schemas.ts';
import { pages, widgets } from '../widgets.ts';
import { adoptionCohorts, adoptionExports, adoptionMetrics, adoptionUserScores } from './contracts.ts';
import { loadSettings, loadSettingsState, merge, saveSettings, settingsSchema, TRIGGERS, type AdoptionSettings } from './settings.ts';

const DAY = { type: 'string', format: 'date' }; // a calendar day: 2026-13-01 is a 400 naming the field
const dayRange = { from: { ...DAY, description: 'first UTC day (inclusive)' }, to: { ...DAY, description: 'last UTC day (exclusive)' } };
const obj = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', properties, required, additionalProperties: false });
/** days scored back on the first daily run of an org with history */
const BACKFILL_DAYS = 28;
const idParams = obj({ id: { type: 'string', maxLength: 64 } }, ['id']);
// interventions and learning-path steps are keyed by uuid: anything else is a 400, not a database error
const uuidParams = obj({ id: { type: 'string', format: 'uuid' } }, ['id']);

function range(q: { from?: string; to?: string }, defaultDays: number) {
  const to = q.to ?? addDays(today(), 1);
  const from = q.from ?? addDays(to, -defaultDays);
  if (from >= to) throw badRequest('from must be before to', { field: 'from' });
  if ((Date.parse(to) - Date.parse(from)) / 86_400_000 > 400) throw badRequest('a range is limited to 400 days', { field: 'from' });
  return { from, to };
}

function me(ctx: TenantContext) {
  if (!ctx.caller) throw forbidden('a signed-in user is required');
  return ctx.caller;
}

/**
 * Remembered answers for the read routes: they read this plugin's rows (every write to them
 * ends in ctx.answersChanged()), the org's directory (role and membership changes drop
 * remembered answers) and events (every commit does). The maximum age bounds the rest: a
 * department renamed, `today` turning into tomorrow.
 */
const ANSWERS = { maxAgeSeconds: 60 };

/** Marks the users of committed events for rescoring; the earliest unscored event time is kept for latency figures. */
async function markDirty(events: StoredEvent[], ctx: TenantContext) {
  const first = new Map<string, string>();
  for (const e of events) if (e.user_id && (!first.has(e.user_id) || e.timestamp < first.get(e.user_id)!)) first.set(e.user_id, e.timestamp);
  if (!first.size) return;
  const now = new Date();
  const users = [...first.keys()];
  // it runs after every load, for every user in it: one array parameter, which the database
  // unnests, costs the embedded PostgreSQL (on the ingestion's thread) a fraction of binding
  // three values per user (200 users: ~1 ms against ~4 ms)
  for (let i = 0; i < users.length; i += 10_000)
    await ctx.db.raw(
      'INSERT INTO ??.?? (user_id, marked_at, first_event_at) SELECT u, ?::timestamptz, ?::timestamptz FROM unnest(?::text[]) AS u ON CONFLICT (user_id) DO UPDATE SET marked_at = excluded.marked_at',
      [ctx.db.schema, 'adoption_dirty', now, now, users.slice(i, i + 10_000)],
    );
}

/** An event's time, whether it comes as an ISO instant or as ClickHouse's `YYYY-MM-DD hh:mm:ss.sss` (UTC). */
function eventTime(t: unknown): Date {
  const s = String(t);
  const d = /[zZ]|[+-]\d\d:?\d\d$/.test(s) ? new Date(s) : new Date(`${s.replace(' ', 'T')}Z`);
  return Number.isNaN(d.getTime()) ? new Date() : d;
}

/** Intervention events (shown / followed / dismissed) update the user's latest assignment of that intervention. */
async function trackInterventions(events: StoredEvent[], ctx: TenantContext) {
  for (const e of events) {
    const column = { shown: 'shown_at', followed: 'followed_at', dismissed: 'dismissed_at' }[e.action];
    if (!column || !e.intervention_id) continue;
    const iv = await ctx.db.table('adoption_interventions').where((q) => {
      q.where({ key: String(e.intervention_id) });
      if (/^[0-9a-f-]{36}$/i.test(String(e.intervention_id))) q.orWhere({ id: String(e.intervention_id) });
    }).first('id');
    if (!iv) continue;
    const a = await ctx.db.table('adoption_assignments').where({ user_id: e.user_id, intervention_id: iv.id }).orderBy('assigned_day', 'desc').first('id');
    if (a) {
      await ctx.db.table('adoption_assignments').where({ id: a.id }).whereNull(column).update({ [column]: eventTime(e.timestamp) });
      ctx.answersChanged(); // intervention effectiveness reads assignments
    }
  }
}

/**
 * A flag's reasons in words. `why` is why it is open now: the latest run's signals (it keeps the
 * flag open only while it still finds one), so it agrees with the score shown beside it; a resolved
 * flag keeps the signals of its last run. `raised_why` is why it was raised, which can be weeks old
 * (a user flagged as not started who has since begun, and now fails too often).
 */
function reasons(f: { signals: Signal[]; latest_signals: Signal[] | null }) {
  return { why: (f.latest_signals ?? f.signals).map(describeSignal), raised_why: f.signals.map(describeSignal) };
}

async function learningPath(ctx: TenantContext, userId: string) {
  const rows = await ctx.db
    .table('adoption_assignments as a')
    .join('adoption_interventions as i', 'i.id', 'a.intervention_id')
    .join('adoption_flags as f', 'f.id', 'a.flag_id')
    .where('a.user_id', userId)
    .orderBy([{ column: 'a.assigned_day', order: 'desc' }, { column: 'i.position', order: 'asc' }])
    .select(
      'a.id',
      'a.flag_id',
      'i.key',
      'i.title',
      'i.kind',
      'i.url',
      'i.description',
      'a.shown_at',
      'a.followed_at',
      'a.dismissed_at',
      'f.status as flag_status',
      'f.signals',
      'f.latest_signals',
      'i.triggers',
      ctx.db.raw(`to_char(a.assigned_day, 'YYYY-MM-DD') as assigned_day`),
    );
  return rows.map((r: Record<string, unknown>) => {
    const { signals, latest_signals, triggers, ...step } = r as Record<string, unknown> & { signals: Signal[]; latest_signals: Signal[] | null; triggers: string[] };
    // a step's reasons are the signals its intervention answers: the ones still seen now (empty once
    // they stopped: the step was suggested for a reason that has passed), and the ones it was suggested for
    const mine = (list: Signal[]) => list.filter((x) => triggers.includes(x.trigger));
    const raised = mine(signals);
    return {
      ...step,
      // a resolved flag's reasons have passed, whatever its last run saw
      why: r.flag_status === 'resolved' ? [] : mine(latest_signals ?? signals).map(describeSignal),
      raised_why: (raised.length ? raised : signals).map(describeSignal), // an intervention edited since: every reason
      status: r.followed_at ? 'followed' : r.dismissed_at ? 'dismissed' : 'open',
    };
  });
}

/**
 * A user flagged twice (a flag resolved, a new one raised later) can be given the same
 * intervention by both flags. Their own path names it once: the newest suggestion (the rows
 * come newest first), whose reasons are the current ones; an answer lands on it, as an
 * `intervention` event's does. The user detail keeps every assignment, each with its flag.
 */
export function oncePerIntervention<T extends { key: string }>(rows: T[]): T[] {
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(r.key) && seen.add(r.key));
}

async function runDirty(ctx: TenantContext) {
  const snapshot = new Date();
  const rows = (await ctx.db.table('adoption_dirty').where('marked_at', '<=', snapshot).orderBy('marked_at').limit(10_000).select('user_id')) as Array<{ user_id: string }>;
  if (!rows.length) return { dirty: 0 };
  const users = rows.map((r) => r.user_id);
  const r = await scoreDay(ctx, { day: today(), users, flags: true, notify: true });
  // only now: a crash before this line rescores the same users next time (idempotent)
  for (let i = 0; i < users.length; i += 1000) await ctx.db.table('adoption_dirty').whereIn('user_id', users.slice(i, i + 1000)).where('marked_at', '<=', snapshot).del();
  return { dirty: users.length, ...r };
}

const KIND_WORDS: Record<Kind, string> = { struggling: 'Struggling', slipping: 'Slipping', not_started: 'Not started', light_use: 'Light use' };

/** The preview in the portal's words: one sentence, and a row per kind (now → with these settings). */
function previewWords(next: { people: number; flagged: number; by_kind: Record<Kind, number> }, current: { flagged: number; by_kind: Record<Kind, number> }) {
  const change = next.flagged - current.flagged;
  const summary =
    `With these thresholds, ${next.flagged} of ${next.people} ${next.people === 1 ? 'person' : 'people'} would be flagged today` +
    (change === 0 ? ' (no change).' : ` (${change > 0 ? `${change} more` : `${-change} fewer`} than now).`);
  const rows = [
    ...KINDS.map((k) => ({ label: KIND_WORDS[k], current: current.by_kind[k], next: next.by_kind[k] })),
    { label: 'Everyone flagged', current: current.flagged, next: next.flagged },
  ];
  return { summary, rows };
}

export default definePlugin({
  from: import.meta.url,
  id: 'adoption',
  version: '1.0.0',
  provides: [adoptionMetrics, adoptionCohorts, adoptionUserScores, adoptionExports],
  sdk: '^2.0.0',
  title: 'Adoption',
  description: 'Adoption scores, needs-support flags and notifications, interventions and learning paths, expertise, reports.',
  routePrefix: 'adoption',
  permissions: {
    'adoption.read': ['Admin', 'Manager', 'Developer'],
    'adoption.manage': ['Admin', 'Manager'],
    'adoption.admin': ['Admin'],
  },
  topics: ['flags', 'scores', 'expertise'],
  migrations: { pg: pgMigrations },
  frontend: {
    remoteName: 'adoption',
    distDir: 'frontend/dist',
    widgets,
    pages,
  },
  register(env) {
    env.onEvents({ types: '*', handle: markDirty });
    env.onEvents({ types: ['intervention'], handle: trackInterventions });

    env.job({ name: 'rescore-dirty', everySeconds: 15, run: runDirty });
    env.job({
      name: 'score-daily',
      everySeconds: 3600,
      async run(ctx) {
        // The first run on an org (an existing install, the demo month) scores the past weeks
        // too, and evaluates each closed day's flags as the rules would have raised them that
        // day, so trends, heatmaps and effectiveness compare like with like from the first day.
        // Nobody is notified of what that first run raises: its flags wait for an Admin's
        // confirmation (`POST /flags/confirm`). Flags raised by new activity afterwards notify at once.
        let backfilled = 0;
        let held = 0;
        const first = !(await ctx.db.table('adoption_scores').first('user_id'));
        if (first) {
          for (let d = BACKFILL_DAYS; d >= 2; d--) {
            held += (await scoreDay(ctx, { day: addDays(today(), -d), users: null, flags: true, notify: false, hold: 'backfill' })).held;
            backfilled++;
          }
        }
        // yesterday once more, so late events land in its final score; its flags were evaluated
        // while it ran (or just now, by the back-fill's last day)
        const y = await scoreDay(ctx, { day: addDays(today(), -1), users: null, flags: first, notify: false, ...(first ? { hold: 'backfill' as const } : {}) });
        const t = await scoreDay(ctx, { day: today(), users: null, flags: true, notify: true, ...(first ? { hold: 'backfill' as const } : {}) });
        held += y.held + t.held;
        return { backfilled_days: backfilled, yesterday: y.scored, today: t.scored, raised: t.raised, resolved: t.resolved, held, experts: t.experts, ms: t.ms };
      },
    });

    env.route({
      method: 'GET',
      path: '/scores',
      permission: 'adoption.read',
      summary: 'Scores of one day, per user (those the caller may see)',
      cache: ANSWERS,
      description: `score = 100 × (${WEIGHTS.frequency}·frequency + ${WEIGHTS.diversity}·diversity + ${WEIGHTS.success}·success + ${WEIGHTS.workflow}·workflow); see the plugin README for the normalisation of each part. percentile: share of the department’s other users scoring strictly lower.`,
      schema: { querystring: obj({ day: DAY, department_id: { type: 'string', maxLength: 64 } }), response: { 200: R.scoresAnswer } },
      async handler(req, ctx) {
        const s = await loadSettings(ctx);
        const dir = await loadDirectory(ctx);
        const day = req.query.day ?? today();
        const visible = await visibleUsers(ctx, s, dir);
        const rows = (await ctx.db.table('adoption_scores').where({ day }).orderBy('score', 'desc').select('user_id', 'score', 'frequency', 'diversity', 'success', 'workflow', 'percentile', 'departments')) as Array<Record<string, unknown> & { user_id: string; departments: string[] }>;
        return {
          day,
          weights: WEIGHTS,
          users: rows
            .filter((r) => (visible === null || visible.has(r.user_id)) && (!req.query.department_id || r.departments.includes(req.query.department_id)))
            .map((r) => ({ ...r, ...person(dir, r.user_id) })),
        };
      },
    });

    env.route({
      method: 'GET',
      path: '/users/:id',
      permission: 'adoption.read',
      summary: 'One user’s score history, parts, department comparison, flag, expertise and learning path',
      schema: { params: idParams, querystring: obj(dayRange), response: { 200: R.userAnswer } },
      async handler(req, ctx) {
        const s = await loadSettings(ctx);
        const dir = await loadDirectory(ctx);
        const id = req.params.id === 'me' ? me(ctx).userId : req.params.id;
        await assertMaySee(ctx, s, dir, id);
        const { from, to } = range(req.query, 30);
        const history = await ctx.db
          .table('adoption_scores')
          .where({ user_id: id })
          .where('day', '>=', from)
          .where('day', '<', to)
          .orderBy('day')
          .select(ctx.db.raw(`to_char(day, 'YYYY-MM-DD') as day`), 'score', 'frequency', 'diversity', 'success', 'workflow', 'percentile', 'features');
        const depts = dir.departmentsOf.get(id) ?? [];
        // peers: department means per day, withheld for groups under the minimum size;
        // every department of the user in one statement (a score row counts once per
        // department it lists, as the per-department `@>` queries counted it); `?|`
        // keeps only rows of those departments before their lists are expanded
        const peerRows = depts.length
          ? ((
              await ctx.db.raw(
                `SELECT d.department_id, to_char(s.day, 'YYYY-MM-DD') AS day, avg(s.score) AS score, count(*) AS users
                   FROM ??.adoption_scores s CROSS JOIN LATERAL (SELECT DISTINCT x AS department_id FROM jsonb_array_elements_text(s.departments) x) d
                  WHERE s.departments \\?| ?::text[] AND d.department_id = ANY(?) AND s.day >= ? AND s.day < ?
                  GROUP BY d.department_id, s.day ORDER BY s.day`,
                [ctx.db.schema, depts, depts, from, to],
              )
            ).rows as Array<{ department_id: string; day: string; score: number; users: string | number }>)
          : [];
        const peers = depts.map((d) => ({
          department_id: d,
          name: dir.departments.get(d)?.name ?? null,
          series: peerRows
            .filter((r) => r.department_id === d)
            .map((r) => (Number(r.users) < s.privacy.minGroupSize ? { day: r.day, suppressed: true } : { day: r.day, score: Math.round(Number(r.score) * 10) / 10, users: Number(r.users) })),
        }));
        const flag = await ctx.db.table('adoption_flags').where({ user_id: id }).orderBy('raised_at', 'desc').first('id', 'status', 'triggers', 'signals', 'kind', 'severity', 'pending', ctx.db.raw(`to_char(raised_day, 'YYYY-MM-DD') as raised_day`), ctx.db.raw(`to_char(resolved_day, 'YYYY-MM-DD') as resolved_day`));
        const expert = await ctx.db.table('adoption_expertise').where({ user_id: id }).first('reasons', ctx.db.raw(`to_char(day, 'YYYY-MM-DD') as day`));
        if (!history.length && !dir.members.has(id)) throw notFound(`no user ${id} in this org`);
        return {
          user: { id, ...person(dir, id), departments: depts },
          weights: WEIGHTS,
          history,
          peers,
          flag: flag ?? null,
          expertise: expert ?? null,
          learning_path: ctx.caller?.userId === id || ctx.caller?.role === 'Admin' ? await learningPath(ctx, id) : undefined,
        };
      },
    });

    env.route({
      method: 'GET',
      path: '/departments',
      permission: 'adoption.read',
      summary: 'Department and org scores for one day (groups under the minimum size suppressed)',
      cache: ANSWERS,
      schema: { querystring: obj({ day: DAY }), response: { 200: R.departmentsAnswer } },
      async handler(req, ctx) {
        return rollup(ctx, await loadSettings(ctx), await loadDirectory(ctx), req.query.day ?? today());
      },
    });

    env.route({
      method: 'GET',
      path: '/heatmap',
      permission: 'adoption.manage',
      summary: 'Departments × weeks: mean score and share of users needing support, flagged users by kind',
      cache: ANSWERS,
      schema: { querystring: obj(dayRange), response: { 200: R.heatmapAnswer } },
      async handler(req, ctx) {
        const { from, to } = range(req.query, 56);
        return { from, to, cells: await heatmap(ctx, await loadSettings(ctx), await loadDirectory(ctx), from, to) };
      },
    });

    env.route({
      method: 'GET',
      path: '/flags',
      permission: 'adoption.manage',
      summary: 'Needs-support flags with their kind, severity and signals (users the caller may see), most urgent first, a page at a time',
      cache: ANSWERS,
      description:
        'Kinds, most urgent first: struggling, slipping, not_started, light_use. `sort=severity` (default) orders by kind, then severity (0–1: how far past its threshold), then newest; `sort=newest` by raising time. `by_kind` counts the matching flags of every kind (before the `kind` filter); `total` counts the matching flags; `limit` and `offset` pick the page (at most the newest 1,000 flags are looked at). `pending=true` lists flags raised by a back-fill or a threshold change that wait for an Admin to confirm their notifications.',
      schema: {
        querystring: obj({
          status: { type: 'string', enum: ['open', 'resolved', 'all'], default: 'open' },
          department_id: { type: 'string', maxLength: 64 },
          kind: { type: 'string', enum: [...KINDS] },
          sort: { type: 'string', enum: ['severity', 'newest'], default: 'severity' },
          pending: { type: 'boolean' },
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          offset: { type: 'integer', minimum: 0, maximum: 1000, default: 0 },
        }),
        response: { 200: R.flagsAnswer },
      },
      async handler(req, ctx) {
        const s = await loadSettings(ctx);
        const dir = await loadDirectory(ctx);
        if (!mayIndividuals(ctx, s)) throw forbidden('individual adoption data is limited to Admins in this org');
        const visible = await visibleUsers(ctx, s, dir);
        let q = ctx.db.table('adoption_flags').orderBy('raised_at', 'desc').limit(1000);
        if ((req.query.status ?? 'open') !== 'all') q = q.where({ status: req.query.status ?? 'open' });
        if (req.query.pending === true) q = q.whereNotNull('pending');
        if (req.query.pending === false) q = q.whereNull('pending');
        const rows = (await q.select('id', 'user_id', 'status', 'triggers', 'signals', 'latest_triggers', 'latest_signals', 'departments', 'notifications', 'raised_at', 'kind', 'severity', 'pending', ctx.db.raw(`to_char(raised_day, 'YYYY-MM-DD') as raised_day`), ctx.db.raw(`to_char(resolved_day, 'YYYY-MM-DD') as resolved_day`))) as Array<
          Record<string, unknown> & { user_id: string; departments: string[]; signals: Signal[]; latest_signals: Signal[] | null; kind: Kind | null; severity: number | null; pending: string | null; raised_day: string }
        >;
        const matching = rows
          .filter((r) => (visible === null || visible.has(r.user_id)) && (!req.query.department_id || r.departments.includes(req.query.department_id)))
          .map((r) => {
            // kind and severity follow what the latest run sees (flags from before kinds existed: from their signals)
            const c = classify(r.latest_signals ?? r.signals);
            const kind = r.kind ?? c.kind;
            const severity = r.severity ?? c.severity;
            return { ...r, kind, kinds: c.kinds.includes(kind) ? c.kinds : [kind, ...c.kinds], severity: Number(severity), level: severityLevel(Number(severity)) };
          });
        const by_kind = Object.fromEntries(KINDS.map((k) => [k, matching.filter((r) => r.kind === k).length])) as Record<Kind, number>;
        const sort = req.query.sort ?? 'severity';
        const listed = matching.filter((r) => !req.query.kind || r.kind === req.query.kind);
        if (sort === 'severity') listed.sort(bySeverity);
        const offset = req.query.offset ?? 0;
        const limit = req.query.limit ?? 100;
        return {
          total: listed.length,
          offset,
          limit,
          sort,
          by_kind,
          pending: matching.filter((r) => r.pending).length,
          flags: listed.slice(offset, offset + limit).map((r) => ({ ...r, ...person(dir, r.user_id), ...reasons(r) })),
        };
      },
    });

    env.route<unknown, unknown, { ids?: string[]; notify?: boolean }>({
      method: 'POST',
      path: '/flags/confirm',
      permission: 'adoption.admin',
      summary: 'Confirm flags held by a back-fill or a threshold change: notify the people and their managers now (or release them silently)',
      description: '`ids` picks flags (default: every held flag); `notify: false` releases them without notifying. Resolved flags are released without a notification.',
      schema: {
        body: obj({ ids: { type: 'array', maxItems: 10000, items: { type: 'string', format: 'uuid' } }, notify: { type: 'boolean', default: true } }),
        response: { 200: R.confirmAnswer },
      },
      async handler(req, ctx) {
        const r = await confirmFlags(ctx, req.body?.ids ?? null, req.body?.notify !== false);
        await ctx.audit({ action: 'flags.confirm', after: { ids: req.body?.ids ?? 'all', notify: req.body?.notify !== false, ...r } });
        return r;
      },
    });

    env.route({
      method: 'GET',
      path: '/settings',
      permission: 'adoption.manage',
      summary: 'The org’s adoption settings: normalisation targets, trigger thresholds, notifications, privacy, expertise, ROI rates',
      description: '`customized` is false while every value is a default (no Admin saved one): the portal’s setup counts the adoption step done once it is true.',
      schema: { response: { 200: R.settingsAnswer } },
      async handler(_req, ctx) {
        return { ...(await loadSettingsState(ctx)), triggers: TRIGGERS, kinds: KINDS };
      },
    });
    env.route<unknown, unknown, Partial<AdoptionSettings>>({
      method: 'PUT',
      path: '/settings',
      permission: 'adoption.admin',
      summary: 'Change adoption settings (merged over the current ones; applies at the next scoring run)',
      description:
        'A change of what flags people (window, targets, thresholds, enabled triggers) re-evaluates today’s flags at once when today is already scored: flags it raises wait for an Admin’s confirmation (`POST /flags/confirm`) before anyone is notified (`reevaluated`).',
      schema: { body: settingsSchema, response: { 200: R.settingsAnswer } },
      async handler(req, ctx) {
        const body = req.body as Record<string, unknown>;
        const settings = await saveSettings(ctx, body as never);
        const flagging = ['windowDays', 'targets', 'thresholds', 'enabledTriggers'].some((k) => body[k] !== undefined);
        if (flagging && (await ctx.db.table('adoption_scores').where({ day: today() }).first('user_id'))) {
          const r = await scoreDay(ctx, { day: today(), users: null, flags: true, notify: false, hold: 'thresholds' });
          const held = await ctx.db.table('adoption_flags').whereNotNull('pending').where({ status: 'open' }).count<{ n: string }[]>({ n: '*' });
          const waiting = Number(held[0]?.n ?? 0);
          return {
            settings,
            customized: true,
            reevaluated: { raised: r.raised, resolved: r.resolved, held: r.held },
            ...(waiting
              ? { follow_up: { message: `${waiting} ${waiting === 1 ? 'flag waits' : 'flags wait'} for you to confirm before anyone is notified.`, href: '/p/adoption/flags?pending=true', label: 'Review held flags' } }
              : {}),
          };
        }
        return { settings, customized: true };
      },
    });
    env.route<unknown, unknown, Partial<AdoptionSettings>>({
      method: 'POST',
      path: '/settings/preview',
      permission: 'adoption.admin',
      summary: 'With these settings (merged over the current ones), how many of the org’s people would be flagged today, by kind; nothing is saved',
      description: 'The same evaluation a save runs: saving these settings leaves exactly `flagged` people with an open flag today. `current` is the same count under the settings in force.',
      schema: { body: settingsSchema, response: { 200: R.previewAnswer } },
      async handler(req, ctx) {
        const current = await loadSettings(ctx);
        const next = merge(current, req.body as never);
        if (next.targets.activeDays > next.windowDays) throw badRequest(`targets.activeDays (${next.targets.activeDays}) cannot exceed windowDays (${next.windowDays})`, { field: 'targets.activeDays' });
        const [p, c] = await Promise.all([previewFlags(ctx, next), previewFlags(ctx, current)]);
        return { ...p, current: { flagged: c.flagged, by_kind: c.by_kind }, ...previewWords(p, c) };
      },
    });

    env.route({
      method: 'GET',
      path: '/interventions',
      permission: 'adoption.read',
      summary: 'The org’s interventions and the triggers each answers',
      schema: { response: { 200: R.interventionsAnswer } },
      async handler(_req, ctx) {
        return { interventions: await ctx.db.table('adoption_interventions').orderBy('position').select('*') };
      },
    });
    const interventionBody = obj({
      key: { type: 'string', pattern: '^[a-z0-9-]{2,80}$' },
      title: { type: 'string', minLength: 1, maxLength: 300 },
      kind: { type: 'string', enum: ['help', 'doc', 'training', 'link'] },
      url: { type: 'string', maxLength: 1000 },
      description: { type: 'string', maxLength: 5000 },
      triggers: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...TRIGGERS] } },
      enabled: { type: 'boolean' },
      position: { type: 'integer', minimum: 0, maximum: 10000 },
    });
    env.route<unknown, unknown, Record<string, unknown>>({
      method: 'POST',
      path: '/interventions',
      permission: 'adoption.admin',
      summary: 'Add an intervention',
      schema: { body: { ...interventionBody, required: ['key', 'title', 'kind', 'triggers'] }, response: { 200: R.interventionAnswer } },
      async handler(req, ctx) {
        const id = globalThis.crypto.randomUUID();
        const b = req.body;
        if (await ctx.db.table('adoption_interventions').where({ key: b.key }).first('id')) throw badRequest(`an intervention "${b.key}" exists`, { field: 'key' });
        await ctx.db.table('adoption_interventions').insert({ ...b, id, triggers: JSON.stringify(b.triggers) });
        await ctx.audit({ action: 'intervention.create', target: id, after: b });
        return ctx.db.table('adoption_interventions').where({ id }).first();
      },
    });
    env.route<unknown, { id: string }, Record<string, unknown>>({
      method: 'PUT',
      path: '/interventions/:id',
      permission: 'adoption.admin',
      summary: 'Change an intervention',
      schema: { params: uuidParams, body: interventionBody, response: { 200: R.interventionAnswer } },
      async handler(req, ctx) {
        const before = await ctx.db.table('adoption_interventions').where({ id: req.params.id }).first();
        if (!before) throw notFound(`no intervention ${req.params.id}`);
        const b = { ...req.body, ...(req.body.triggers ? { triggers: JSON.stringify(req.body.triggers) } : {}) };
        await ctx.db.table('adoption_interventions').where({ id: req.params.id }).update(b);
        await ctx.audit({ action: 'intervention.update', target: req.params.id, before, after: req.body });
        return ctx.db.table('adoption_interventions').where({ id: req.params.id }).first();
      },
    });
    env.route<unknown, { id: string }>({
      method: 'DELETE',
      path: '/interventions/:id',
      permission: 'adoption.admin',
      summary: 'Disable an intervention (kept for the history of assignments)',
      schema: { params: uuidParams, response: { 200: R.okAnswer } },
      async handler(req, ctx) {
        const n = await ctx.db.table('adoption_interventions').where({ id: req.params.id }).update({ enabled: false });
        if (!n) throw notFound(`no intervention ${req.params.id}`);
        await ctx.audit({ action: 'intervention.disable', target: req.params.id });
        return { ok: true };
      },
    });

    env.route({
      method: 'GET',
      path: '/learning-path',
      permission: 'adoption.read',
      summary: 'The caller’s learning path: interventions suggested for their flags, newest first, each intervention once',
      schema: { response: { 200: R.learningPathAnswer } },
      async handler(_req, ctx) {
        const c = me(ctx);
        const steps = oncePerIntervention(await learningPath(ctx, c.userId));
        await ctx.db.table('adoption_assignments').where({ user_id: c.userId }).whereNull('shown_at').update({ shown_at: new Date() });
        return { steps };
      },
    });
    for (const action of ['follow', 'dismiss'] as const) {
      env.route<unknown, { id: string }>({
        method: 'POST',
        path: `/learning-path/:id/${action}`,
        permission: 'adoption.read',
        summary: action === 'follow' ? 'Record that the caller followed a step of their learning path' : 'Dismiss a step of the caller’s learning path',
        schema: { params: uuidParams, response: { 200: R.okAnswer } },
        async handler(req, ctx) {
          const c = me(ctx);
          const column = action === 'follow' ? 'followed_at' : 'dismissed_at';
          const n = await ctx.db.table('adoption_assignments').where({ id: req.params.id, user_id: c.userId }).update({ [column]: new Date() });
          if (!n) throw notFound(`no step ${req.params.id} in your learning path`);
          return { ok: true };
        },
      });
    }

    env.route({
      method: 'GET',
      path: '/effectiveness',
      permission: 'adoption.manage',
      summary: 'Of users flagged and given an intervention, how many left “needs support” within N days: followed vs not followed',
      schema: { querystring: obj({ ...dayRange, days: { type: 'integer', minimum: 1, maximum: 365 } }), response: { 200: R.effectivenessAnswer } },
      async handler(req, ctx) {
        const { from, to } = range(req.query, 90);
        const s = await loadSettings(ctx);
        return effectiveness(ctx, s, from, to, Number(req.query.days ?? s.effectivenessDays));
      },
    });

    env.route({
      method: 'GET',
      path: '/expertise',
      permission: 'adoption.read',
      summary: 'Users who moved to expert, when and by which criteria (users the caller may see)',
      schema: { response: { 200: R.expertiseAnswer } },
      async handler(_req, ctx) {
        const s = await loadSettings(ctx);
        const dir = await loadDirectory(ctx);
        const visible = await visibleUsers(ctx, s, dir);
        const rows = (await ctx.db.table('adoption_expertise').orderBy('day', 'desc').select('user_id', 'reasons', ctx.db.raw(`to_char(day, 'YYYY-MM-DD') as day`))) as Array<{ user_id: string }>;
        return { experts: rows.filter((r) => visible === null || visible.has(r.user_id)).map((r) => ({ ...r, ...person(dir, r.user_id) })) };
      },
    });

    for (const period of ['weekly', 'monthly'] as const) {
      env.route({
        method: 'GET',
        path: `/reports/${period}`,
        permission: 'adoption.manage',
        summary: `${period === 'weekly' ? 'Weekly' : 'Monthly'} report: flagged users by department and signal, share flagged over time, intervention effectiveness`,
        schema: {
          querystring: obj(period === 'weekly' ? { week: { ...DAY, description: 'any day of the week (Monday start); default: the last complete week' } } : { month: { type: 'string', pattern: '^\\d{4}-\\d{2}$', description: 'default: the last complete month' } }),
          response: { 200: R.reportAnswer },
        },
        async handler(req, ctx) {
          let from: string;
          let to: string;
          if (period === 'weekly') {
            const anchor = req.query.week ?? addDays(today(), -7);
            const d = new Date(`${anchor}T00:00:00Z`);
            from = addDays(anchor, -((d.getUTCDay() + 6) % 7));
            to = addDays(from, 7);
          } else {
            const now = new Date();
            const m = req.query.month ?? new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
            from = `${m}-01`;
            const [y, mo] = m.split('-').map(Number) as [number, number];
            to = new Date(Date.UTC(y, mo, 1)).toISOString().slice(0, 10);
          }
          const s = await loadSettings(ctx);
          const dir = await loadDirectory(ctx);
          return { period, ...(await flagReport(ctx, s, dir, from, to, await visibleUsers(ctx, s, dir), mayIndividuals(ctx, s))) };
        },
      });
    }

    env.route({
      method: 'GET',
      path: '/roi',
      permission: 'adoption.manage',
      summary: 'Value (time saved at the hourly rate, errors avoided at their cost) against AI spend, per day or week',
      description: '`bucket` defaults to `day` for ranges up to 31 days and `week` beyond; each series item starts at `start` (UTC), weekly items also carry it as `week`.',
      cache: ANSWERS,
      schema: { querystring: obj({ ...dayRange, department_id: { type: 'string', maxLength: 64 }, bucket: { type: 'string', enum: ['day', 'week'] } }), response: { 200: R.roiAnswer } },
      async handler(req, ctx) {
        const { from, to } = range(req.query, 84);
        return { from, to, ...(await roi(ctx, await loadSettings(ctx), from, to, req.query.department_id, roiBucket(from, to, req.query.bucket))) };
      },
    });

    env.route<unknown, unknown, { from?: string; to?: string; flags?: boolean; notify?: boolean }>({
      method: 'POST',
      path: '/admin/rescore',
      permission: 'adoption.admin',
      summary: 'Score a range of days now, oldest first (backfill, or replaying a timeline with flags)',
      description:
        'Idempotent: a day scored twice keeps one row per user. `flags` evaluates flags and expertise day by day as the jobs would have; the flags it raises wait for an Admin’s confirmation (`POST /flags/confirm`) unless `notify` (default false) sends the notifications at once.',
      schema: { body: obj({ ...dayRange, flags: { type: 'boolean' }, notify: { type: 'boolean' } }), response: { 200: R.rescoreAnswer } },
      async handler(req, ctx) {
        const { from, to } = range(req.body, 1);
        if ((Date.parse(to) - Date.parse(from)) / 86_400_000 > 120) throw badRequest('at most 120 days per call', { field: 'from' });
        const days = [];
        for (let d = from; d < to; d = addDays(d, 1))
          days.push(await scoreDay(ctx, { day: d, users: null, flags: !!req.body.flags, notify: !!req.body.notify, ...(req.body.flags && !req.body.notify ? { hold: 'backfill' as const } : {}) }));
        await ctx.audit({ action: 'rescore', after: { from, to, flags: !!req.body.flags } });
        return { days };
      },
    });

    env.route({
      method: 'GET',
      path: '/status',
      permission: 'adoption.manage',
      summary: 'Users waiting to be rescored, the last scored day, and flags waiting for an Admin’s confirmation',
      schema: { response: { 200: R.statusAnswer } },
      async handler(_req, ctx) {
        const [d] = await ctx.db.table('adoption_dirty').count({ n: '*' });
        const last = await ctx.db.table('adoption_scores').max({ at: 'computed_at' });
        const [p] = await ctx.db.table('adoption_flags').whereNotNull('pending').where({ status: 'open' }).count({ n: '*' });
        return { dirty_users: Number(d?.n ?? 0), last_computed_at: last[0]?.at ?? null, pending_flags: Number(p?.n ?? 0) };
      },
    });
  },
});
