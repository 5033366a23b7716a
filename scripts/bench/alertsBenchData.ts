/**
 * The alerts benches' data and rules, in one place so that `alerts.ts` (the dashboards with and
 * without rules) and `alertsShape.ts` (where the rules' cost lands in a minute) measure the same
 * thing: 60,000 agent invocations over the last week and `count` rules over 20 agents.
 */
import type { TestBackend } from '@orrery/backend-test-utils';
import { rng } from './backend.ts';

export const BENCH_AGENTS = Array.from({ length: 20 }, (_, i) => `agent-${i}`);

/** 60,000 invocations of the bench agents over the week before `now`, the same ones every run. */
export function alertBenchEvents(now: number) {
  const rand = rng(42);
  const agents = BENCH_AGENTS;
  return Array.from({ length: 60_000 }, (_, i) => ({
    event_id: `b${i}`,
    event_type: 'agent_invocation',
    // a third of them in the last hour, so the rules' 5-minute windows hold data
    timestamp: new Date(now - (rand() < 0.33 ? rand() * 3_600_000 : rand() * 7 * 86_400_000)).toISOString(),
    user_id: `u${Math.floor(rand() * 200)}`,
    department_id: `d${Math.floor(rand() * 8)}`,
    session_id: `s${Math.floor(rand() * 3000)}`,
    agent_name: agents[Math.floor(rand() * agents.length)],
    agent_version: '1',
    invocation_id: `i${i}`,
    model_used: rand() < 0.5 ? 'small' : 'large',
    input_tokens: Math.floor(rand() * 2000),
    output_tokens: Math.floor(rand() * 800),
    execution_time_ms: Math.round(rand() * 8000),
    status: rand() < 0.9 ? 'success' : 'failure',
    cost_usd: rand() / 100,
  }));
}

/**
 * `count` paused rules named `bench <i>`, a third each of count, failure rate and p95 latency by
 * model, per agent, every minute over 5 minutes, with thresholds they never cross.
 */
export async function createBenchRules(c: TestBackend['client'], count: number): Promise<void> {
  const agents = BENCH_AGENTS;
  for (let i = 0; i < count; i++) {
    const agent = agents[i % agents.length];
    const kind = i % 3;
    const query =
      kind === 0 ? { event_type: 'agent_invocation', measure: 'count', where: { agent_name: agent } }
      : kind === 1 ? { event_type: 'agent_invocation', measure: 'rate', rate_where: { status: 'failure' }, where: { agent_name: agent } }
      : { event_type: 'agent_invocation', measure: 'p95', field: 'execution_time_ms', group_by: ['model_used'], where: { agent_name: agent } };
    const r = await c.post('/api/v1/alerts/rules', { name: `bench ${i}`, query, window_seconds: 300, condition: { op: 'gt', threshold: kind === 0 ? 1e9 : kind === 1 ? 0.99 : 1e9 }, interval_seconds: 60, paused: true });
    if (r.status !== 200) throw new Error(`rule: ${r.status} ${r.text}`);
  }
}
