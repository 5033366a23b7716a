/**
 * A realistic month of a ~200-person org: departments with different adoption,
 * agents with different reliability and cost, people who grow, stall or drop.
 * Deterministic (seeded) so demo screenshots and benchmarks are repeatable.
 */
import { seededRandom as rng } from '@orrery/plugin-sdk';

export { rng };

export const DEMO_DEPARTMENTS = [
  { name: 'Engineering', size: 60, adoption: 0.9 },
  { name: 'Data Science', size: 25, adoption: 0.95 },
  { name: 'Product', size: 20, adoption: 0.7 },
  { name: 'Design', size: 15, adoption: 0.5 },
  { name: 'Customer Support', size: 30, adoption: 0.65 },
  { name: 'Sales', size: 25, adoption: 0.35 },
  { name: 'Finance', size: 12, adoption: 0.25 },
  { name: 'People Ops', size: 13, adoption: 0.3 },
];

export const DEMO_AGENTS = [
  { name: 'code-reviewer', models: ['claude-sonnet-4', 'gpt-4o'], p50: 4200, fail: 0.04, tools: ['git_diff', 'read_file', 'post_comment'] },
  { name: 'test-writer', models: ['claude-sonnet-4'], p50: 6800, fail: 0.08, tools: ['read_file', 'write_file', 'run_tests'] },
  { name: 'sql-assistant', models: ['gpt-4o-mini', 'gpt-4o'], p50: 1900, fail: 0.06, tools: ['describe_table', 'run_query'] },
  { name: 'support-triage', models: ['claude-haiku-4', 'gpt-4o-mini'], p50: 900, fail: 0.03, tools: ['search_kb', 'classify', 'create_ticket'] },
  { name: 'doc-writer', models: ['claude-sonnet-4'], p50: 5200, fail: 0.05, tools: ['read_file', 'search_kb'] },
  { name: 'release-notes', models: ['gpt-4o'], p50: 3100, fail: 0.12, tools: ['git_log', 'summarize'] },
  { name: 'sales-researcher', models: ['gpt-4o', 'claude-haiku-4'], p50: 7400, fail: 0.15, tools: ['web_search', 'crm_lookup'] },
  { name: 'planner', models: ['claude-opus-4'], p50: 9800, fail: 0.07, tools: ['delegate', 'read_file'] },
];
const ERRORS = ['timeout', 'rate_limited', 'tool_error', 'context_overflow', 'invalid_output'];
const COMMANDS = ['/review', '/test', '/explain', '/fix', '/doc', '/plan', '/commit', '/search'];
const FEATURES = ['chat', 'inline_completion', 'code_review', 'agent_mode', 'knowledge_base', 'workflow_builder'];
/** Demo workflows: steps with typical minutes in step and drop-off; one bottleneck each. */
const WORKFLOWS = [
  { id: 'onboarding', steps: ['connect_ide', 'first_prompt', 'first_agent', 'share_result'], minutes: [5, 3, 40, 10], drop: [0.05, 0.08, 0.3, 0.1] },
  { id: 'pr-review', steps: ['open_pr', 'request_review', 'apply_fixes', 'merge'], minutes: [10, 90, 45, 5], drop: [0.03, 0.2, 0.12, 0.04] },
];
const EXIT_REASONS = ['blocked', 'no_time', 'unclear_instructions', 'tool_error'];

/**
 * One person's run through a workflow: enrolment, each step entered and completed (time in
 * step and drop-off per step, an occasional skipped or repeated step), then the goal, an
 * exit with a reason, or nothing yet (still active).
 */
function workflowRun(r: () => number, base: Record<string, unknown>, id: () => string, wf: (typeof WORKFLOWS)[number], start: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [{ ...base, event_id: id(), event_type: 'workflow_step', action: 'enrolled', timestamp: start, workflow_id: wf.id }];
  let t = start;
  for (let s = 0; s < wf.steps.length; s++) {
    const step = { workflow_id: wf.id, workflow_step: wf.steps[s], step_index: s + 1 };
    if (s > 0 && r() < 0.05) continue; // skipped
    t += Math.round((0.5 + 4 * r()) * 60_000);
    out.push({ ...base, event_id: id(), event_type: 'workflow_step', action: 'step_entered', timestamp: t, ...step });
    if (r() < 0.05) out.push({ ...base, event_id: id(), event_type: 'workflow_step', action: 'step_entered', timestamp: t + 30_000, ...step });
    const took = Math.round(wf.minutes[s]! * (0.3 + 2 * r() * r() + r()) * 60_000);
    if (r() < wf.drop[s]!) {
      if (r() < 0.6) out.push({ ...base, event_id: id(), event_type: 'workflow_step', action: 'exited', timestamp: t + took, ...step, reason: EXIT_REASONS[Math.floor(r() * EXIT_REASONS.length)] });
      return out;
    }
    t += took;
    out.push({ ...base, event_id: id(), event_type: 'workflow_step', action: 'step_completed', timestamp: t, ...step, duration_ms: took });
  }
  out.push({ ...base, event_id: id(), event_type: 'workflow_step', action: 'goal_reached', timestamp: t + 1000, workflow_id: wf.id });
  return out;
}
/** What each department writes with AI and shares as knowledge artifacts (index = DEMO_DEPARTMENTS). */
const ARTIFACT_TYPES = [['snippet', 'prompt', 'runbook'], ['notebook', 'query', 'prompt'], ['spec', 'prompt'], ['prompt', 'style_guide'], ['kb_article', 'prompt', 'macro'], ['email_template', 'prompt'], ['query', 'template'], ['policy', 'template']];
const PRICES: Record<string, [number, number]> = {
  'claude-sonnet-4': [3, 15],
  'claude-opus-4': [15, 75],
  'claude-haiku-4': [0.8, 4],
  'gpt-4o': [2.5, 10],
  'gpt-4o-mini': [0.15, 0.6],
};

export interface DemoUser {
  id: string;
  email: string;
  name: string;
  department: number;
  /** events per active day */
  intensity: number;
  /** 'steady' | 'growing' | 'dropping' | 'dormant' */
  pattern: 'steady' | 'growing' | 'dropping' | 'struggling' | 'dormant';
}

const FIRST = ['Ada', 'Ben', 'Chen', 'Dana', 'Eli', 'Farah', 'Gus', 'Hana', 'Ivan', 'Jo', 'Kemal', 'Lena', 'Mo', 'Nia', 'Omar', 'Pia', 'Quinn', 'Rosa', 'Sam', 'Tara', 'Uma', 'Vik', 'Wen', 'Xavi', 'Yara', 'Zoe'];
const LAST = ['Abbott', 'Baker', 'Costa', 'Diaz', 'Evans', 'Fischer', 'Garcia', 'Hughes', 'Ito', 'Jensen', 'Khan', 'Lopez', 'Meyer', 'Novak', 'Okafor', 'Patel', 'Quist', 'Rossi', 'Silva', 'Tanaka'];

export function demoUsers(idFor: (i: number) => string, seed = 7): DemoUser[] {
  const r = rng(seed);
  const users: DemoUser[] = [];
  let i = 0;
  DEMO_DEPARTMENTS.forEach((d, di) => {
    for (let k = 0; k < d.size; k++, i++) {
      const first = FIRST[i % FIRST.length]!;
      const last = LAST[Math.floor(i / FIRST.length) % LAST.length]!;
      const x = r();
      // as in a real org: a few never start, some slip, some struggle with errors, most are fine
      const y = r();
      const pattern = y > d.adoption + (1 - d.adoption) * 0.6 ? 'dormant' : x < 0.08 ? 'dropping' : x < 0.14 ? 'struggling' : x < 0.3 ? 'growing' : 'steady';
      users.push({
        id: idFor(i),
        email: `${first}.${last}${i}@demo.local`.toLowerCase(),
        name: `${first} ${last}`,
        department: di,
        // events per active day: people differ, but not tenfold
        intensity: 12 + Math.floor(r() * 10),
        pattern,
      });
    }
  });
  return users;
}

/**
 * Yields events in batches for [from, to), day by day. People who grow or drop do so over the
 * span, unless `progress` fixes where they stand (1: as at the end of the demo month).
 */
export function* demoEvents(users: DemoUser[], departmentIds: string[], from: Date, to: Date, seed = 11, opts: { progress?: number } = {}): Generator<Record<string, unknown>[]> {
  const r = rng(seed);
  // workflow runs draw from their own stream: the rest of the demo does not move with them
  const wr = rng(seed + 1000);
  const days = Math.ceil((to.getTime() - from.getTime()) / 86_400_000);
  let n = 0;
  const id = () => `demo-${seed}-${(n++).toString(36)}-${Math.floor(r() * 1e9).toString(36)}`;
  let wn = 0;
  const wid = () => `demo-${seed}-w${(wn++).toString(36)}-${Math.floor(wr() * 1e9).toString(36)}`;
  // knowledge artifacts draw from their own stream, so the other demo events stay as they were
  const kr = rng(seed + 26);
  const artifacts: Array<{ id: string; dept: number; type: string; agent: string; weight: number }> = [];
  let totalWeight = 0;
  let kn = 0;
  for (let day = 0; day < days; day++) {
    const dayStart = from.getTime() + day * 86_400_000;
    const weekday = new Date(dayStart).getUTCDay();
    const weekend = weekday === 0 || weekday === 6;
    const batch: Record<string, unknown>[] = [];
    const progress = opts.progress ?? day / Math.max(1, days - 1);
    for (const u of users) {
      let p = weekend ? 0.12 : 0.78;
      if (u.pattern === 'dormant') p = 0; // never started
      if (u.pattern === 'growing') p *= 0.35 + 0.65 * progress;
      if (u.pattern === 'dropping') p *= 1 - 0.9 * progress;
      if (r() > p) continue;
      const session = id();
      const base = { department_id: departmentIds[u.department], user_id: u.id, session_id: session };
      const count = Math.max(1, Math.round(u.intensity * (0.5 + r())));
      let t = dayStart + (8 + r() * 9) * 3_600_000;
      const sessionStart = t;
      batch.push({ ...base, event_id: id(), event_type: 'session', action: 'started', timestamp: t });
      for (let k = 0; k < count; k++) {
        t += 20_000 + r() * 400_000;
        const agent = DEMO_AGENTS[Math.floor(Math.pow(r(), 1.4) * DEMO_AGENTS.length)]!;
        const model = agent.models[Math.floor(r() * agent.models.length)]!;
        // support agents live in support, sales in sales; everything else mixes
        const failed = r() < agent.fail * (u.pattern === 'struggling' ? 6 : u.pattern === 'dropping' ? 2.5 : 1) * (model === 'gpt-4o-mini' ? 1.6 : 1);
        const latency = Math.round(agent.p50 * Math.exp((r() + r() + r() - 1.5) * 0.8) * (model.includes('mini') || model.includes('haiku') ? 0.6 : 1));
        const input = Math.round(400 + r() * 6000);
        const output = failed ? Math.round(r() * 200) : Math.round(150 + r() * 2500);
        const [pin, pout] = PRICES[model] ?? [1, 1];
        const invocation = id();
        const tools = agent.tools.filter(() => r() < 0.6);
        batch.push({
          ...base,
          event_id: id(),
          event_type: 'agent_invocation',
          timestamp: t,
          agent_name: agent.name,
          agent_version: r() < 0.7 ? '2.1.0' : '2.0.3',
          invocation_id: invocation,
          model_used: model,
          prompt_template_version: r() < 0.5 ? 'v7' : 'v8',
          input_tokens: input,
          output_tokens: output,
          execution_time_ms: latency,
          status: failed ? 'failure' : 'success',
          error_type: failed ? ERRORS[Math.floor(r() * ERRORS.length)] : '',
          error_message: failed ? 'the agent did not complete' : '',
          tools_used: tools,
          cost_usd: Number(((input * pin + output * pout) / 1e6).toFixed(9)),
          cost_source: 'computed',
        });
        for (const tool of tools) {
          batch.push({
            ...base,
            event_id: id(),
            event_type: 'tool_call',
            timestamp: t + 10,
            agent_name: agent.name,
            invocation_id: invocation,
            tool_name: tool,
            duration_ms: Math.round(50 + r() * 900),
            status: r() < (tool === 'web_search' ? 0.2 : 0.04) ? 'failure' : 'success',
          });
        }
        if (agent.name === 'planner' && r() < 0.8) {
          const child = DEMO_AGENTS[Math.floor(r() * 5)]!;
          batch.push({
            ...base,
            event_id: id(),
            event_type: 'agent_invocation',
            timestamp: t + 50,
            agent_name: child.name,
            agent_version: '2.1.0',
            invocation_id: id(),
            parent_invocation_id: invocation,
            model_used: child.models[0],
            input_tokens: 800,
            output_tokens: 400,
            execution_time_ms: Math.round(child.p50 * (0.5 + r())),
            status: r() < child.fail ? 'failure' : 'success',
            cost_usd: 0.006,
            cost_source: 'computed',
          });
        }
        if (r() < 0.35) batch.push({ ...base, event_id: id(), event_type: 'command', timestamp: t + 5, command_name: COMMANDS[Math.floor(Math.pow(r(), 1.5) * COMMANDS.length)] });
        if (r() < 0.25) batch.push({ ...base, event_id: id(), event_type: 'feature_use', timestamp: t + 7, feature_name: FEATURES[Math.floor(Math.pow(r(), 1.3) * FEATURES.length)] });
        if (r() < 0.08) batch.push({ ...base, event_id: id(), event_type: 'feedback', action: r() < 0.8 ? 'accept' : 'reject', timestamp: t + 60_000, invocation_id: invocation, rating: r() < 0.8 ? 5 : 2 });
      }
      if (r() < 0.15) {
        const wf = WORKFLOWS[Math.floor(r() * WORKFLOWS.length)]!;
        const reached = Math.floor(r() * (wf.steps.length + 1));
        // the runs once drew these ids from the main stream: drawing as many keeps every other demo event as it was
        for (let k = 0; k < 1 + reached + (reached === wf.steps.length ? 1 : 0); k++) id();
        batch.push(...workflowRun(wr, base, wid, wf, t + 1000));
      }
      knowledge(u, base, sessionStart, batch);
      batch.push({ ...base, event_id: id(), event_type: 'session', action: 'ended', timestamp: t + 60_000, duration_ms: t + 60_000 - (dayStart + 8 * 3_600_000) });
    }
    yield batch;
  }

  /**
   * A user's knowledge events of the day: some create an artifact (what their department
   * writes, with one of the agents), some annotate one, and many reuse one or two, mostly
   * from their own department and preferring artifacts already reused (a few become
   * widely known). A reuse sits at the start of the session (`at`), before its first agent
   * invocation, so the invocations that follow it fall within the hour.
   */
  function knowledge(u: DemoUser, base: Record<string, unknown>, at: number, batch: Record<string, unknown>[]) {
    const push = (action: string, a: (typeof artifacts)[number], t: number) =>
      batch.push({ ...base, event_id: `demo-${seed}-k${(kn++).toString(36)}`, event_type: 'knowledge_artifact', action, timestamp: t, artifact_id: a.id, artifact_type: a.type, agent_name: a.agent });
    const maker = DEMO_DEPARTMENTS[u.department]!.adoption * (u.intensity / 28);
    if (kr() < 0.12 * maker + 0.01) {
      const types = ARTIFACT_TYPES[u.department]!;
      const a = { id: `art-${(artifacts.length + 1).toString().padStart(5, '0')}`, dept: u.department, type: types[Math.floor(kr() * types.length)]!, agent: DEMO_AGENTS[Math.floor(Math.pow(kr(), 1.3) * DEMO_AGENTS.length)]!.name, weight: 1 };
      artifacts.push(a);
      totalWeight += 1;
      push('created', a, at + 2 * 3_600_000 * kr());
    }
    if (!artifacts.length) return;
    const pickWeighted = () => {
      let x = kr() * totalWeight;
      for (const a of artifacts) if ((x -= a.weight) <= 0) return a;
      return artifacts[artifacts.length - 1]!;
    };
    if (kr() < 0.05) push('annotated', pickWeighted(), at + 3 * 3_600_000 * kr());
    if (kr() < 0.3) {
      for (let k = kr() < 0.3 ? 2 : 1; k > 0; k--) {
        let a = pickWeighted();
        // most reuse stays in the department: retry once towards it
        if (a.dept !== u.department && kr() < 0.6) a = pickWeighted();
        push('reused', a, at + 1_000 + kr() * 15_000);
        a.weight += 1;
        totalWeight += 1;
      }
    }
  }
}
