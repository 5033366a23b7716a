/**
 * Recommendations: concrete changes the data supports, each with the figures
 * behind it and an estimate of what it is worth over 30 days at the range's
 * volume. Every rule is a pure function of metrics the other routes also
 * answer, so a reader can check a recommendation against the dashboards.
 */
import type { PluginEnv, TenantContext } from '@orrery/plugin-sdk';
import { metrics, rawFilterSql, type Filters, type MetricsRow } from '../query.ts';
import { arrayOf, objectOf, parseCommon, querySchema, rangeSchema, rangeView, type CommonQuery } from '../params.ts';
import { PERMISSION, REMEMBER } from './overview.ts';
import { FAILING_RATE, MIN_CALLS } from './tools.ts';

/** Fewer invocations than this in a variant is too little evidence to recommend anything. */
export const MIN_SAMPLE = 30;
/** A cheaper model counts as "as good" when its success rate is not lower by more than this (and not significantly lower). */
const SUCCESS_TOLERANCE = 0.01;
const CHEAPER_BY = 0.1;
/** A newer version regressed when its p95 is this much higher, or its success rate this many points lower. */
const LATENCY_REGRESSION = 0.2;
const SUCCESS_REGRESSION = 0.03;
const HOTSPOT_FAILURE_RATE = 0.1;
const HOTSPOT_SHARE = 0.5;
const DAYS_30 = 30 * 86_400_000;

export interface Recommendation {
  id: string;
  kind: 'model_swap' | 'failing_tool' | 'prompt_regression' | 'version_regression' | 'error_hotspot';
  severity: 'high' | 'medium' | 'low';
  agent: string;
  title: string;
  detail: string;
  impact: { metric: string; value: number; unit: string; per: '30 days' };
  evidence: Record<string, unknown>;
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
const usd = (x: number | null) => (x === null ? 'n/a' : `$${x.toFixed(4)}`);
const natural = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
const variant = (m: MetricsRow, dim: keyof MetricsRow) => ({
  value: m[dim],
  invocations: m.invocations,
  success_rate: m.success_rate,
  p95_ms: m.p95_ms,
  cost_per_success_usd: m.cost_per_success_usd,
});

/** One-sided two-proportion z: how many standard errors `b`'s success rate lies below `a`'s. */
function zBelow(a: MetricsRow, b: MetricsRow) {
  const p = (a.successes + b.successes) / (a.invocations + b.invocations);
  const se = Math.sqrt(p * (1 - p) * (1 / a.invocations + 1 / b.invocations));
  return se === 0 ? 0 : ((a.success_rate ?? 0) - (b.success_rate ?? 0)) / se;
}

function groupByAgent(rows: MetricsRow[]) {
  const out = new Map<string, MetricsRow[]>();
  for (const r of rows) out.set(r.agent_name!, [...(out.get(r.agent_name!) ?? []), r]);
  return out;
}

export function modelSwaps(byModel: MetricsRow[], scale: number): Recommendation[] {
  const out: Recommendation[] = [];
  for (const [agent, models] of groupByAgent(byModel)) {
    const eligible = models.filter((m) => m.invocations >= MIN_SAMPLE && m.cost_per_success_usd !== null);
    const current = eligible.sort((a, b) => b.invocations - a.invocations)[0];
    if (!current) continue;
    const better = eligible
      .filter((m) => m !== current)
      .filter((m) => (m.success_rate ?? 0) >= (current.success_rate ?? 0) - SUCCESS_TOLERANCE && zBelow(current, m) < 1.645)
      .filter((m) => m.cost_per_success_usd! <= current.cost_per_success_usd! * (1 - CHEAPER_BY))
      .sort((a, b) => a.cost_per_success_usd! - b.cost_per_success_usd!)[0];
    if (!better) continue;
    const saving = (current.cost_per_success_usd! - better.cost_per_success_usd!) * current.successes * scale;
    out.push({
      id: `model_swap:${agent}:${current.model_used}>${better.model_used}`,
      kind: 'model_swap',
      severity: saving >= 100 ? 'high' : saving >= 10 ? 'medium' : 'low',
      agent,
      title: `Run ${agent} on ${better.model_used} instead of ${current.model_used}`,
      detail:
        `${better.model_used} kept the success rate (${pct(better.success_rate)} vs ${pct(current.success_rate)}) at ` +
        `${usd(better.cost_per_success_usd)} per successful invocation instead of ${usd(current.cost_per_success_usd)}.`,
      impact: { metric: 'cost_usd_saved', value: round2(saving), unit: 'USD', per: '30 days' },
      evidence: { current: variant(current, 'model_used'), candidate: variant(better, 'model_used') },
    });
  }
  return out;
}

export function regressions(rows: MetricsRow[], dim: 'prompt_template_version' | 'agent_version', scale: number): Recommendation[] {
  const out: Recommendation[] = [];
  const kind = dim === 'prompt_template_version' ? 'prompt_regression' : 'version_regression';
  const label = dim === 'prompt_template_version' ? 'prompt template' : 'version';
  for (const [agent, variants] of groupByAgent(rows)) {
    const known = variants.filter((v) => v[dim] && v.invocations >= MIN_SAMPLE).sort((a, b) => natural(a[dim]!, b[dim]!));
    if (known.length < 2) continue;
    const newest = known.at(-1)!;
    const previous = known.at(-2)!;
    const slower = newest.p95_ms !== null && previous.p95_ms !== null && newest.p95_ms > previous.p95_ms * (1 + LATENCY_REGRESSION);
    const drop = (previous.success_rate ?? 0) - (newest.success_rate ?? 0);
    const worse = drop >= SUCCESS_REGRESSION && zBelow(previous, newest) >= 1.645;
    if (!slower && !worse) continue;
    const extraFailures = Math.max(0, drop) * newest.invocations * scale;
    out.push({
      id: `${kind}:${agent}:${previous[dim]}>${newest[dim]}`,
      kind,
      severity: worse ? 'high' : 'medium',
      agent,
      title: `${agent}: ${label} ${newest[dim]} regressed against ${previous[dim]}`,
      detail: [
        slower ? `p95 latency ${newest.p95_ms} ms vs ${previous.p95_ms} ms` : '',
        worse ? `success rate ${pct(newest.success_rate)} vs ${pct(previous.success_rate)}` : '',
      ]
        .filter(Boolean)
        .join('; ') + `. Compare with GET /agents/${agent}/compare?by=${dim === 'agent_version' ? 'version' : 'prompt_version'}.`,
      impact: worse
        ? { metric: 'failures_avoided', value: Math.round(extraFailures), unit: 'invocations', per: '30 days' }
        : { metric: 'p95_ms_saved', value: round2(newest.p95_ms! - previous.p95_ms!), unit: 'ms', per: '30 days' },
      evidence: { previous: variant(previous, dim), newest: variant(newest, dim) },
    });
  }
  return out;
}

export function errorHotspots(byAgent: MetricsRow[], byError: MetricsRow[], scale: number): Recommendation[] {
  const out: Recommendation[] = [];
  const errors = groupByAgent(byError);
  for (const a of byAgent) {
    if (a.invocations < MIN_SAMPLE || (a.failure_rate ?? 0) < HOTSPOT_FAILURE_RATE) continue;
    const top = (errors.get(a.agent_name!) ?? []).sort((x, y) => y.invocations - x.invocations)[0];
    if (!top || top.invocations / a.failures < HOTSPOT_SHARE) continue;
    out.push({
      id: `error_hotspot:${a.agent_name}:${top.error_type}`,
      kind: 'error_hotspot',
      severity: 'high',
      agent: a.agent_name!,
      title: `${a.agent_name}: fix "${top.error_type}" — it is ${pct(top.invocations / a.failures)} of its failures`,
      detail: `${a.agent_name} fails ${pct(a.failure_rate)} of ${a.invocations} invocations; ${top.invocations} of ${a.failures} failures are ${top.error_type}.`,
      impact: { metric: 'failures_avoided', value: Math.round(top.invocations * scale), unit: 'invocations', per: '30 days' },
      evidence: { invocations: a.invocations, failures: a.failures, failure_rate: a.failure_rate, error_type: top.error_type, count: top.invocations },
    });
  }
  return out;
}

async function failingTools(ctx: TenantContext, from: Date, to: Date, filters: Filters, scale: number): Promise<Recommendation[]> {
  const params: Record<string, unknown> = { from: from.getTime(), to: to.getTime() };
  const rows = await ctx.analytics.query<{ agent_name: string; tool: string; calls: number; failures: number }>(
    `SELECT agent_name, tool_name AS tool, count() AS calls, countIf(status = 'failure') AS failures
     FROM {db}.events
     WHERE org_id = {org_id:String} AND event_type = 'tool_call'
       AND timestamp >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND timestamp < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
       ${rawFilterSql({ department_id: filters.department_id, user_id: filters.user_id }, params)}
     GROUP BY agent_name, tool
     HAVING calls >= ${MIN_CALLS} AND failures / calls >= ${FAILING_RATE}`,
    params,
  );
  return rows.map((r) => {
    const calls = Number(r.calls);
    const failures = Number(r.failures);
    return {
      id: `failing_tool:${r.agent_name}:${r.tool}`,
      kind: 'failing_tool',
      severity: failures / calls >= 2 * FAILING_RATE ? 'high' : 'medium',
      agent: r.agent_name,
      title: `${r.agent_name}: tool ${r.tool} fails ${pct(failures / calls)} of its calls`,
      detail: `${failures} of ${calls} calls of ${r.tool} by ${r.agent_name} failed. See GET /agents/${r.agent_name}/tools.`,
      impact: { metric: 'failed_tool_calls_avoided', value: Math.round(failures * scale), unit: 'calls', per: '30 days' },
      evidence: { tool: r.tool, calls, failures, failure_rate: failures / calls },
    } satisfies Recommendation;
  });
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const SEVERITY = { high: 0, medium: 1, low: 2 };

export function registerRecommendationRoutes(env: PluginEnv) {
  env.route<CommonQuery & { agent?: string }>({
    method: 'GET',
    path: '/recommendations',
    permission: PERMISSION,
    cache: REMEMBER,
    summary: 'Optimisation opportunities computed from the data, each with its evidence and estimated impact over 30 days',
    description:
      `Rules: \`model_swap\` (a model of the same agent kept the success rate within ${SUCCESS_TOLERANCE * 100} point, not significantly lower at 95%, ` +
      `for ≥${CHEAPER_BY * 100}% less per successful invocation); \`failing_tool\` (≥${FAILING_RATE * 100}% of ≥${MIN_CALLS} calls fail); ` +
      `\`prompt_regression\` / \`version_regression\` (the newest prompt template or agent version, in natural order, has a p95 ≥${LATENCY_REGRESSION * 100}% ` +
      `higher or a success rate ≥${SUCCESS_REGRESSION * 100} points lower, significantly, than the one before); \`error_hotspot\` (an agent failing ≥` +
      `${HOTSPOT_FAILURE_RATE * 100}% with one error type ≥${HOTSPOT_SHARE * 100}% of its failures). Variants need ≥${MIN_SAMPLE} invocations. ` +
      'Impact is the range’s figure scaled to 30 days.',
    schema: {
      querystring: querySchema({ agent: { type: 'string', minLength: 1, maxLength: 200 } }),
      response: {
        200: objectOf({
          range: rangeSchema,
          recommendations: arrayOf({
            id: { type: 'string' },
            kind: { type: 'string' },
            severity: { type: 'string' },
            agent: { type: 'string' },
            title: { type: 'string' },
            detail: { type: 'string' },
            impact: objectOf({ metric: { type: 'string' }, value: { type: 'number' }, unit: { type: 'string' }, per: { type: 'string' } }),
            evidence: { type: 'object', additionalProperties: true },
          }),
        }),
      },
    },
    async handler(req, ctx) {
      const { range, filters } = parseCommon(req.query);
      const scale = DAYS_30 / (range.to.getTime() - range.from.getTime());
      const q = { range, filters, agent: req.query.agent };
      const [byAgent, byModel, byPrompt, byVersion, byError, tools] = await Promise.all([
        metrics(ctx, { ...q, groupBy: ['agent_name'] }),
        metrics(ctx, { ...q, groupBy: ['agent_name', 'model_used'] }),
        metrics(ctx, { ...q, groupBy: ['agent_name', 'prompt_template_version'] }),
        metrics(ctx, { ...q, groupBy: ['agent_name', 'agent_version'] }),
        metrics(ctx, { ...q, filters: { ...filters, status: 'failure' }, groupBy: ['agent_name', 'error_type'] }),
        failingTools(ctx, range.from, range.to, filters, scale),
      ]);
      const recommendations = [
        ...errorHotspots(byAgent, byError, scale),
        ...modelSwaps(byModel, scale),
        ...regressions(byPrompt, 'prompt_template_version', scale),
        ...regressions(byVersion, 'agent_version', scale),
        ...tools.filter((t) => !req.query.agent || t.agent === req.query.agent),
      ].sort((a, b) => SEVERITY[a.severity] - SEVERITY[b.severity] || b.impact.value - a.impact.value);
      return { range: rangeView(range), recommendations };
    },
  });
}
