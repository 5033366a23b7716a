/**
 * Adherence and bottlenecks of a workflow (PRD 7.1), and the Workflow adoption figures
 * the widget shows: participation, adherence, completion.
 */
import { parseTimeRange, timeRangeQuerySchema, type PluginEnv, type TenantContext, type TimeRange } from '@orrery/plugin-sdk';
import { HEAVY, READ } from '../funnel/routes.ts';
import { activeUsersSql, adherenceSql, stepsSql, workflowParams, type Scope } from './sql.ts';
import { readList } from './figures.ts';
import { PREFIX } from './routes.ts';

const ALL: Scope = { departments: null };
const n = (v: unknown) => Number(v ?? 0);
const rate = (a: number, b: number) => (b ? a / b : null);

type AdherenceRow = { workflow_id: string; users: unknown; no_steps: unknown; adherent: unknown; skipped_users: unknown; out_of_order_users: unknown; repeated_users: unknown };

export function adherenceOf(r: AdherenceRow | undefined) {
  const users = n(r?.users);
  const withSteps = users - n(r?.no_steps);
  const deviations = (['skipped', 'out_of_order', 'repeated'] as const).map((kind) => {
    const u = n(r?.[`${kind}_users`]);
    return { kind, users: u, share: rate(u, withSteps) };
  });
  return { users, users_with_steps: withSteps, adherent: n(r?.adherent), adherence_rate: rate(n(r?.adherent), withSteps), deviations };
}

export async function adherenceReport(ctx: TenantContext, range: TimeRange, workflowId: string) {
  const events = ctx.analytics.table('events');
  const params = workflowParams(range, workflowId, ALL);
  const [adh, steps] = await Promise.all([
    ctx.analytics.query<AdherenceRow>(adherenceSql(events, ALL, true), params),
    ctx.analytics.query<{ step: string; step_index: unknown; entered: unknown; completed: unknown; median_ms: unknown }>(stepsSql(events, ALL), params),
  ]);
  const a = adherenceOf(adh[0]);
  const stepRows = steps.map((s) => ({
    step: s.step,
    step_index: n(s.step_index),
    entered: n(s.entered),
    drop_off: n(s.entered) - n(s.completed),
    drop_off_rate: rate(n(s.entered) - n(s.completed), n(s.entered)),
    median_seconds_in_step: s.median_ms === null || Number.isNaN(Number(s.median_ms)) ? null : Number(s.median_ms) / 1000,
  }));
  const byDrop = [...stepRows].filter((s) => s.drop_off_rate !== null).sort((x, y) => y.drop_off_rate! - x.drop_off_rate! || x.step_index - y.step_index);
  const bySlow = [...stepRows].filter((s) => s.median_seconds_in_step !== null).sort((x, y) => y.median_seconds_in_step! - x.median_seconds_in_step! || x.step_index - y.step_index);
  const recommendations: Array<{ text: string; evidence: Record<string, unknown> }> = [];
  const worst = byDrop[0];
  if (worst && worst.drop_off_rate! >= 0.25 && worst.entered >= 5) {
    recommendations.push({ text: `Step "${worst.step}" loses ${Math.round(worst.drop_off_rate! * 100)}% of those who enter it: review what it asks and where people get stuck.`, evidence: worst });
  }
  const slow = bySlow[0];
  if (slow && bySlow.length > 1) {
    const others = bySlow.slice(1).map((s) => s.median_seconds_in_step!);
    const typical = others.sort((x, y) => x - y)[Math.floor(others.length / 2)]!;
    if (slow.median_seconds_in_step! >= 2 * typical) {
      recommendations.push({ text: `Step "${slow.step}" takes a median ${Math.round(slow.median_seconds_in_step! / 60)} min, at least twice the other steps: split it or automate part of it.`, evidence: { ...slow, typical_median_seconds: typical } });
    }
  }
  for (const d of a.deviations) {
    if (d.share !== null && d.share >= 0.2 && d.users >= 3) {
      const what = { skipped: 'skip a step', out_of_order: 'take the steps out of order', repeated: 'repeat a step' }[d.kind];
      recommendations.push({ text: `${Math.round(d.share * 100)}% of participants ${what}: the written order may not match how people work.`, evidence: d });
    }
  }
  return { ...a, bottlenecks: { highest_drop_off: byDrop.slice(0, 3), longest_time: bySlow.slice(0, 3) }, recommendations };
}

const int = { type: 'integer' };
const numOrNull = { type: ['number', 'null'] };
const deviationSchema = { type: 'array', items: { type: 'object', properties: { kind: { type: 'string' }, users: int, share: numOrNull } } };
const stepSchema = { type: 'array', items: { type: 'object', properties: { step: { type: 'string' }, step_index: int, entered: int, drop_off: int, drop_off_rate: numOrNull, median_seconds_in_step: numOrNull } } };
const rangeQuery = { type: 'object', additionalProperties: false, properties: { from: timeRangeQuerySchema.from, to: timeRangeQuerySchema.to } };

export const ADHERENCE_NOTE =
  'Over the users who enrolled in [from, to) and their `step_entered` events at or after enrolment, in time order, by `step_index` ' +
  'counted from the lowest index seen for the workflow since `from`: `skipped` = an index below the highest entered was never entered; ' +
  '`out_of_order` = steps first entered in another order than their index; `repeated` = a step entered twice or more; `adherent` = at ' +
  'least one step and none of these. Shares are of the users who entered at least one step.';

export function registerAdherenceRoutes(env: PluginEnv) {
  env.route<{ from?: string; to?: string }, { id: string }>({
    method: 'GET',
    path: '/:id/analytics/adherence',
    prefix: PREFIX,
    permission: READ,
    rateLimit: HEAVY,
    cache: { maxAgeSeconds: 300 },
    summary: 'Adherence of one workflow: deviations and how common each is, bottleneck steps, recommendations with their evidence',
    description: ADHERENCE_NOTE,
    schema: {
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 256 } } },
      querystring: rangeQuery,
      response: {
        200: {
          type: 'object',
          properties: {
            users: int, users_with_steps: int, adherent: int, adherence_rate: numOrNull, deviations: deviationSchema,
            bottlenecks: { type: 'object', properties: { highest_drop_off: stepSchema, longest_time: stepSchema } },
            recommendations: { type: 'array', items: { type: 'object', properties: { text: { type: 'string' }, evidence: { type: 'object', additionalProperties: true } } } },
          },
        },
      },
    },
    async handler(req, ctx) {
      return adherenceReport(ctx, parseTimeRange(req.query, 30), req.params.id);
    },
  });

  // under the plugin's main prefix, where the widget data hook reaches
  env.route<{ from?: string; to?: string }>({
    method: 'GET',
    path: '/workflow-adoption',
    permission: READ,
    rateLimit: HEAVY,
    cache: { maxAgeSeconds: 300 },
    summary: 'Workflow adoption: per workflow participation (enrolled / active users), adherence and completion',
    description: `Participation = users enrolled in [from, to) / users with any event in [from, to). Completion = completed / enrolled (see GET /workflows). ${ADHERENCE_NOTE}`,
    schema: {
      querystring: { type: 'object', properties: { from: timeRangeQuerySchema.from, to: timeRangeQuerySchema.to, tz: timeRangeQuerySchema.tz, department_id: { type: 'string' } } },
      response: {
        200: {
          type: 'object',
          properties: {
            active_users: int,
            workflows: { type: 'array', items: { type: 'object', properties: { workflow_id: { type: 'string' }, enrolled: int, participation: numOrNull, completed: int, completion_rate: numOrNull, adherence_rate: numOrNull } } },
          },
        },
      },
    },
    async handler(req, ctx) {
      const range = parseTimeRange(req.query, 30);
      const events = ctx.analytics.table('events');
      const params = workflowParams(range, null, ALL);
      const [active, list, adh] = await Promise.all([
        ctx.analytics.query<{ users: unknown }>(activeUsersSql(events), params),
        readList(ctx, range, ALL),
        ctx.analytics.query<AdherenceRow>(adherenceSql(events, ALL, false), params),
      ]);
      const activeUsers = n(active[0]?.users);
      const byWf = new Map(adh.map((r) => [r.workflow_id, adherenceOf(r)]));
      return {
        active_users: activeUsers,
        workflows: list.map((w) => ({
          workflow_id: w.workflow_id,
          enrolled: n(w.enrolled),
          participation: rate(n(w.enrolled), activeUsers),
          completed: n(w.completed),
          completion_rate: rate(n(w.completed), n(w.enrolled)),
          adherence_rate: byWf.get(w.workflow_id)?.adherence_rate ?? null,
        })),
      };
    },
  });
}
