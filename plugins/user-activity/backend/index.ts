/**
 * user-activity: the usage facts — who is active (DAU/WAU/MAU, stickiness),
 * for how long (sessions), with what (features, commands, tools, agents and
 * the diversity of it), when (heatmaps), how users come and go (lifecycle),
 * and what the command log says (sequences, repetitive patterns, adoption).
 *
 * The plugin owns `/api/v1/users…` and, as a second prefix, the contract route
 * `/api/v1/metrics/dau` (API.md).
 */
import { badRequest, definePlugin, notFound, timeRangeQuerySchema, type Granularity } from '@orrery/plugin-sdk';
import { activeUsersSeries, breakdown, departmentWeekHeatmap, hourWeekdayHeatmap, lifecycle, summary } from './activity.ts';
import { commandAdoption, commandOverview, repetitivePatterns, sequences } from './commands.ts';
import { assertMayView, filterQuerySchema, filters, hiddenScope, limitParam } from './scope.ts';
import { widgets } from '../widgets.ts';
import { activityAnswer, adoptionAnswer, dauAnswer, engagementAnswer, heatmapAnswer, lifecycleAnswer, overviewAnswer, patternsAnswer, sequencesAnswer, usageAnswer, userAnswer } from '../answers.ts';
import type { ActivityAnswer, AdoptionAnswer, DauAnswer, EngagementAnswer, HeatmapAnswer, LifecycleAnswer, OverviewAnswer, PatternsAnswer, SequencesAnswer, UsageAnswer, UserAnswer } from '../answers.ts';
import { activityCohorts, activityMetrics } from './contracts.ts';
import { engagement, SORTS, usage, USAGE, type Sort, type UsageKind } from './usage.ts';
import { userAnalytics } from './userAnalytics.ts';
import { ACTIVITY, clickhouseMigrations } from './rollups.ts';

const q = (props: Record<string, unknown> = {}) => ({
  type: 'object',
  properties: { ...timeRangeQuerySchema, ...filterQuerySchema, ...props },
  additionalProperties: false,
});
/**
 * The routes read the org's events and its department rows: the platform may answer a
 * repeated request from memory until events or memberships change, or a minute passes
 * (which bounds a department renamed meanwhile).
 */
const REMEMBER = { maxAgeSeconds: 60 };
const limit = { limit: { type: 'integer', minimum: 1, maximum: 1000 } };

export default definePlugin({
  from: import.meta.url,
  id: 'user-activity',
  version: '1.0.0',
  sdk: '^2.0.0',
  title: 'User activity',
  description: 'Active users, stickiness, sessions, usage diversity, heatmaps, lifecycle and command analytics.',
  routePrefix: 'users',
  extraRoutePrefixes: ['metrics/dau'],
  provides: [activityMetrics, activityCohorts],
  permissions: { 'users.read': ['Admin', 'Manager', 'Developer'] },
  migrations: { clickhouse: clickhouseMigrations },
  rollups: [ACTIVITY],
  frontend: {
    remoteName: 'user_activity',
    distDir: 'frontend/dist',
    widgets,
  },
  register(env) {
    env.route({
      method: 'GET',
      path: '/',
      prefix: 'metrics/dau',
      permission: 'users.read',
      cache: REMEMBER,
      summary: 'Distinct active users per bucket (DAU, WAU or MAU by granularity)',
      description:
        'A user is active in a bucket when any event of theirs has a timestamp in it. Every bucket of the range is present (0 when nobody was active); the first bucket starts at or before `from`. `department_id` counts events recorded in that department; `agent` events of that agent.',
      schema: {
        querystring: q({ granularity: { type: 'string', enum: ['day', 'week', 'month'], default: 'day' } }),
        response: { 200: dauAnswer },
      },
      async handler(req, ctx): Promise<DauAnswer> {
        return { series: await activeUsersSeries(ctx, filters(req.query), (req.query.granularity ?? 'day') as Granularity) };
      },
    });

    env.route({
      method: 'GET',
      path: '/activity',
      permission: 'users.read',
      cache: REMEMBER,
      summary: 'Active users, stickiness, sessions, lifecycle and breakdowns by department and agent',
      description:
        'Stickiness = mean daily active users over the range ÷ distinct active users of the range (DAU/MAU for a month). `dau`, `wau`, `mau` are distinct users of the last 1, 7 and 30 days before `to`. Lifecycle compares the range with the equally long period before it.',
      schema: { querystring: q({ granularity: { type: 'string', enum: ['day', 'week', 'month'], default: 'day' } }), response: { 200: activityAnswer } },
      async handler(req, ctx): Promise<ActivityAnswer> {
        const f = filters(req.query);
        const g = (req.query.granularity ?? 'day') as 'day' | 'week' | 'month';
        const [s, series, depts, agents, life] = [
          await summary(ctx, f),
          await activeUsersSeries(ctx, f, g),
          await breakdown(ctx, f, 'department_id'),
          await breakdown(ctx, f, 'agent_name'),
          await lifecycle(ctx, f, g),
        ];
        return { ...s, granularity: g, series, by_department: depts, by_agent: agents, lifecycle: life };
      },
    });

    env.route({
      method: 'GET',
      path: '/activity/heatmap',
      permission: 'users.read',
      cache: REMEMBER,
      summary: 'Activity heatmap: hour × weekday (1 = Monday, in `tz`) or department × week',
      schema: { querystring: q({ kind: { type: 'string', enum: ['hour_weekday', 'department_week'], default: 'hour_weekday' } }), response: { 200: heatmapAnswer } },
      async handler(req, ctx): Promise<HeatmapAnswer> {
        const f = filters(req.query);
        return req.query.kind === 'department_week'
          ? { kind: 'department_week', cells: await departmentWeekHeatmap(ctx, f) }
          : { kind: 'hour_weekday', cells: await hourWeekdayHeatmap(ctx, f) };
      },
    });

    env.route({
      method: 'GET',
      path: '/activity/lifecycle',
      permission: 'users.read',
      cache: REMEMBER,
      summary: 'New, returning, resurrected and dormant users per bucket',
      schema: { querystring: q({ granularity: { type: 'string', enum: ['day', 'week', 'month'], default: 'week' } }), response: { 200: lifecycleAnswer } },
      async handler(req, ctx): Promise<LifecycleAnswer> {
        return { series: await lifecycle(ctx, filters(req.query), req.query.granularity ?? 'week') };
      },
    });

    env.route({
      method: 'GET',
      path: '/usage',
      permission: 'users.read',
      cache: REMEMBER,
      summary: 'Feature, command, tool or agent usage with diversity',
      schema: { querystring: q({ kind: { type: 'string', enum: Object.keys(USAGE), default: 'feature' }, ...limit }), response: { 200: usageAnswer } },
      async handler(req, ctx): Promise<UsageAnswer> {
        return usage(ctx, filters(req.query), (req.query.kind ?? 'feature') as UsageKind, limitParam(req.query.limit, 50, 1000));
      },
    });

    env.route({
      method: 'GET',
      path: '/engagement',
      permission: 'users.read',
      cache: REMEMBER,
      summary: 'Per-user engagement ranking and each department’s means',
      description: 'Users of restricted departments the caller does not manage are left out (Admins see everyone).',
      schema: { querystring: q({ sort: { type: 'string', enum: [...SORTS], default: 'events' }, ...limit }), response: { 200: engagementAnswer } },
      async handler(req, ctx): Promise<EngagementAnswer> {
        const f = filters(req.query);
        return engagement(ctx, f, (req.query.sort ?? 'events') as Sort, limitParam(req.query.limit, 50, 1000), await hiddenScope(ctx));
      },
    });

    env.route({
      method: 'GET',
      path: '/commands',
      permission: 'users.read',
      cache: REMEMBER,
      summary: 'Most used slash commands',
      schema: { querystring: q(limit), response: { 200: usageAnswer } },
      async handler(req, ctx): Promise<UsageAnswer> {
        return usage(ctx, filters(req.query), 'command', limitParam(req.query.limit, 20, 1000));
      },
    });

    env.route({
      method: 'GET',
      path: '/commands/sequences',
      permission: 'users.read',
      cache: REMEMBER,
      summary: 'Common command sequences (n-grams of commands within one session)',
      schema: { querystring: q({ n: { type: 'integer', minimum: 2, maximum: 5, default: 2 }, ...limit }), response: { 200: sequencesAnswer } },
      async handler(req, ctx): Promise<SequencesAnswer> {
        const n = Number(req.query.n ?? 2);
        return { n, sequences: await sequences(ctx, filters(req.query), n, limitParam(req.query.limit, 20, 1000)) };
      },
    });

    env.route({
      method: 'GET',
      path: '/commands/patterns',
      permission: 'users.read',
      cache: REMEMBER,
      summary: 'Repetitive command patterns that suggest an automation',
      schema: {
        querystring: q({
          n: { type: 'integer', minimum: 2, maximum: 5, default: 3 },
          min_sessions: { type: 'integer', minimum: 2, maximum: 1000, default: 3 },
          ...limit,
        }),
        response: { 200: patternsAnswer },
      },
      async handler(req, ctx): Promise<PatternsAnswer> {
        const n = Number(req.query.n ?? 3);
        const min = Number(req.query.min_sessions ?? 3);
        return { n, min_sessions: min, patterns: await repetitivePatterns(ctx, filters(req.query), n, min, limitParam(req.query.limit, 20, 1000)) };
      },
    });

    env.route({
      method: 'GET',
      path: '/commands/overview',
      permission: 'users.read',
      cache: REMEMBER,
      summary: 'Most used slash commands, common sequences and repetitive patterns in one answer',
      description:
        'The answers of `/commands` (`limit`), `/commands/sequences` (`seq_n`, `seq_limit`) and `/commands/patterns` (`pattern_n`, `min_sessions`, `pattern_limit`) together, from one query: what the command-usage widget shows.',
      schema: {
        querystring: q({
          ...limit,
          seq_n: { type: 'integer', minimum: 2, maximum: 5, default: 2 },
          seq_limit: { type: 'integer', minimum: 1, maximum: 1000, default: 5 },
          pattern_n: { type: 'integer', minimum: 2, maximum: 5, default: 3 },
          min_sessions: { type: 'integer', minimum: 2, maximum: 1000, default: 3 },
          pattern_limit: { type: 'integer', minimum: 1, maximum: 1000, default: 5 },
        }),
        response: { 200: overviewAnswer },
      },
      async handler(req, ctx): Promise<OverviewAnswer> {
        return commandOverview(ctx, filters(req.query), {
          limit: limitParam(req.query.limit, 20, 1000),
          seqN: Number(req.query.seq_n ?? 2),
          seqLimit: limitParam(req.query.seq_limit, 5, 1000),
          patternN: Number(req.query.pattern_n ?? 3),
          minSessions: Number(req.query.min_sessions ?? 3),
          patternLimit: limitParam(req.query.pattern_limit, 5, 1000),
        });
      },
    });

    env.route({
      method: 'GET',
      path: '/commands/adoption',
      permission: 'users.read',
      cache: REMEMBER,
      summary: 'Adoption of each command across departments, week by week',
      schema: { querystring: q({ command: { type: 'string', maxLength: 2000, description: 'comma-separated command names; default: the top `limit`' }, ...limit }), response: { 200: adoptionAnswer } },
      async handler(req, ctx): Promise<AdoptionAnswer> {
        const names = req.query.command ? String(req.query.command).split(',').map((s: string) => s.trim()).filter(Boolean) : null;
        return commandAdoption(ctx, filters(req.query), names, limitParam(req.query.limit, 10, 100));
      },
    });

    env.route({
      method: 'GET',
      path: '/:id/analytics',
      permission: 'users.read',
      cache: REMEMBER,
      summary: 'One user’s activity, compared with their departments and the org',
      description: 'Anyone may see their own; a member of a restricted department only the department’s managers and Admins.',
      schema: { querystring: q(), params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] }, response: { 200: userAnswer } },
      async handler(req, ctx): Promise<UserAnswer> {
        const id = req.params.id === 'me' ? ctx.caller?.userId : req.params.id;
        if (!id) throw badRequest('no user');
        await assertMayView(ctx, id);
        const r = await userAnalytics(ctx, filters(req.query), id);
        if (!r.totals && !r.user.email) throw notFound(`no user ${id} in this org`);
        return r;
      },
    });
  },
});
