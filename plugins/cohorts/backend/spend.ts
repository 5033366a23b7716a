/**
 * Spend of a set of users per period ("revenue cohorts"): cost and tokens of
 * their agent invocations, from raw events in ClickHouse.
 */
import { bucketExpr, bucketIso, checkBuckets, parseTimeRange, type TenantContext } from '@orrery/plugin-sdk';

export interface SpendQuery {
  from?: string;
  to?: string;
  tz?: string;
  period?: 'day' | 'week' | 'month';
}

export const spendQueryProperties = {
  from: { type: 'string', format: 'date-time', description: 'ISO instant (inclusive); default 30 days before `to`' },
  to: { type: 'string', format: 'date-time', description: 'ISO instant (exclusive); default now' },
  tz: { type: 'string', maxLength: 64, description: 'IANA time zone of the periods; default UTC' },
  period: { type: 'string', enum: ['day', 'week', 'month'], default: 'week' },
} as const;

export async function spend(ctx: TenantContext, q: SpendQuery, users: string[]) {
  const range = parseTimeRange(q, 30);
  const period = q.period ?? 'week';
  checkBuckets(range, period);
  const rows = await ctx.analytics.query<{ b: string; invocations: string; active: string; cost: number; input: string; output: string }>(
    `SELECT ${bucketExpr('timestamp', period)} AS b, count() AS invocations, uniqExact(user_id) AS active,
            sum(cost_usd) AS cost, sum(input_tokens) AS input, sum(output_tokens) AS output
       FROM ${ctx.analytics.table('events')}
      WHERE org_id = {org_id:String} AND event_type = 'agent_invocation' AND user_id IN {users:Array(String)}
        AND timestamp >= toDateTime64({from:String}, 3, 'UTC') AND timestamp < toDateTime64({to:String}, 3, 'UTC')
      GROUP BY b ORDER BY b`,
    { tz: range.tz, from: range.fromCh, to: range.toCh, users },
  );
  return {
    period,
    members: users.length,
    series: rows.map((r) => ({
      period: bucketIso(String(r.b), range.tz),
      invocations: Number(r.invocations),
      active_members: Number(r.active),
      cost_usd: Math.round(Number(r.cost) * 1e6) / 1e6,
      input_tokens: Number(r.input),
      output_tokens: Number(r.output),
      cost_per_active_member_usd: Number(r.active) ? Math.round((Number(r.cost) / Number(r.active)) * 1e6) / 1e6 : null,
    })),
  };
}
