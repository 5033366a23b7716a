/** The random invocations the executive tests run on (kept apart so a bench or a check can reuse them). */
import { DAY, rng, type Inv } from './reference.ts';

export const AT = Date.parse('2026-05-20T13:30:00.000Z');
export const START = Date.parse('2026-04-18T00:00:00.000Z');
export const END = Date.parse('2026-06-03T00:00:00.000Z');
const AGENTS = ['planner', 'coder', 'reviewer'];
const MODELS = ['m-large', 'm-small'];
export const iso = (t: number) => new Date(t).toISOString();

/**
 * Random invocations over six weeks. In the week before AT: planner on m-large costs four
 * times as much, reviewer fails far more often, and six of the ten people of ops stop using agents,
 * so that each insight rule has something to find (whether it fires is the reference's call).
 */
export function generate(seed: number, deps: { eng: string; ops: string; sales: string }, n: number): Inv[] {
  const r = rng(seed);
  const users = Array.from({ length: 30 }, (_, i) => ({ id: `u${i}`, dep: i < 12 ? deps.eng : i < 22 ? deps.ops : deps.sales }));
  const out: Inv[] = [];
  for (let i = 0; i < n; i++) {
    const t = START + Math.floor(r() * (END - START));
    const lastWeek = t >= AT - 7 * DAY && t < AT;
    let u = users[Math.floor(r() * users.length)]!;
    if (lastWeek && u.dep === deps.ops && Number(u.id.slice(1)) >= 16) u = users[Math.floor(r() * 4) + 12]!;
    const agent = AGENTS[Math.floor(r() * AGENTS.length)]!;
    const model = MODELS[Math.floor(r() * MODELS.length)]!;
    const failP = agent === 'reviewer' ? (lastWeek ? 0.3 : 0.03) : 0.05;
    let cost = Math.round(r() * 500_000) / 1e6;
    if (lastWeek && agent === 'planner' && model === 'm-large') cost = Math.round(cost * 4 * 1e6) / 1e6;
    out.push({
      event_id: `s${seed}-${i}`,
      event_type: 'agent_invocation',
      timestamp: iso(t),
      user_id: u.id,
      session_id: `sess-${u.id}-${Math.floor(t / DAY)}`,
      department_id: u.dep,
      agent_name: agent,
      agent_version: '1',
      invocation_id: `inv-${seed}-${i}`,
      model_used: model,
      status: r() < failP ? 'failure' : 'success',
      cost_usd: cost,
      execution_time_ms: 100 + Math.floor(r() * 4900),
      input_tokens: 10,
      output_tokens: 10,
    });
  }
  return out;
}

