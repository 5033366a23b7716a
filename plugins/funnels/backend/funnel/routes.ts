/**
 * `POST /api/v1/funnels/query` (API.md "Funnels and workflows").
 */
import type { PluginEnv, TenantContext } from '@orrery/plugin-sdk';
import { funnelBodySchema, planFunnel, type FunnelInput, type FunnelPlan } from './spec.ts';
import { funnelParams, funnelSql } from './sql.ts';

/**
 * The per-user limit of the heavy routes (funnel queries and workflow analytics): 60 a minute
 * by default, `plugins.funnels.rateLimitPerMinute` in app-config.yaml to change it.
 */
export const HEAVY = { max: 60, windowSeconds: 60, configKey: 'rateLimitPerMinute' };
export const READ = 'funnels.read';
export const WRITE = 'funnels.write';

/** At most this many breakdown values, the largest by step-0 units first. */
export const MAX_BREAKDOWN_VALUES = 50;

export interface FunnelStep {
  index: number;
  count: number;
  conversion_rate: number | null;
  step_conversion_rate: number | null;
  dropped: number;
  median_seconds_from_previous: number | null;
  avg_seconds_from_previous: number | null;
}
export interface FunnelAnswer {
  steps: FunnelStep[];
  /** `label`: the department's name when broken down by `department_id` */
  breakdown?: Array<{ value: string; label?: string; steps: FunnelStep[] }>;
}

type Row = { bd: string; k: number; units: string | number; median_ms: number | null; avg_ms: number | null };

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
const seconds = (ms: number | null) => (ms === null || Number.isNaN(Number(ms)) ? null : Number(ms) / 1000);

function stepsOf(rows: Row[], n: number): FunnelStep[] {
  const byK = new Map(rows.map((r) => [Number(r.k), r]));
  const counts = Array.from({ length: n }, (_, k) => Number(byK.get(k)?.units ?? 0));
  return counts.map((count, k) => ({
    index: k,
    count,
    conversion_rate: ratio(count, counts[0]!),
    step_conversion_rate: k === 0 ? ratio(count, count) : ratio(count, counts[k - 1]!),
    dropped: k === 0 ? 0 : counts[k - 1]! - count,
    median_seconds_from_previous: k === 0 || !count ? null : seconds(byK.get(k)!.median_ms),
    avg_seconds_from_previous: k === 0 || !count ? null : seconds(byK.get(k)!.avg_ms),
  }));
}

/** Runs a planned funnel: the overall answer and, with a breakdown, one per value. */
export async function runFunnel(ctx: TenantContext, plan: FunnelPlan): Promise<FunnelAnswer> {
  // aggregates read every event; only routes that name people apply the department scope
  const depts = null;
  const events = ctx.analytics.table('events');
  const params = funnelParams(plan, depts);
  const overall = ctx.analytics.query<Row>(funnelSql(plan, events, { byBreakdown: false, deptFilter: !!depts }), params);
  const split = plan.breakdown ? ctx.analytics.query<Row>(funnelSql(plan, events, { byBreakdown: true, deptFilter: !!depts }), params) : null;
  const n = plan.steps.length;
  const answer: FunnelAnswer = { steps: stepsOf(await overall, n) };
  if (split) {
    const byValue = new Map<string, Row[]>();
    for (const r of await split) {
      let list = byValue.get(r.bd);
      if (!list) byValue.set(r.bd, (list = []));
      list.push(r);
    }
    answer.breakdown = [...byValue.entries()]
      .map(([value, rows]) => ({ value, steps: stepsOf(rows, n) }))
      .sort((a, b) => b.steps[0]!.count - a.steps[0]!.count || a.value.localeCompare(b.value))
      .slice(0, MAX_BREAKDOWN_VALUES);
    if (plan.breakdown === 'department_id' && answer.breakdown.length) {
      // people read departments by name; an id no longer in the directory stays as it is
      const names = await ctx.directory.departmentNames();
      for (const b of answer.breakdown) {
        const name = names.get(b.value);
        if (name) b.label = name;
      }
    }
  }
  return answer;
}

const numOrNull = { type: ['number', 'null'] };
export const stepSchema = {
  type: 'object',
  properties: {
    index: { type: 'integer' },
    count: { type: 'integer' },
    conversion_rate: numOrNull,
    step_conversion_rate: numOrNull,
    dropped: { type: 'integer' },
    median_seconds_from_previous: numOrNull,
    avg_seconds_from_previous: numOrNull,
  },
};
export const funnelAnswerSchema = {
  type: 'object',
  properties: {
    steps: { type: 'array', items: stepSchema },
    breakdown: {
      type: 'array',
      items: { type: 'object', properties: { value: { type: 'string' }, label: { type: 'string', description: 'the department\'s name, when broken down by department_id and the department is in the directory' }, steps: { type: 'array', items: stepSchema } } },
    },
  },
};

export const FUNNEL_DESCRIPTION =
  'An attempt starts at an event matching step 0 with its timestamp in [from, to). Step k (k ≥ 1) is reached when events ' +
  'matching steps 1…k follow, each strictly later than the one before, all within `window_seconds` (inclusive) of the ' +
  'step-0 event, and each within `step_windows_seconds[k]` (inclusive) of the step before when given. `strict`: no other ' +
  'event of the unit strictly between two matched steps. `unordered`: an event matching any step starts an attempt; it ' +
  'reaches step k when k + 1 distinct steps have a matching event within the window. An exclusion event strictly between ' +
  'the from_step and to_step events of an attempt means that attempt does not reach to_step. Each unit counts once, at ' +
  'the furthest step any attempt reaches; times are those of the earliest attempt reaching it (its path reaching the ' +
  'furthest step first, each earlier step as late as possible). `dropped` = units at the step before minus units at this ' +
  'step. Medians are exact (`quantileExactInclusive`, the mean of the two middle values for an even count).';

export function registerFunnelQuery(env: PluginEnv) {
  env.route<unknown, unknown, FunnelInput>({
    method: 'POST',
    path: '/query',
    permission: READ,
    rateLimit: HEAVY,
    summary: 'Ad-hoc funnel: ordered, strict or unordered steps with windows, exclusions and a breakdown',
    description: FUNNEL_DESCRIPTION,
    schema: { body: funnelBodySchema, response: { 200: funnelAnswerSchema } },
    async handler(req, ctx) {
      return runFunnel(ctx, planFunnel(req.body));
    },
  });
}
