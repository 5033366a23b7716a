/**
 * What agent analytics offers other plugins: its headline figures as metrics
 * (read through `metrics`, the same code as the dashboard routes, so rollups
 * serve them up to their watermark) and the invocations as an export table.
 */
import { badRequest, defineExportSource, defineMetricSource, exportSourceRef, metricSourceRef, provide, type ExportColumn, type MetricQuery, type TenantContext } from '@orrery/plugin-sdk';
import { metrics, type Measures } from './query.ts';

async function headline(ctx: TenantContext, q: MetricQuery, measures: Measures) {
  const [row] = await metrics(ctx, { range: q.range, filters: q.departmentId ? { department_id: q.departmentId } : {}, measures });
  return row;
}

export const agentMetrics = provide(metricSourceRef, (ctx) =>
  defineMetricSource([
    {
      name: 'success_rate',
      title: 'Agent success rate',
      description: 'Successful invocations ÷ invocations with an outcome',
      unit: 'ratio',
      better: 'higher',
      read: async (q) => (await headline(ctx, q, 'counts'))?.success_rate ?? null,
    },
    {
      name: 'p95_latency_ms',
      title: 'p95 latency',
      description: '95th percentile of execution_time_ms over invocations (t-digest estimate)',
      unit: 'ms',
      better: 'lower',
      read: async (q) => (await headline(ctx, q, 'all'))?.p95_ms ?? null,
    },
    {
      name: 'cost_usd',
      title: 'Agent cost',
      description: 'Sum of cost_usd over invocations',
      unit: 'usd',
      better: 'lower',
      read: async (q) => (await headline(ctx, q, 'counts'))?.cost_usd ?? 0,
    },
    {
      name: 'invocations',
      title: 'Invocations',
      description: 'Number of agent invocations',
      unit: 'count',
      better: 'neither',
      read: async (q) => (await headline(ctx, q, 'counts'))?.invocations ?? 0,
    },
  ]),
);

const COLUMNS: ExportColumn[] = [
  { name: 'event_id', type: 'string' },
  { name: 'timestamp', type: 'datetime' },
  { name: 'agent_name', type: 'string' },
  { name: 'agent_version', type: 'string' },
  { name: 'user_id', type: 'string' },
  { name: 'department_id', type: 'string' },
  { name: 'model_used', type: 'string' },
  { name: 'status', type: 'string' },
  { name: 'error_type', type: 'string' },
  { name: 'execution_time_ms', type: 'number' },
  { name: 'input_tokens', type: 'number' },
  { name: 'output_tokens', type: 'number' },
  { name: 'cost_usd', type: 'number' },
];
const NUMERIC = new Set(COLUMNS.filter((c) => c.type === 'number').map((c) => c.name));

/** keyset cursor: the last row's (timestamp, event_id), so a page never skips or repeats a row */
const encode = (ts: string, id: string) => Buffer.from(JSON.stringify([ts, id])).toString('base64url');
function decode(cursor: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string')) return v as [string, string];
  } catch {}
  throw badRequest('cursor is not one this table answered', { field: 'cursor' });
}

export const agentExports = provide(exportSourceRef, (ctx) =>
  defineExportSource([
    {
      name: 'invocations',
      title: 'Agent invocations',
      columns: COLUMNS,
      async page(q) {
        const params: Record<string, unknown> = { from: q.range.fromCh, to: q.range.toCh, limit: q.limit };
        let after = '';
        if (q.cursor) {
          [params.c_ts, params.c_id] = decode(q.cursor);
          after = "AND (timestamp, event_id) > (toDateTime64({c_ts:String}, 3, 'UTC'), {c_id:String})";
        }
        // the instant is read as text (an alias must not shadow the column the WHERE compares)
        const rows = await ctx.analytics.query<Record<string, unknown>>(
          `SELECT ${COLUMNS.map((c) => (c.name === 'timestamp' ? 'toString(timestamp) AS at' : c.name)).join(', ')}
             FROM ${ctx.analytics.table('events')}
            WHERE org_id = {org_id:String} AND event_type = 'agent_invocation'
              AND timestamp >= toDateTime64({from:String}, 3, 'UTC') AND timestamp < toDateTime64({to:String}, 3, 'UTC') ${after}
            ORDER BY timestamp, event_id
            LIMIT {limit:UInt32}`,
          params,
        );
        const out = rows.map((r) => {
          const row: Record<string, unknown> = {};
          for (const c of COLUMNS) row[c.name] = c.name === 'timestamp' ? `${String(r.at).replace(' ', 'T')}Z` : NUMERIC.has(c.name) ? Number(r[c.name]) : r[c.name];
          return row;
        });
        const last = rows.at(-1);
        return { rows: out, next: rows.length === q.limit && last ? encode(String(last.at), String(last.event_id)) : null };
      },
    },
  ]),
);
