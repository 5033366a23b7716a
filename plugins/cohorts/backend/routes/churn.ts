/**
 * Churn routes: the model's honest backtest (everyone may read it) and the
 * at-risk list (named users: Admins and Managers, within the departments the
 * caller may see).
 */
import { badRequest, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { churn, FEATURES, type ChurnSpec } from '../churn.ts';
import { READ, WRITE } from '../permissions.ts';

interface ChurnQuery { as_of?: string; period_days?: number; snapshots?: number; threshold?: number; department_id?: string; detail?: boolean; limit?: number }

const query = (extra: Record<string, unknown> = {}) => ({
  type: 'object',
  additionalProperties: false,
  properties: {
    as_of: { type: 'string', format: 'date-time', description: 'predict for the period starting here; default now' },
    period_days: { type: 'integer', minimum: 1, maximum: 90, default: 7, description: 'length of a period: "inactive next period" means no event in the next this many days' },
    snapshots: { type: 'integer', minimum: 2, maximum: 26, default: 8, description: 'labelled snapshots of history to learn from (the latest is held out for the backtest)' },
    threshold: { type: 'number', minimum: 0.01, maximum: 0.99, default: 0.5, description: 'probability at or above which a user is called at risk' },
    department_id: { type: 'string', minLength: 1, maxLength: 64, description: 'only events recorded in this department' },
    ...extra,
  },
});

const num = { type: ['number', 'null'] };
const backtestSchema = {
  type: 'object',
  properties: {
    trained_on: { type: 'object', properties: { snapshots: { type: 'integer' }, examples: { type: 'integer' } } },
    scored_snapshot: { type: 'string' },
    examples: { type: 'integer' },
    churned: { type: 'integer' },
    base_rate: num,
    auc: num,
    threshold: { type: 'number' },
    accuracy: num,
    majority_accuracy: num,
    precision: num,
    recall: num,
    confusion: { type: 'object', properties: { tp: { type: 'integer' }, fp: { type: 'integer' }, fn: { type: 'integer' }, tn: { type: 'integer' } } },
    calibration: { type: 'array', items: { type: 'object', properties: { from: { type: 'number' }, to: { type: 'number' }, examples: { type: 'integer' }, mean_predicted: num, observed_rate: num } } },
    scores: { type: 'array', items: { type: 'object', properties: { user_id: { type: 'string' }, p: { type: 'number' }, y: { type: 'integer' } } } },
  },
};

function spec(q: ChurnQuery): ChurnSpec {
  const asOf = q.as_of ? Date.parse(q.as_of) : Date.now();
  if (Number.isNaN(asOf)) throw badRequest(`as_of: "${q.as_of}" is not an ISO 8601 instant`, { field: 'as_of' });
  return { asOf, periodDays: q.period_days ?? 7, snapshots: q.snapshots ?? 8, threshold: q.threshold ?? 0.5, departmentId: q.department_id };
}

/** The at-risk users the caller may see: offered to other features (e.g. adoption's support flags) through this one function. */
export async function atRisk(ctx: TenantContext, s: ChurnSpec, limit: number) {
  const r = await churn(ctx, s);
  const visible = await ctx.visibleUserDepartments();
  const allow = visible === null ? null : new Set(visible);
  const users = r.current
    .filter((u) => u.probability >= s.threshold && (!allow || allow.has(u.department_id) || u.user_id === ctx.caller?.userId))
    .sort((a, b) => b.probability - a.probability || a.user_id.localeCompare(b.user_id))
    .slice(0, limit)
    .map((u) => ({ user_id: u.user_id, department_id: u.department_id, probability: u.probability, features: Object.fromEntries(FEATURES.map((f, j) => [f, u.x[j]!])) }));
  // names for the people in the list (the directory knows members only; other user ids get none)
  const names = new Map((await ctx.directory.members({ ids: users.map((u) => u.user_id), includeInactive: true })).map((m) => [m.id, m]));
  return { as_of: r.as_of, period_days: r.period_days, threshold: s.threshold, backtest_auc: r.backtest.auc, scored: r.current.length, users: users.map((u) => ({ ...u, email: names.get(u.user_id)?.email ?? null, display_name: names.get(u.user_id)?.displayName || null })) };
}

export function registerChurnRoutes(env: PluginEnv) {
  env.route<ChurnQuery>({
    method: 'GET',
    path: '/churn/model',
    permission: READ,
    summary: 'Churn model: method, coefficients and its time-split backtest (AUC, precision and recall at the threshold, calibration)',
    description:
      'A user is in a snapshot when they had an event in the 4 periods before it; they churned when they had none in the period after. ' +
      'Features: days since their last event, log(1 + events in 4 periods), periods of the 4 with an event, trend (last period vs the one before, ' +
      '(a − b)/(a + b + 1)), and the failure share of their agent invocations. The backtest fits on older snapshots and scores the latest ' +
      'labelled one. `detail=true` adds each scored example.',
    schema: {
      querystring: query({ detail: { type: 'boolean', default: false } }),
      response: {
        200: {
          type: 'object',
          properties: {
            method: { type: 'string' },
            period_days: { type: 'integer' },
            as_of: { type: 'string' },
            features: { type: 'array', items: { type: 'string' } },
            model: { type: 'object', additionalProperties: true },
            backtest: backtestSchema,
          },
        },
      },
    },
    async handler(req, ctx) {
      const r = await churn(ctx, spec(req.query));
      const { scores, ...backtest } = r.backtest;
      const withIds = async () => {
        // per-example detail names users: only within what the caller may see
        const visible = await ctx.visibleUserDepartments();
        if (visible === null) return scores;
        throw badRequest('detail lists named users: only callers who see every department may ask for it', { field: 'detail' });
      };
      return { method: r.method, period_days: r.period_days, as_of: r.as_of, features: r.features, model: r.model, backtest: req.query.detail ? { ...backtest, scores: await withIds() } : backtest };
    },
  });

  env.route<ChurnQuery>({
    method: 'GET',
    path: '/churn/at-risk',
    permission: WRITE,
    summary: 'Users likely to be inactive next period, most likely first (only those in departments the caller may see)',
    schema: {
      querystring: query({ limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } }),
      response: {
        200: {
          type: 'object',
          properties: {
            as_of: { type: 'string' },
            period_days: { type: 'integer' },
            threshold: { type: 'number' },
            backtest_auc: num,
            scored: { type: 'integer' },
            users: {
              type: 'array',
              items: { type: 'object', properties: { user_id: { type: 'string' }, email: { type: ['string', 'null'] }, display_name: { type: ['string', 'null'] }, department_id: { type: 'string' }, probability: { type: 'number' }, features: { type: 'object', additionalProperties: { type: 'number' } } } },
            },
          },
        },
      },
    },
    handler: async (req, ctx) => atRisk(ctx, spec(req.query), req.query.limit ?? 50),
  });
}
