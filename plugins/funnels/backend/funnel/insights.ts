/**
 * What a funnel answer leads to: who dropped at a step, what they did instead, how long
 * converting took, and conversion by entry date. Each is one query over the per-unit
 * rows of `unitsSql` (the same attempts and paths as the funnel itself).
 */
import { badRequest, bucketExpr, bucketIso, checkBuckets, forbidden, parseTimeRange, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { funnelBodySchema, planFunnel, type FunnelInput, type FunnelPlan } from './spec.ts';
import { funnelParams, unitsSql } from './sql.ts';
import { HEAVY, READ } from './routes.ts';

export const PEOPLE_LIMIT = 500;

/** Who may list individuals (plugin setting `individualAccess`, default managers). */
export type IndividualAccess = 'admins' | 'managers' | 'everyone';

export async function assertMayListPeople(ctx: TenantContext) {
  const c = ctx.caller;
  if (!c) throw forbidden('a signed-in user is required');
  const settings = await ctx.settings.get<{ individualAccess?: IndividualAccess }>();
  const access = settings.individualAccess ?? 'managers';
  if (c.role === 'Admin' || access === 'everyone' || (access === 'managers' && c.role === 'Manager')) return;
  throw forbidden(`listing individuals is allowed to ${access === 'admins' ? 'Admins' : 'Admins and Managers'} in this organization`, { role: c.role });
}

const withBody = (extra: Record<string, unknown>, required: string[] = []) => ({
  ...funnelBodySchema,
  required: [...funnelBodySchema.required, ...required],
  properties: { ...funnelBodySchema.properties, ...extra },
});

const stepOf = (plan: FunnelPlan, step: number | undefined, field: string, def: number) => {
  const k = step ?? def;
  if (!Number.isInteger(k) || k < 0 || k >= plan.steps.length) throw badRequest(`${field}: ${k} is not a step of the funnel (0…${plan.steps.length - 1})`, { field });
  return k;
};

/** Label of an event for "what they did instead": type, action and its main name. */
const LABEL = `concat(event_type, if(action != '', concat(':', action), ''),
  multiIf(command_name != '', concat(' ', command_name), feature_name != '', concat(' ', feature_name), tool_name != '', concat(' ', tool_name),
          workflow_id != '', concat(' ', workflow_id), agent_name != '', concat(' ', agent_name), ''))`;

export function registerInsightRoutes(env: PluginEnv) {
  env.route<unknown, unknown, FunnelInput & { step: number; limit?: number }>({
    method: 'POST',
    path: '/query/people',
    permission: READ,
    rateLimit: HEAVY,
    summary: 'The units (users or sessions) that dropped at a step: reached step − 1, never this step',
    description:
      'Same body as `/funnels/query` plus `step` (≥ 1) and `limit`. Only callers allowed to see individuals (Admins, and Managers unless ' +
      'the org setting `individualAccess` says `admins`; `everyone` opens it to all) may call it, and only events of departments they may see are read.',
    schema: {
      body: withBody({ step: { type: 'integer', minimum: 1, maximum: 19 }, limit: { type: 'integer', minimum: 1, maximum: PEOPLE_LIMIT, default: 100 } }, ['step']),
      response: {
        200: {
          type: 'object',
          properties: {
            step: { type: 'integer' },
            total: { type: 'integer' },
            people: { type: 'array', items: { type: 'object', properties: { unit: { type: 'string' }, reached_step: { type: 'integer' }, last_step_at: { type: 'string' } } } },
          },
        },
      },
    },
    async handler(req, ctx) {
      await assertMayListPeople(ctx);
      const plan = planFunnel(req.body);
      const k = stepOf(plan, req.body.step, 'step', 1);
      if (k < 1) throw badRequest('step: people drop at a step ≥ 1', { field: 'step' });
      const depts = await ctx.visibleUserDepartments();
      const rows = await ctx.analytics.query<{ unit: string; K: number; last: number; total: number }>(
        `SELECT unit, K, path[K + 1] AS last, count() OVER () AS total FROM (${unitsSql(plan, ctx.analytics.table('events'), { byBreakdown: false, deptFilter: !!depts, ids: true })})
         WHERE K = {reached:Int64} ORDER BY last DESC, unit LIMIT {limit:UInt32}`,
        { ...funnelParams(plan, depts), reached: k - 1, limit: req.body.limit ?? 100 },
      );
      return {
        step: k,
        total: Number(rows[0]?.total ?? 0),
        people: rows.map((r) => ({ unit: r.unit, reached_step: Number(r.K), last_step_at: new Date(Number(r.last)).toISOString() })),
      };
    },
  });

  env.route<unknown, unknown, FunnelInput & { step: number }>({
    method: 'POST',
    path: '/query/next-events',
    permission: READ,
    rateLimit: HEAVY,
    summary: 'What the units that dropped at a step did next: their next two events, as Sankey links',
    description:
      'Same body as `/funnels/query` plus `step` (≥ 1). For each unit that reached step − 1 and never `step`, its first two events strictly after ' +
      'its last reached step and within the conversion window of its attempt; `(nothing)` when there is none. Links: step → first event → second event.',
    schema: {
      body: withBody({ step: { type: 'integer', minimum: 1, maximum: 19 } }, ['step']),
      response: {
        200: {
          type: 'object',
          properties: {
            step: { type: 'integer' },
            dropped: { type: 'integer' },
            next: { type: 'array', items: { type: 'object', properties: { event: { type: 'string' }, units: { type: 'integer' } } } },
            links: { type: 'array', items: { type: 'object', properties: { source: { type: 'string' }, target: { type: 'string' }, units: { type: 'integer' } } } },
          },
        },
      },
    },
    async handler(req, ctx) {
      const plan = planFunnel(req.body);
      const k = stepOf(plan, req.body.step, 'step', 1);
      const units = unitsSql(plan, ctx.analytics.table('events'), { byBreakdown: false, deptFilter: false, ids: true });
      const unitCol = plan.unit === 'user' ? 'user_id' : 'session_id';
      const rows = await ctx.analytics.query<{ first: string; second: string; units: number }>(
        `WITH dropped AS (SELECT unit, path[K + 1] AS last, t0 FROM (${units}) WHERE K = {reached:Int64})
         SELECT if(length(labels) >= 1, labels[1], '(nothing)') AS first, if(length(labels) >= 2, labels[2], '(nothing)') AS second, count() AS units
         FROM (
           SELECT d.unit AS unit, arraySlice(arrayMap(x -> x.3, arraySort(x -> (x.1, x.2), groupArrayIf((ev.t, ev.event_id, ev.label), ev.t > d.last AND ev.t <= d.t0 + {window_ms:Int64}))), 1, 2) AS labels
           FROM dropped AS d
           LEFT JOIN (
             SELECT ${unitCol} AS unit, toUnixTimestamp64Milli(timestamp) AS t, event_id, ${LABEL} AS label
             FROM ${ctx.analytics.table('events')}
             WHERE org_id = {org_id:String} AND timestamp >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
               AND timestamp <= fromUnixTimestamp64Milli({until_ms:Int64}, 'UTC') AND ${unitCol} IN (SELECT unit FROM dropped)
           ) AS ev ON ev.unit = d.unit
           GROUP BY d.unit
         )
         GROUP BY first, second ORDER BY units DESC, first, second`,
        { ...funnelParams(plan, null), reached: k - 1 },
      );
      const stepLabel = `step ${k - 1}`;
      const firsts = new Map<string, number>();
      const links = new Map<string, { source: string; target: string; units: number }>();
      const add = (source: string, target: string, n: number) => {
        const key = `${source}\u0000${target}`;
        const l = links.get(key) ?? { source, target, units: 0 };
        l.units += n;
        links.set(key, l);
      };
      let dropped = 0;
      for (const r of rows) {
        const n = Number(r.units);
        dropped += n;
        firsts.set(r.first, (firsts.get(r.first) ?? 0) + n);
        add(stepLabel, `1: ${r.first}`, n);
        if (r.first !== '(nothing)') add(`1: ${r.first}`, `2: ${r.second}`, n);
      }
      return {
        step: k,
        dropped,
        next: [...firsts.entries()].map(([event, units]) => ({ event, units })).sort((a, b) => b.units - a.units || a.event.localeCompare(b.event)),
        links: [...links.values()].sort((a, b) => b.units - a.units || a.source.localeCompare(b.source) || a.target.localeCompare(b.target)),
      };
    },
  });

  env.route<unknown, unknown, FunnelInput & { from_step?: number; to_step?: number }>({
    method: 'POST',
    path: '/query/time-to-convert',
    permission: READ,
    rateLimit: HEAVY,
    summary: 'Distribution of the time from one step to a later one, over the units that reached the later step',
    description:
      'Same body as `/funnels/query` plus `from_step` (default 0) and `to_step` (default the last). Times are those of the funnel (the earliest ' +
      'attempt reaching the unit’s furthest step). Bins are powers of two in seconds: [0, 1), [1, 2), [2, 4), … Quantiles are exact (`quantilesExactInclusive`).',
    schema: {
      body: withBody({ from_step: { type: 'integer', minimum: 0, maximum: 19 }, to_step: { type: 'integer', minimum: 1, maximum: 19 } }),
      response: {
        200: {
          type: 'object',
          properties: {
            from_step: { type: 'integer' },
            to_step: { type: 'integer' },
            units: { type: 'integer' },
            median_seconds: { type: ['number', 'null'] },
            p90_seconds: { type: ['number', 'null'] },
            avg_seconds: { type: ['number', 'null'] },
            bins: { type: 'array', items: { type: 'object', properties: { from_seconds: { type: 'number' }, to_seconds: { type: 'number' }, units: { type: 'integer' } } } },
          },
        },
      },
    },
    async handler(req, ctx) {
      const plan = planFunnel(req.body);
      const a = stepOf(plan, req.body.from_step, 'from_step', 0);
      const z = stepOf(plan, req.body.to_step, 'to_step', plan.steps.length - 1);
      if (z <= a) throw badRequest('to_step must be after from_step', { field: 'to_step' });
      const units = unitsSql(plan, ctx.analytics.table('events'), { byBreakdown: false, deptFilter: false });
      const rows = await ctx.analytics.query<{ bin: number; units: number; total: number; q: number[]; avg_ms: number }>(
        `SELECT bin, count() AS units, any(total) AS total, any(q) AS q, any(avg_ms) AS avg_ms FROM (
           SELECT (path[{z:UInt32} + 1] - path[{a:UInt32} + 1]) AS ms,
                  if(ms < 1000, -1, toInt32(floor(log2(ms / 1000)))) AS bin,
                  count() OVER () AS total, quantilesExactInclusive(0.5, 0.9)(ms) OVER () AS q, avg(ms) OVER () AS avg_ms
           FROM (${units}) WHERE K >= {z:UInt32}
         ) GROUP BY bin ORDER BY bin`,
        { ...funnelParams(plan, null), a, z },
      );
      const total = Number(rows[0]?.total ?? 0);
      return {
        from_step: a,
        to_step: z,
        units: total,
        median_seconds: total ? Number(rows[0]!.q[0]) / 1000 : null,
        p90_seconds: total ? Number(rows[0]!.q[1]) / 1000 : null,
        avg_seconds: total ? Number(rows[0]!.avg_ms) / 1000 : null,
        bins: rows.map((r) => {
          const b = Number(r.bin);
          return { from_seconds: b < 0 ? 0 : 2 ** b, to_seconds: 2 ** (b + 1), units: Number(r.units) };
        }),
      };
    },
  });

  env.route<unknown, unknown, FunnelInput & { granularity?: 'hour' | 'day' | 'week'; tz?: string }>({
    method: 'POST',
    path: '/query/trends',
    permission: READ,
    rateLimit: HEAVY,
    summary: 'Conversion over time: units by the entry date of their attempt, and how many reached the last step',
    description:
      'Same body as `/funnels/query` plus `granularity` (hour, day, week; default day) and `tz`. A unit is placed in the bucket (in `tz`, weeks ' +
      'from Monday) of the step-0 time of its attempt that the funnel uses (the earliest reaching its furthest step); `converted` = units of ' +
      'the bucket that reached the last step. Buckets without units are left out.',
    schema: {
      body: withBody({ granularity: { type: 'string', enum: ['hour', 'day', 'week'], default: 'day' }, tz: { type: 'string', maxLength: 64 } }),
      response: {
        200: {
          type: 'object',
          properties: {
            series: { type: 'array', items: { type: 'object', properties: { bucket: { type: 'string' }, entered: { type: 'integer' }, converted: { type: 'integer' }, conversion_rate: { type: ['number', 'null'] } } } },
          },
        },
      },
    },
    async handler(req, ctx) {
      const plan = planFunnel(req.body);
      const range = parseTimeRange({ from: req.body.from, to: req.body.to, tz: req.body.tz });
      const granularity = req.body.granularity ?? 'day';
      checkBuckets(range, granularity);
      const units = unitsSql(plan, ctx.analytics.table('events'), { byBreakdown: false, deptFilter: false });
      const rows = await ctx.analytics.query<{ bucket: string; entered: number; converted: number }>(
        `SELECT ${bucketExpr("fromUnixTimestamp64Milli(t0, 'UTC')", granularity)} AS bucket, count() AS entered, countIf(K = {last:Int64}) AS converted
         FROM (${units}) GROUP BY bucket ORDER BY bucket`,
        { ...funnelParams(plan, null), last: plan.steps.length - 1, tz: range.tz },
      );
      return {
        series: rows.map((r) => ({
          bucket: new Date(bucketIso(r.bucket, range.tz)).toISOString(),
          entered: Number(r.entered),
          converted: Number(r.converted),
          conversion_rate: Number(r.entered) ? Number(r.converted) / Number(r.entered) : null,
        })),
      };
    },
  });
}
