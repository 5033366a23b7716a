/**
 * `POST /api/v1/trends/agent-anomalies`: agents that stand out on several metrics at once
 * (mean latency, error rate, mean cost per call) by an isolation forest, seeded so the same
 * data gives the same answer. The features are read through the metrics service.
 */
import { HttpError, metricsQueryRef, type MetricsQueryInput, type PluginEnv } from '@orrery/plugin-sdk';
import { READ } from '../permissions.ts';
import { agentAnomaliesAnswer, agentAnomaliesBody } from '../schemas.ts';
import { isolationForestScores } from '../models/isolationForest.ts';
import { MAD_TO_SD, mad, median } from '../models/series.ts';

export interface AgentFeatures {
  name: string;
  invocations: number;
  latency_ms: number;
  error_rate: number;
  cost_per_call: number;
}

export interface AgentAnomaly extends AgentFeatures {
  score: number | null;
  anomaly: boolean;
  deviations: { latency_ms: number; error_rate: number; cost_per_call: number };
}

/** Fewer agents than this and nobody is "unusual": there is no crowd to differ from. */
export const MIN_AGENTS = 8;
const FEATURES = ['latency_ms', 'error_rate', 'cost_per_call'] as const;

/** Scores agents; pure, so tests and the bench call it without a server. */
export function scoreAgents(agents: AgentFeatures[], opts: { seed: number; trees: number; threshold: number }): { agents: AgentAnomaly[]; note?: string } {
  const robust = FEATURES.map((f) => {
    const xs = agents.map((a) => a[f]);
    const c = median(xs);
    return { c, s: MAD_TO_SD * mad(xs, c) };
  });
  const deviations = (a: AgentFeatures) =>
    Object.fromEntries(FEATURES.map((f, i) => {
      const { c, s } = robust[i]!;
      return [f, s > 0 ? (a[f] - c) / s : a[f] === c ? 0 : Math.sign(a[f] - c) * 1e6];
    })) as AgentAnomaly['deviations'];
  if (agents.length < MIN_AGENTS) {
    return {
      agents: agents.map((a) => ({ ...a, score: null, anomaly: false, deviations: deviations(a) })),
      note: `at least ${MIN_AGENTS} agents are needed to tell an unusual one; ${agents.length} had invocations in the range`,
    };
  }
  const scores = isolationForestScores(agents.map((a) => FEATURES.map((f) => a[f])), { seed: opts.seed, trees: opts.trees });
  const out = agents.map((a, i) => ({ ...a, score: scores[i]!, anomaly: scores[i]! >= opts.threshold, deviations: deviations(a) }));
  out.sort((x, y) => (y.score ?? 0) - (x.score ?? 0) || x.name.localeCompare(y.name));
  return { agents: out };
}

/**
 * A mean summed in another order by the store differs in its last bits, and the forest's cuts
 * would differ with it: 12 significant digits keep the answer the same from run to run.
 */
const stable = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? 0 : Number(x.toPrecision(12)));

interface Body { from: string; to: string; department_id?: string; seed?: number; trees?: number; threshold?: number; min_invocations?: number }

export function registerAgentRoutes(env: PluginEnv) {
  env.route<unknown, unknown, Body>({
    method: 'POST',
    path: '/agent-anomalies',
    permission: READ,
    summary: 'Agents unusual on latency, error rate and cost per call together (isolation forest)',
    description:
      'Per agent over [from, to): mean `execution_time_ms`, the share of invocations with status failure, mean `cost_usd`. ' +
      'An isolation forest (Liu, Ting & Zhou 2008; `trees` trees on subsamples of up to 256 agents, seeded by `seed`) scores each agent: ' +
      's = 2^(−E[path length]/c(ψ)), near 1 for agents isolated in few random cuts, below 0.5 for ordinary ones; `anomaly` when s ≥ `threshold`. ' +
      '`deviations` are robust z-scores (against the median and 1.4826·MAD of all agents) that say which metric sets an agent apart. ' +
      `With fewer than ${MIN_AGENTS} agents nobody is scored (score null) and \`note\` says why. Agents are ordered by score, highest first.`,
    schema: { body: agentAnomaliesBody, response: { 200: agentAnomaliesAnswer } },
    async handler(req, ctx) {
      const { from, to, department_id, seed = 42, trees = 200, threshold = 0.6, min_invocations = 5 } = req.body;
      if (Date.parse(from) >= Date.parse(to)) throw new HttpError(400, 'bad_request', 'from must be before to', { field: 'from' });
      const metrics = await ctx.services.get(metricsQueryRef);
      const base = { event_type: 'agent_invocation', group_by: ['agent_name'], from, to, ...(department_id ? { department_id } : {}) };
      const q = (extra: Partial<MetricsQueryInput>) => metrics.run({ ...base, ...extra } as MetricsQueryInput);
      const [count, latency, errors, cost] = await Promise.all([
        q({ measure: 'count' }),
        q({ measure: 'avg', field: 'execution_time_ms' }),
        q({ measure: 'rate', rate_where: { status: 'failure' } }),
        q({ measure: 'avg', field: 'cost_usd' }),
      ]);
      const byName = (a: typeof count) => new Map(a.series.map((s) => [s.group.agent_name ?? '', s.total]));
      const [lat, err, cst] = [byName(latency), byName(errors), byName(cost)];
      const agents: AgentFeatures[] = [];
      for (const s of count.series) {
        const name = s.group.agent_name ?? '';
        const invocations = s.total ?? 0;
        if (invocations < min_invocations) continue;
        agents.push({ name, invocations, latency_ms: stable(lat.get(name)), error_rate: stable(err.get(name)), cost_per_call: stable(cst.get(name)) });
      }
      agents.sort((a, b) => a.name.localeCompare(b.name)); // the forest sees the same order whatever the store returns
      const scored = scoreAgents(agents, { seed, trees, threshold });
      return { ...scored, seed, trees, threshold };
    },
  });
}
