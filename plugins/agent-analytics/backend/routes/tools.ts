/**
 * Tool usage of one agent, from raw events: how often each tool is called and
 * fails (tool_call events), and how the agent does when it uses the tool versus
 * when it does not (agent_invocation.tools_used).
 */
import type { PluginEnv, TenantContext } from '@orrery/plugin-sdk';
import { rawFilterSql, type Filters } from '../query.ts';
import { agentParams, arrayOf, objectOf, parseCommon, querySchema, rangeSchema, rangeView, type CommonQuery } from '../params.ts';
import { PERMISSION, REMEMBER, requireAgent } from './overview.ts';

/** A tool failing at least this share of at least MIN_CALLS calls is flagged `failing`. */
export const FAILING_RATE = 0.1;
/** Used in less than this share of invocations while they succeed clearly more often with it: `under_used`. */
export const UNDER_USED_SHARE = 0.2;
export const UNDER_USED_GAIN = 0.05;
export const MIN_CALLS = 20;

export interface ToolStats {
  tool: string;
  calls: number;
  failures: number;
  failure_rate: number | null;
  p95_call_ms: number | null;
  invocations_with: number;
  usage_share: number | null;
  success_rate_with: number | null;
  success_rate_without: number | null;
  mean_ms_with: number | null;
  mean_ms_without: number | null;
  latency_added_ms: number | null;
  flags: string[];
}

const rate = (a: number, b: number) => (b > 0 ? a / b : null);
const round1 = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);

export async function toolStats(ctx: TenantContext, agent: string, from: Date, to: Date, filters: Filters) {
  const params: Record<string, unknown> = { agent, from: from.getTime(), to: to.getTime() };
  const inRange = `org_id = {org_id:String} AND agent_name = {agent:String}
    AND timestamp >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND timestamp < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`;
  const invFilter = rawFilterSql(filters, params);
  // tool_call rows carry department and user but not model or version: those
  // filters reach tool calls through the invocations they belong to
  const { department_id, user_id, ...invocationOnly } = filters;
  const callFilter =
    rawFilterSql({ department_id, user_id }, params) +
    (Object.values(invocationOnly).some((v) => v !== undefined)
      ? ` AND invocation_id IN (SELECT invocation_id FROM {db}.events WHERE ${inRange} AND event_type = 'agent_invocation'${invFilter})`
      : '');

  const [totals, usage, calls] = await Promise.all([
    ctx.analytics.query<{ invocations: number; successes: number; latency_sum: number }>(
      `SELECT count() AS invocations, countIf(status = 'success') AS successes, sum(execution_time_ms) AS latency_sum
       FROM {db}.events WHERE ${inRange} AND event_type = 'agent_invocation'${invFilter}`,
      params,
    ),
    ctx.analytics.query<{ tool: string; invocations: number; successes: number; latency_sum: number }>(
      `SELECT tool, count() AS invocations, countIf(status = 'success') AS successes, sum(execution_time_ms) AS latency_sum
       FROM {db}.events ARRAY JOIN arrayDistinct(tools_used) AS tool
       WHERE ${inRange} AND event_type = 'agent_invocation'${invFilter}
       GROUP BY tool`,
      params,
    ),
    ctx.analytics.query<{ tool: string; calls: number; failures: number; p95: number }>(
      `SELECT tool_name AS tool, count() AS calls, countIf(status = 'failure') AS failures, quantileTDigest(0.95)(duration_ms) AS p95
       FROM {db}.events WHERE ${inRange} AND event_type = 'tool_call'${callFilter}
       GROUP BY tool`,
      params,
    ),
  ]);
  const total = { invocations: Number(totals[0]?.invocations ?? 0), successes: Number(totals[0]?.successes ?? 0), latency: Number(totals[0]?.latency_sum ?? 0) };
  const names = new Set([...usage.map((u) => u.tool), ...calls.map((c) => c.tool)]);
  const tools: ToolStats[] = [...names].sort().map((tool) => {
    const u = usage.find((x) => x.tool === tool);
    const c = calls.find((x) => x.tool === tool);
    const withN = Number(u?.invocations ?? 0);
    const withS = Number(u?.successes ?? 0);
    const withL = Number(u?.latency_sum ?? 0);
    const withoutN = total.invocations - withN;
    const callsN = Number(c?.calls ?? 0);
    const failures = Number(c?.failures ?? 0);
    const meanWith = rate(withL, withN);
    const meanWithout = rate(total.latency - withL, withoutN);
    const s: ToolStats = {
      tool,
      calls: callsN,
      failures,
      failure_rate: rate(failures, callsN),
      p95_call_ms: c ? round1(Number(c.p95)) : null,
      invocations_with: withN,
      usage_share: rate(withN, total.invocations),
      success_rate_with: rate(withS, withN),
      success_rate_without: rate(total.successes - withS, withoutN),
      mean_ms_with: round1(meanWith),
      mean_ms_without: round1(meanWithout),
      latency_added_ms: meanWith !== null && meanWithout !== null ? round1(meanWith - meanWithout) : null,
      flags: [],
    };
    if (callsN >= MIN_CALLS && (s.failure_rate ?? 0) >= FAILING_RATE) s.flags.push('failing');
    if (
      withN >= MIN_CALLS &&
      (s.usage_share ?? 1) < UNDER_USED_SHARE &&
      s.success_rate_with !== null &&
      s.success_rate_without !== null &&
      s.success_rate_with - s.success_rate_without >= UNDER_USED_GAIN
    ) {
      s.flags.push('under_used');
    }
    return s;
  });
  return { invocations: total.invocations, tools: tools.sort((a, b) => b.calls + b.invocations_with - (a.calls + a.invocations_with)) };
}

export function registerToolRoutes(env: PluginEnv) {
  env.route<CommonQuery, { name: string }>({
    method: 'GET',
    path: '/:name/tools',
    permission: PERMISSION,
    cache: REMEMBER,
    summary: "An agent's tools: calls, failure rate, call latency, and the agent's success and latency with and without each tool",
    description:
      `Read from raw events. \`latency_added_ms\` is the mean invocation latency with the tool minus without it (means, exact). ` +
      `Flags: \`failing\` when at least ${FAILING_RATE * 100}% of ≥${MIN_CALLS} calls fail; \`under_used\` when the tool is in fewer than ` +
      `${UNDER_USED_SHARE * 100}% of invocations (≥${MIN_CALLS}) yet those succeed ≥${UNDER_USED_GAIN * 100} points more often. ` +
      '`p95_call_ms` is quantileTDigest over the tool calls’ own `duration_ms` (the tool_call schema’s latency field; ±1% of rank).',
    schema: {
      querystring: querySchema(),
      params: agentParams,
      response: {
        200: objectOf({
          name: { type: 'string' },
          range: rangeSchema,
          invocations: { type: 'integer' },
          tools: arrayOf({
            tool: { type: 'string' },
            calls: { type: 'integer' },
            failures: { type: 'integer' },
            failure_rate: { type: ['number', 'null'] },
            p95_call_ms: { type: ['number', 'null'] },
            invocations_with: { type: 'integer' },
            usage_share: { type: ['number', 'null'] },
            success_rate_with: { type: ['number', 'null'] },
            success_rate_without: { type: ['number', 'null'] },
            mean_ms_with: { type: ['number', 'null'] },
            mean_ms_without: { type: ['number', 'null'] },
            latency_added_ms: { type: ['number', 'null'] },
            flags: { type: 'array', items: { type: 'string', enum: ['failing', 'under_used'] } },
          }),
        }),
      },
    },
    async handler(req, ctx) {
      const name = req.params.name;
      await requireAgent(ctx, name);
      const { range, filters } = parseCommon(req.query);
      return { name, range: rangeView(range), ...(await toolStats(ctx, name, range.from, range.to, filters)) };
    },
  });
}
