/**
 * A seeded event set and the figures it should produce, computed here in plain
 * TypeScript: the expectations never go through the plugin's SQL.
 */
import { rng } from '@orrery/backend-test-utils/random';

/** the shared seeded generator, re-exported for this plugin's tests */
export { rng };

export type Invocation = {
  event_id: string;
  event_type: 'agent_invocation';
  timestamp: string;
  department_id: string;
  user_id: string;
  session_id: string;
  agent_name: string;
  agent_version: string;
  invocation_id: string;
  parent_invocation_id: string;
  model_used: string;
  prompt_template_version: string;
  input_tokens: number;
  output_tokens: number;
  execution_time_ms: number;
  status: 'success' | 'failure';
  error_type: string;
  error_message: string;
  tools_used: string[];
  cost_usd: number;
};

export type ToolCall = {
  event_id: string;
  event_type: 'tool_call';
  timestamp: string;
  department_id: string;
  user_id: string;
  session_id: string;
  agent_name: string;
  invocation_id: string;
  tool_name: string;
  duration_ms: number;
  status: 'success' | 'failure';
};

export const START = Date.parse('2026-03-02T00:00:00.000Z'); // a Monday
export const DAYS = 3;
export const AGENTS = {
  reviewer: { models: ['big-model', 'small-model'], fail: 0.08, p50: 4000, tools: ['read_file', 'git_diff'] },
  triage: { models: ['small-model'], fail: 0.04, p50: 900, tools: ['search_kb', 'flaky_api'] },
  planner: { models: ['big-model'], fail: 0.1, p50: 7000, tools: ['delegate'] },
} as const;
export type AgentName = keyof typeof AGENTS;
const PRICE: Record<string, number> = { 'big-model': 0.000015, 'small-model': 0.000001 };
const ERRORS = ['timeout', 'rate_limited', 'tool_error'];
export const DEPARTMENTS = ['dept-eng', 'dept-ops'];
export const USERS = Array.from({ length: 12 }, (_, i) => `user-${i}`);

/**
 * ~4,500 invocations over three days at sub-second timestamps (so every range
 * edge cuts through minutes), tool calls for each tool used, and planner chains
 * three levels deep.
 */
export function generate(seed = 42) {
  const r = rng(seed);
  const invocations: Invocation[] = [];
  const toolCalls: ToolCall[] = [];
  let n = 0;
  const id = (p: string) => `${p}-${seed}-${(n++).toString(36)}`;
  const names = Object.keys(AGENTS) as AgentName[];
  const make = (agent: AgentName, at: number, parent = ''): Invocation => {
    const spec = AGENTS[agent];
    // the first model takes two thirds of the traffic: it is the one in production
    const model = spec.models.length > 1 && r() >= 2 / 3 ? spec.models[1]! : spec.models[0]!;
    const failed = r() < spec.fail;
    const input = 200 + Math.floor(r() * 3000);
    const output = failed ? Math.floor(r() * 100) : 100 + Math.floor(r() * 1500);
    const user = USERS[Math.floor(r() * USERS.length)]!;
    const inv: Invocation = {
      event_id: id('ev'),
      event_type: 'agent_invocation',
      timestamp: new Date(at).toISOString(),
      department_id: DEPARTMENTS[USERS.indexOf(user) % 2]!,
      user_id: user,
      session_id: id('s'),
      agent_name: agent,
      agent_version: r() < 0.6 ? '2.1.0' : '2.0.3',
      invocation_id: id('inv'),
      parent_invocation_id: parent,
      model_used: model,
      prompt_template_version: r() < 0.5 ? 'v7' : 'v8',
      input_tokens: input,
      output_tokens: output,
      execution_time_ms: Math.round(spec.p50 * Math.exp((r() + r() + r() - 1.5) * 0.9) * (model === 'small-model' ? 0.7 : 1) * 10) / 10,
      status: failed ? 'failure' : 'success',
      error_type: failed ? ERRORS[Math.floor(r() * ERRORS.length)]! : '',
      error_message: failed ? 'did not complete' : '',
      tools_used: spec.tools.filter(() => r() < 0.5),
      // nine decimals, as the column stores them
      cost_usd: Math.round((input + output) * PRICE[model]! * 1e9) / 1e9,
    };
    invocations.push(inv);
    for (const tool of inv.tools_used) {
      toolCalls.push({
        event_id: id('ev'),
        event_type: 'tool_call',
        timestamp: new Date(at + 5).toISOString(),
        department_id: inv.department_id,
        user_id: inv.user_id,
        session_id: inv.session_id,
        agent_name: agent,
        invocation_id: inv.invocation_id,
        tool_name: tool,
        duration_ms: 20 + Math.floor(r() * 400),
        status: r() < (tool === 'flaky_api' ? 0.3 : 0.02) ? 'failure' : 'success',
      });
    }
    return inv;
  };
  for (let t = START + 1234; t < START + DAYS * 86_400_000; t += Math.floor(20_000 + r() * 100_000)) {
    const agent = names[Math.floor(r() * names.length)]!;
    const inv = make(agent, t);
    if (agent === 'planner') {
      // planner → 1–3 children; each reviewer child may call a triage grandchild
      const kids = 1 + Math.floor(r() * 3);
      for (let k = 0; k < kids; k++) {
        const child = make(r() < 0.5 ? 'reviewer' : 'triage', t + 100 + k * 50, inv.invocation_id);
        if (child.agent_name === 'reviewer' && r() < 0.4) make('triage', t + 300 + k * 50, child.invocation_id);
      }
    }
  }
  return { invocations, toolCalls };
}

// ---- expected figures, independently -------------------------------------------------

export const inRange = (e: { timestamp: string }, from: Date, to: Date) => {
  const t = Date.parse(e.timestamp);
  return t >= from.getTime() && t < to.getTime();
};

export interface Expected {
  invocations: number;
  successes: number;
  failures: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  active_users: number;
  latencies: number[];
}

export function expectedOf(rows: Invocation[]): Expected {
  return {
    invocations: rows.length,
    successes: rows.filter((r) => r.status === 'success').length,
    failures: rows.filter((r) => r.status === 'failure').length,
    input_tokens: rows.reduce((a, r) => a + r.input_tokens, 0),
    output_tokens: rows.reduce((a, r) => a + r.output_tokens, 0),
    cost_usd: rows.reduce((a, r) => a + r.cost_usd, 0),
    active_users: new Set(rows.map((r) => r.user_id)).size,
    latencies: rows.map((r) => r.execution_time_ms).sort((a, b) => a - b),
  };
}

export function groupBy<T>(rows: T[], key: (r: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) out.set(key(r), [...(out.get(key(r)) ?? []), r]);
  return out;
}

/**
 * The interval the documented method promises for quantile q: t-digest is
 * within ±1% of rank, i.e. between the exact quantiles at q − 0.01 and q + 0.01
 * (order statistics of the sorted latencies, by rank over n − 1 positions).
 */
export function quantileBounds(sorted: number[], q: number, rankError = 0.01): [number, number] {
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, p))]!;
  return [at(Math.floor((q - rankError) * (sorted.length - 1))), at(Math.ceil((q + rankError) * (sorted.length - 1)))];
}

/** Start of the bucket holding `t`, as an ISO instant, in zone `tz` (independent of the plugin: Intl only). */
export function localBucket(t: number, granularity: 'hour' | 'day', tz: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit' })
      .formatToParts(new Date(t))
      .map((p) => [p.type, p.value]),
  );
  return granularity === 'day' ? `${parts.year}-${parts.month}-${parts.day}` : `${parts.year}-${parts.month}-${parts.day}T${parts.hour}`;
}
