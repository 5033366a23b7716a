/**
 * The four workflow routes of API.md under `/api/v1/workflows`.
 */
import { checkBuckets, bucketIso, parseTimeRange, timeRangeQuerySchema, type Granularity, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { HEAVY, READ } from '../funnel/routes.ts';
import { actionsSql, exitsSql, stepsSql, workflowParams, type Scope } from './sql.ts';
import { readDepartments, readList, readSummary, type SummaryRow } from './figures.ts';
import type { Source } from './rollup.ts';

export const PREFIX = 'workflows';
/** Answers are remembered until the org's events change (and at most this long). */
const CACHE = { maxAgeSeconds: 300 };

/**
 * `raw` reads raw events only, skipping the enrolment rollup: the same answer, slower (for
 * checking the rollup and as its baseline).
 */
const sourceParam = {
  type: 'string',
  enum: ['auto', 'merge', 'raw'],
  default: 'auto',
  description:
    '`raw`: read raw events only instead of the enrolment rollup (a 400 for a `from` before the org\'s raw-event horizon: those events have expired, the rollup keeps them); `merge`: the rollup merged per user, without its derived outcome rows (same answer)',
};
const rangeQuery = { type: 'object', additionalProperties: false, properties: { from: timeRangeQuerySchema.from, to: timeRangeQuerySchema.to } };
const rangeSourceQuery = { type: 'object', additionalProperties: false, properties: { from: timeRangeQuerySchema.from, to: timeRangeQuerySchema.to, source: sourceParam } };
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 256, description: '`workflow_id`' } } };
const int = { type: 'integer' };
const numOrNull = { type: ['number', 'null'] };
const arrayOf = (properties: Record<string, unknown>) => ({ type: 'array', items: { type: 'object', properties } });

const n = (v: unknown) => Number(v ?? 0);
const sec = (ms: unknown) => (ms === null || ms === undefined || Number.isNaN(Number(ms)) ? null : Number(ms) / 1000);
const orNull = (v: unknown) => (v === null || v === undefined || Number.isNaN(Number(v)) ? null : Number(v));

/** Workflow figures are aggregates: they read every department's events (no route here names people). */
export async function scopeOf(_ctx: TenantContext): Promise<Scope> {
  return { departments: null };
}

export function summaryOf(r: SummaryRow | undefined) {
  const enrolled = n(r?.enrolled);
  const completed = n(r?.completed);
  const exited = n(r?.exited);
  return {
    enrolled,
    currently_active: enrolled - completed - exited,
    completed,
    exited,
    conversion_rate: enrolled ? completed / enrolled : null,
    median_seconds_to_complete: completed ? sec(r?.median_ms) : null,
    avg_seconds_to_complete: completed ? sec(r?.avg_ms) : null,
  };
}

export const SEMANTICS =
  'Over the users who enrolled (`workflow_step`, action `enrolled`) in [from, to); a user’s enrolment time is their first ' +
  'enrolment in the range. `completed`: a `goal_reached` later than it; `exited`: a later `exited` and no later `goal_reached`; ' +
  '`currently_active`: the rest; `conversion_rate` = completed / enrolled. Events after `to` count (a goal reached after the ' +
  'range still completes an enrolment in it). Times to complete: first goal after enrolment; the median is exact ' +
  '(`quantileExactInclusive`: the mean of the two middle values for an even count).';

export function registerWorkflowRoutes(env: PluginEnv) {
  env.route<{ from?: string; to?: string; source?: Source }>({
    method: 'GET',
    path: '/',
    prefix: PREFIX,
    permission: READ,
    rateLimit: HEAVY,
    cache: CACHE,
    summary: 'Workflows with enrolments in the range: enrolled, active, completed, exited, conversion',
    description: SEMANTICS,
    schema: {
      querystring: rangeSourceQuery,
      response: { 200: { type: 'object', properties: { workflows: arrayOf({ workflow_id: { type: 'string' }, enrolled: int, active: int, completed: int, exited: int, conversion_rate: numOrNull }) } } },
    },
    async handler(req, ctx) {
      const range = parseTimeRange(req.query, 30);
      const scope = await scopeOf(ctx);
      const rows = await readList(ctx, range, scope, req.query.source);
      return {
        workflows: rows.map((r) => {
          const s = summaryOf(r);
          return { workflow_id: r.workflow_id, enrolled: s.enrolled, active: s.currently_active, completed: s.completed, exited: s.exited, conversion_rate: s.conversion_rate };
        }),
      };
    },
  });

  env.route<{ from?: string; to?: string; tz?: string; granularity?: Granularity; source?: Source }, { id: string }>({
    method: 'GET',
    path: '/:id/analytics',
    prefix: PREFIX,
    permission: READ,
    rateLimit: HEAVY,
    cache: CACHE,
    summary: 'Summary cards and a series (hour, day or week in the user’s zone) of one workflow',
    description: `${SEMANTICS} The series counts distinct enrolled users per bucket of the event’s own timestamp in [from, to): enrolments, later goals, later exits; buckets without events are left out.`,
    schema: {
      params: idParams,
      querystring: { type: 'object', additionalProperties: false, properties: { ...timeRangeQuerySchema, granularity: { type: 'string', enum: ['hour', 'day', 'week'], default: 'day' }, source: sourceParam } },
      response: {
        200: {
          type: 'object',
          properties: {
            summary: {
              type: 'object',
              properties: { enrolled: int, currently_active: int, completed: int, exited: int, conversion_rate: numOrNull, median_seconds_to_complete: numOrNull, avg_seconds_to_complete: numOrNull },
            },
            series: arrayOf({ bucket: { type: 'string' }, enrolled: int, completed: int, exited: int }),
          },
        },
      },
    },
    async handler(req, ctx) {
      const range = parseTimeRange(req.query, 30);
      const granularity = req.query.granularity ?? 'day';
      checkBuckets(range, granularity);
      const scope = await scopeOf(ctx);
      const { summary, series } = await readSummary(ctx, range, req.params.id, scope, granularity, req.query.source);
      return {
        summary: summaryOf(summary),
        series: series.map((s) => ({ bucket: new Date(bucketIso(s.bucket, range.tz)).toISOString(), enrolled: n(s.enrolled), completed: n(s.completed), exited: n(s.exited) })),
      };
    },
  });

  env.route<{ from?: string; to?: string; source?: Source }, { id: string }>({
    method: 'GET',
    path: '/:id/analytics/departments',
    prefix: PREFIX,
    permission: READ,
    rateLimit: HEAVY,
    cache: CACHE,
    summary: 'One workflow compared across departments: the summary per department of the enrolment',
    description: `${SEMANTICS} A user belongs to the department on their first enrolment event in the range.`,
    schema: {
      params: idParams,
      querystring: rangeSourceQuery,
      response: {
        200: {
          type: 'object',
          properties: {
            departments: arrayOf({ department_id: { type: 'string' }, enrolled: int, currently_active: int, completed: int, exited: int, conversion_rate: numOrNull, median_seconds_to_complete: numOrNull, avg_seconds_to_complete: numOrNull }),
          },
        },
      },
    },
    async handler(req, ctx) {
      const range = parseTimeRange(req.query, 30);
      const scope = await scopeOf(ctx);
      const rows = await readDepartments(ctx, range, req.params.id, scope, req.query.source);
      return { departments: rows.map((r) => ({ department_id: r.department_id, ...summaryOf(r) })) };
    },
  });

  env.route<{ from?: string; to?: string }, { id: string }>({
    method: 'GET',
    path: '/:id/analytics/funnel',
    prefix: PREFIX,
    permission: READ,
    rateLimit: HEAVY,
    cache: CACHE,
    summary: 'Per step of one workflow: entered, completed, drop-off and median time in step',
    description:
      `${SEMANTICS} A step is a \`workflow_step\` name; its index the smallest \`step_index\` seen for it. \`entered\`/\`completed\`: enrolled ` +
      'users with `step_entered`/`step_completed` of the step at or after their enrolment; `drop_off` = entered − completed; ' +
      '`median_seconds_in_step`: from a user’s first `step_entered` to their first `step_completed` at or after it (exact median).',
    schema: {
      params: idParams,
      querystring: rangeQuery,
      response: {
        200: {
          type: 'object',
          properties: { steps: arrayOf({ step: { type: 'string' }, step_index: int, entered: int, completed: int, drop_off: int, drop_off_rate: numOrNull, median_seconds_in_step: numOrNull }) },
        },
      },
    },
    async handler(req, ctx) {
      const range = parseTimeRange(req.query, 30);
      const scope = await scopeOf(ctx);
      const rows = await ctx.analytics.query<{ step: string; step_index: unknown; entered: unknown; completed: unknown; median_ms: unknown }>(
        stepsSql(ctx.analytics.table('events'), scope),
        workflowParams(range, req.params.id, scope),
      );
      return {
        steps: rows.map((r) => {
          const entered = n(r.entered);
          const completed = n(r.completed);
          return {
            step: r.step,
            step_index: n(r.step_index),
            entered,
            completed,
            drop_off: entered - completed,
            drop_off_rate: entered ? (entered - completed) / entered : null,
            median_seconds_in_step: sec(r.median_ms),
          };
        }),
      };
    },
  });

  env.route<{ from?: string; to?: string }, { id: string }>({
    method: 'GET',
    path: '/:id/analytics/actions',
    prefix: PREFIX,
    permission: READ,
    rateLimit: HEAVY,
    cache: CACHE,
    summary: 'Per step and action of one workflow: events, users, durations; exits by step and reason',
    description:
      `${SEMANTICS} Actions: the enrolled users’ events of the workflow at or after their enrolment, per \`workflow_step\` ('' for ` +
      'actions without a step) and `action`; durations are `duration_ms` of the events that carry one (exact median). Exits: ' +
      '`exited` events later than the enrolment, per step named on the event and `reason`.',
    schema: {
      params: idParams,
      querystring: rangeQuery,
      response: {
        200: {
          type: 'object',
          properties: {
            actions: arrayOf({ step: { type: 'string' }, step_index: int, action: { type: 'string' }, events: int, users: int, median_duration_ms: numOrNull, avg_duration_ms: numOrNull }),
            exit_reasons: arrayOf({ step: { type: 'string' }, reason: { type: 'string' }, events: int, users: int }),
          },
        },
      },
    },
    async handler(req, ctx) {
      const range = parseTimeRange(req.query, 30);
      const scope = await scopeOf(ctx);
      const events = ctx.analytics.table('events');
      const params = workflowParams(range, req.params.id, scope);
      const [actions, exits] = await Promise.all([
        ctx.analytics.query<Record<string, unknown>>(actionsSql(events, scope), params),
        ctx.analytics.query<Record<string, unknown>>(exitsSql(events, scope), params),
      ]);
      return {
        actions: actions.map((a) => ({
          step: String(a.step),
          step_index: n(a.step_index),
          action: String(a.action),
          events: n(a.events),
          users: n(a.users),
          median_duration_ms: orNull(a.median_duration_ms),
          avg_duration_ms: orNull(a.avg_duration_ms),
        })),
        exit_reasons: exits.map((x) => ({ step: String(x.step), reason: String(x.reason), events: n(x.events), users: n(x.users) })),
      };
    },
  });
}
