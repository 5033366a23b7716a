/**
 * The data and questions metrics.ts and metrics-explain.ts share: agent invocations spread
 * over the last 30 days (six agents, three models, 20 departments, 5,000 users, 7% failures),
 * generated inside ClickHouse from a hash of the row number, so every run holds the same rows.
 */
export const BENCH_DAYS = 30;

/** the part of the analytics client the insert needs */
interface Commands { command(p: { query: string; clickhouse_settings?: Record<string, unknown> }): Promise<unknown> }

export async function insertBenchEvents(client: Commands, db: string, orgId: string, events: number) {
  const h = (k: number) => `intDiv(((number + ${k}) * ${[2654435761, 2246822519, 3266489917, 668265263][k % 4]} + ${k * 7 + 1}) % 4294967296, 65536)`;
  await client.command({
    query: `INSERT INTO ${db}.events (org_id, event_id, event_type, timestamp, department_id, user_id, agent_name, model_used, status, execution_time_ms, input_tokens, output_tokens, cost_usd)
      SELECT '${orgId}', concat('b', toString(number)), 'agent_invocation',
        now64(3) - toIntervalSecond(${h(1)} * 65536 % ${BENCH_DAYS * 86400}),
        concat('dept-', toString(${h(0)} % 20)), concat('u', toString(${h(0)} % 5000)),
        ['coder', 'reviewer', 'planner', 'sql', 'search', 'triage'][${h(2)} % 6 + 1],
        ['m-small', 'm-large', 'm-mini'][${h(3)} % 3 + 1],
        if(${h(3)} % 100 < 7, 'failure', 'success'),
        (${h(2)} % 5000) + 0.5, ${h(1)} % 3000, ${h(0)} % 800, toDecimal64((${h(3)} % 1000) / 100000, 9)
      FROM numbers(${events})`,
    clickhouse_settings: { max_insert_threads: 2 },
  });
}

/** grouped hourly questions over 7 days (issue 18's goal) */
export const BENCH_QUERIES = [
  { event_type: 'agent_invocation', measure: 'count', group_by: ['agent_name'], granularity: 'hour' },
  { event_type: 'agent_invocation', measure: 'rate', rate_where: { status: 'failure' }, group_by: ['model_used'], granularity: 'hour', tz: 'Europe/Berlin' },
  { event_type: 'agent_invocation', measure: 'avg', field: 'execution_time_ms', group_by: ['agent_name'], granularity: 'hour' },
  { event_type: 'agent_invocation', measure: 'p95', field: 'execution_time_ms', group_by: ['agent_name'], granularity: 'hour' },
] as const;
