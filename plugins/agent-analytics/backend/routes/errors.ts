/**
 * Errors of one agent (categories from the rollups, the latest failures from
 * raw events) and the drill-down to a single invocation.
 */
import { checkBuckets, notFound, type Granularity, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { previousPeriod, rawFilterSql } from '../query.ts';
import { agentParams, arrayOf, objectOf, parseCommon, querySchema, rangeSchema, rangeView, type CommonQuery } from '../params.ts';
import { PERMISSION, REMEMBER, agentMetrics } from './overview.ts';

const RECENT_LIMIT = 20;

/** Department clause for rows that name a user: a caller sees the departments the kernel lets them see. */
async function visibleDepartmentsSql(ctx: TenantContext, params: Record<string, unknown>) {
  const visible = await ctx.visibleUserDepartments();
  if (visible === null) return '';
  params.visible_departments = visible;
  return ' AND department_id IN {visible_departments:Array(String)}';
}

const invocationRow = {
  invocation_id: { type: 'string' },
  parent_invocation_id: { type: 'string' },
  timestamp: { type: 'string' },
  agent_name: { type: 'string' },
  agent_version: { type: 'string' },
  model_used: { type: 'string' },
  prompt_template_version: { type: 'string' },
  status: { type: 'string' },
  error_type: { type: 'string' },
  error_message: { type: 'string' },
  execution_time_ms: { type: 'number' },
  input_tokens: { type: 'integer' },
  output_tokens: { type: 'integer' },
  cost_usd: { type: 'number' },
  tools_used: { type: 'array', items: { type: 'string' } },
  user_id: { type: 'string' },
  department_id: { type: 'string' },
};
const INVOCATION_COLUMNS = Object.keys(invocationRow).filter((c) => c !== 'timestamp').join(', ');

const isoOf = (chTime: string) => `${chTime.replace(' ', 'T')}Z`;

export function registerErrorRoutes(env: PluginEnv) {
  env.route<CommonQuery & { granularity?: Granularity }, { name: string }>({
    method: 'GET',
    path: '/:name/errors',
    permission: PERMISSION,
    cache: REMEMBER,
    summary: "An agent's failures by error type: count, share of failures, rate, last seen, trend, and the latest failing invocations",
    description:
      '`share` is the error type’s part of all failures, `rate` its part of all invocations. `trend` counts each type per bucket ' +
      '(`granularity`, default day). `recent` lists the latest failing invocations (raw events) for drill-down with ' +
      '`GET /agents/{name}/invocations/{invocation_id}`; it only shows users of departments the caller may see.',
    schema: {
      querystring: querySchema({ granularity: { type: 'string', enum: ['minute', 'hour', 'day', 'week'], default: 'day' } }),
      params: agentParams,
      response: {
        200: objectOf({
          name: { type: 'string' },
          range: rangeSchema,
          invocations: { type: 'integer' },
          failures: { type: 'integer' },
          errors: arrayOf({
            error_type: { type: 'string' },
            count: { type: 'integer' },
            share: { type: 'number' },
            rate: { type: 'number' },
            last_seen: { type: ['string', 'null'] },
            previous_count: { type: ['integer', 'null'] },
          }),
          trend: arrayOf({ bucket: { type: 'string' }, error_type: { type: 'string' }, count: { type: 'integer' } }),
          recent: arrayOf(invocationRow),
        }),
      },
    },
    async handler(req, ctx) {
      const name = req.params.name;
      const granularity = req.query.granularity ?? 'day';
      const { range, filters, compare } = parseCommon(req.query);
      checkBuckets(range, granularity);
      const failed = { ...filters, status: 'failure' as const };
      const base = { filters, agent: name };
      // the aggregates in one round trip; the latest failing rows (raw events, another shape) alongside it
      const [[totals = [], byType = [], trend = [], prevRows], recent] = await Promise.all([
        agentMetrics(ctx, name, [
          { ...base, range },
          { ...base, range, filters: failed, groupBy: ['error_type'] },
          { ...base, range, filters: failed, groupBy: ['error_type'], granularity },
          ...(compare ? [{ ...base, range: previousPeriod(range), filters: failed, groupBy: ['error_type'] as const }] : []),
        ]),
        recentFailures(ctx, name, range.from, range.to, filters),
      ]);
      const prev = compare ? (prevRows ?? []) : null;
      const invocations = totals[0]?.invocations ?? 0;
      const failures = byType.reduce((a, r) => a + r.invocations, 0);
      const prevCount = new Map((prev ?? []).map((p) => [p.error_type!, p.invocations]));
      return {
        name,
        range: rangeView(range),
        invocations,
        failures,
        errors: byType
          .map((r) => ({
            error_type: r.error_type!,
            count: r.invocations,
            share: r.invocations / failures,
            rate: r.invocations / invocations,
            last_seen: r.last_seen,
            previous_count: prev ? (prevCount.get(r.error_type!) ?? 0) : null,
          }))
          .sort((a, b) => b.count - a.count),
        trend: trend.map((r) => ({ bucket: r.bucket!, error_type: r.error_type!, count: r.invocations })),
        recent,
      };
    },
  });

  env.route<unknown, { name: string; invocation_id: string }>({
    method: 'GET',
    path: '/:name/invocations/:invocation_id',
    permission: PERMISSION,
    summary: 'One invocation with its tool calls, its parent and its children (drill-down, raw events)',
    schema: {
      params: {
        type: 'object',
        required: ['name', 'invocation_id'],
        properties: { ...agentParams.properties, invocation_id: { type: 'string', minLength: 1, maxLength: 200 } },
      },
      response: {
        200: objectOf({
          invocation: objectOf(invocationRow),
          parent: { type: ['object', 'null'], properties: invocationRow },
          children: arrayOf(invocationRow),
          tool_calls: arrayOf({
            tool_name: { type: 'string' },
            timestamp: { type: 'string' },
            status: { type: 'string' },
            execution_time_ms: { type: 'number' },
            error_type: { type: 'string' },
          }),
        }),
      },
    },
    async handler(req, ctx) {
      const { name, invocation_id: id } = req.params;
      const params: Record<string, unknown> = { id, agent: name };
      const visible = await visibleDepartmentsSql(ctx, params);
      const select = `SELECT ${INVOCATION_COLUMNS}, toString(timestamp) AS ts FROM {db}.events WHERE org_id = {org_id:String} AND event_type = 'agent_invocation'${visible}`;
      const [self] = await ctx.analytics.query<InvocationRow>(`${select} AND invocation_id = {id:String} AND agent_name = {agent:String} LIMIT 1`, params);
      if (!self) throw notFound(`no invocation "${id}" of agent "${name}"`, { agent: name, invocation_id: id });
      params.parent = self.parent_invocation_id;
      const [parent, children, tools] = await Promise.all([
        self.parent_invocation_id ? ctx.analytics.query<InvocationRow>(`${select} AND invocation_id = {parent:String} LIMIT 1`, params) : [],
        ctx.analytics.query<InvocationRow>(`${select} AND parent_invocation_id = {id:String} ORDER BY timestamp LIMIT 100`, params),
        ctx.analytics.query<{ tool_name: string; ts: string; status: string; execution_time_ms: number; error_type: string }>(
          `SELECT tool_name, toString(timestamp) AS ts, status, execution_time_ms, error_type FROM {db}.events
           WHERE org_id = {org_id:String} AND event_type = 'tool_call' AND invocation_id = {id:String} ORDER BY timestamp LIMIT 500`,
          params,
        ),
      ]);
      return {
        invocation: view(self),
        parent: parent[0] ? view(parent[0]) : null,
        children: children.map(view),
        tool_calls: tools.map(({ ts, ...t }) => ({ ...t, timestamp: isoOf(ts) })),
      };
    },
  });
}

interface InvocationRow {
  ts: string;
  parent_invocation_id: string;
  [k: string]: unknown;
}
const view = ({ ts, ...r }: InvocationRow) => ({ ...r, timestamp: isoOf(ts), cost_usd: Number(r.cost_usd) });

async function recentFailures(ctx: TenantContext, agent: string, from: Date, to: Date, filters: Parameters<typeof rawFilterSql>[0]) {
  const params: Record<string, unknown> = { agent, from: from.getTime(), to: to.getTime() };
  const where = rawFilterSql({ ...filters, status: 'failure' }, params) + (await visibleDepartmentsSql(ctx, params));
  const rows = await ctx.analytics.query<InvocationRow>(
    `SELECT ${INVOCATION_COLUMNS}, toString(timestamp) AS ts FROM {db}.events
     WHERE org_id = {org_id:String} AND event_type = 'agent_invocation' AND agent_name = {agent:String}
       AND timestamp >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND timestamp < fromUnixTimestamp64Milli({to:Int64}, 'UTC')${where}
     ORDER BY timestamp DESC LIMIT ${RECENT_LIMIT}`,
    params,
  );
  return rows.map(view);
}
