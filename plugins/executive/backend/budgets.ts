/**
 * Budgets per org, department or agent, over the calendar month (UTC): what was spent,
 * the burn rate, the projected month-end spend, the share used and a status.
 *
 * Status: `over` when spent > amount; `at_risk` when the projection exceeds the amount;
 * `on_track` otherwise. Members see the org's and agents' budgets and those of their own
 * departments; Admins see all; only Admins write (audited).
 */
import { randomUUID } from 'node:crypto';
import { badRequest, metricsQueryRef, notFound, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { burnOf, costOf, costQuery, dailyCost, DAY_MS, monthOf, type Burn, type CostFilter, type Period } from './cost.ts';
import { ADMIN, READ } from './permissions.ts';
import { BUDGETS_PREFIX, atOf, atQuery, isoOrNull } from './common.ts';
import { TOPIC_BUDGETS } from '../widgets.ts';

export const SCOPES = ['org', 'department', 'agent'] as const;
export type Scope = (typeof SCOPES)[number];
export type BudgetStatus = 'on_track' | 'at_risk' | 'over';

export interface Budget {
  id: string;
  name: string;
  scope: Scope;
  scope_id: string | null;
  amount_usd: number;
  period: 'month';
  created_at: string | null;
  updated_at: string | null;
}

export interface BudgetState extends Burn {
  period_start: string;
  period_end: string;
  as_of: string;
  amount_usd: number;
  share: number;
  projected_share: number;
  projected_overspend_usd: number;
  status: BudgetStatus;
}

const rowToBudget = (r: any): Budget => ({
  id: r.id,
  name: r.name,
  scope: r.scope,
  scope_id: r.scope_id ?? null,
  amount_usd: Number(r.amount_usd),
  period: r.period,
  created_at: isoOrNull(r.created_at),
  updated_at: isoOrNull(r.updated_at),
});

export const filterOf = (b: Pick<Budget, 'scope' | 'scope_id'>): CostFilter =>
  b.scope === 'department' ? { department_id: b.scope_id! } : b.scope === 'agent' ? { agent_name: b.scope_id! } : {};

export function stateOf(amount: number, spent: number, p: Period): BudgetState {
  const burn = burnOf(spent, p);
  const status: BudgetStatus = spent > amount ? 'over' : burn.projected_usd > amount ? 'at_risk' : 'on_track';
  return {
    period_start: p.start.toISOString(),
    period_end: p.end.toISOString(),
    as_of: p.at.toISOString(),
    amount_usd: amount,
    ...burn,
    share: amount > 0 ? spent / amount : 0,
    projected_share: amount > 0 ? burn.projected_usd / amount : 0,
    projected_overspend_usd: Math.max(0, burn.projected_usd - amount),
    status,
  };
}

export async function budgetState(ctx: TenantContext, b: Budget, at: Date): Promise<BudgetState> {
  const p = monthOf(at);
  return stateOf(b.amount_usd, await costOf(ctx, p.start, p.at, filterOf(b)), p);
}

/** The states of many budgets at one instant, their costs asked in one batch (one ClickHouse query where the filters allow). */
export async function budgetStates(ctx: TenantContext, list: Budget[], at: Date): Promise<BudgetState[]> {
  if (!list.length) return [];
  const p = monthOf(at);
  if (p.at.getTime() <= p.start.getTime()) return list.map((b) => stateOf(b.amount_usd, 0, p));
  const metrics = await ctx.services.get(metricsQueryRef);
  const answers = await metrics.runBatch(list.map((b) => costQuery(filterOf(b))), { from: p.start, to: p.at });
  return list.map((b, i) => stateOf(b.amount_usd, (answers[i] ?? []).reduce((s, x) => s + (x.total ?? 0), 0), p));
}

/** The budgets the caller may read (all for Admins and jobs; otherwise org, agent and own departments). */
export async function visibleBudgets(ctx: TenantContext, opts: { departmentId?: string } = {}): Promise<Budget[]> {
  const q = ctx.db.table('executive_budgets').orderBy([{ column: 'scope' }, { column: 'name' }]);
  if (opts.departmentId) q.where({ scope: 'department', scope_id: opts.departmentId });
  const all: Budget[] = (await q).map(rowToBudget);
  const c = ctx.caller;
  if (!c || c.role === 'Admin') return all;
  const mine = new Set(c.departments.map((d) => d.id));
  return all.filter((b) => b.scope !== 'department' || mine.has(b.scope_id!));
}

async function findVisible(ctx: TenantContext, id: string): Promise<Budget> {
  const row = await ctx.db.table('executive_budgets').where({ id }).first();
  const b = row ? rowToBudget(row) : null;
  const c = ctx.caller;
  if (!b || (c && c.role !== 'Admin' && b.scope === 'department' && !c.departments.some((d) => d.id === b.scope_id))) throw notFound(`no budget ${id}`, { field: 'id' });
  return b;
}

/** Stores a checked monthly budget (the create route, and the demo's example), by the caller when there is one. */
export async function insertBudget(ctx: TenantContext, b: { name: string; scope: Scope; scope_id: string | null; amount_usd: number }): Promise<Budget> {
  const row = { id: randomUUID(), name: b.name, scope: b.scope, scope_id: b.scope_id, amount_usd: b.amount_usd, period: 'month', created_by: ctx.caller?.userId ?? null };
  await ctx.db.table('executive_budgets').insert(row);
  return findVisible(ctx, row.id);
}

/** One point per day of the month: remaining budget actual (up to `at`), ideal and projected (after `at`). */
export async function burnDown(ctx: TenantContext, b: Budget, at: Date) {
  const p = monthOf(at);
  const days = await dailyCost(ctx, p.start, p.at, filterOf(b));
  const spent = days.reduce((s, d) => s + d.value, 0);
  const burn = burnOf(spent, p);
  const total = p.end.getTime() - p.start.getTime();
  const points: Array<{ bucket: string; end: string; ideal_remaining: number; remaining: number | null; projected_remaining: number | null }> = [];
  let cum = 0;
  for (let t = p.start.getTime(), i = 0; t < p.end.getTime(); t += DAY_MS, i++) {
    const end = Math.min(t + DAY_MS, p.end.getTime());
    const ideal = b.amount_usd * (1 - (end - p.start.getTime()) / total);
    if (t < p.at.getTime()) {
      cum += days[i]?.value ?? 0;
      points.push({ bucket: new Date(t).toISOString(), end: new Date(end).toISOString(), ideal_remaining: ideal, remaining: b.amount_usd - cum, projected_remaining: end >= p.at.getTime() ? b.amount_usd - cum : null });
    } else {
      const projected = spent + burn.burn_rate_usd_per_day * ((end - p.at.getTime()) / DAY_MS);
      points.push({ bucket: new Date(t).toISOString(), end: new Date(end).toISOString(), ideal_remaining: ideal, remaining: null, projected_remaining: b.amount_usd - projected });
    }
  }
  return points;
}

// ---------------------------------------------------------------- routes

const str = { type: 'string' };
const num = { type: 'number' };
const budgetProps = {
  id: str,
  name: str,
  scope: { type: 'string', enum: [...SCOPES] },
  scope_id: { type: ['string', 'null'] },
  amount_usd: num,
  period: { type: 'string', enum: ['month'] },
  created_at: { type: ['string', 'null'] },
  updated_at: { type: ['string', 'null'] },
};
export const stateSchema = {
  type: 'object',
  properties: {
    period_start: str,
    period_end: str,
    as_of: str,
    amount_usd: num,
    spent_usd: num,
    burn_rate_usd_per_day: num,
    projected_usd: num,
    days_elapsed: num,
    days_left: num,
    share: { type: 'number', description: 'spent ÷ amount' },
    projected_share: { type: 'number', description: 'projected ÷ amount' },
    projected_overspend_usd: num,
    status: { type: 'string', enum: ['on_track', 'at_risk', 'over'] },
  },
};
const budgetWithState = { type: 'object', properties: { ...budgetProps, state: stateSchema } };
const burnDownSchema = {
  type: 'array',
  items: {
    type: 'object',
    properties: { bucket: str, end: str, ideal_remaining: num, remaining: { type: ['number', 'null'] }, projected_remaining: { type: ['number', 'null'] } },
  },
};
const bodySchema = (required: string[]) => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    scope: { type: 'string', enum: [...SCOPES] },
    scope_id: { type: ['string', 'null'], minLength: 1, maxLength: 200, description: 'the department id (scope department) or agent name (scope agent)' },
    amount_usd: { type: 'number', exclusiveMinimum: 0, maximum: 1e12 },
    period: { type: 'string', enum: ['month'], default: 'month' },
  },
});
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } };

interface BudgetBody {
  name: string;
  scope: Scope;
  scope_id?: string | null;
  amount_usd: number;
  period?: 'month';
}

async function checkScope(ctx: TenantContext, b: { scope: Scope; scope_id?: string | null }) {
  if (b.scope === 'org') {
    if (b.scope_id) throw badRequest('scope_id: an org budget has no scope_id', { field: 'scope_id' });
    return null;
  }
  if (!b.scope_id) throw badRequest(`scope_id: a ${b.scope} budget names its ${b.scope === 'department' ? 'department id' : 'agent name'}`, { field: 'scope_id' });
  if (b.scope === 'department') {
    const deps = await ctx.directory.departments();
    if (!deps.some((d) => d.id === b.scope_id)) throw badRequest(`scope_id: no department "${b.scope_id}" in this organization`, { field: 'scope_id', allowed: deps.map((d) => d.id) });
  }
  return b.scope_id;
}

export function registerBudgetRoutes(env: PluginEnv) {
  env.route<{ at?: string; department_id?: string }>({
    method: 'GET',
    prefix: BUDGETS_PREFIX,
    path: '/',
    permission: READ,
    summary: 'Budgets the caller may see, each with its state in the month holding `at` (default now)',
    schema: {
      querystring: { type: 'object', additionalProperties: false, properties: { ...atQuery, department_id: { type: 'string', minLength: 1, maxLength: 128 } } },
      response: { 200: { type: 'object', properties: { as_of: str, budgets: { type: 'array', items: budgetWithState } } } },
    },
    async handler(req, ctx) {
      const at = atOf(req.query.at);
      const list = await visibleBudgets(ctx, { departmentId: req.query.department_id });
      const states = await budgetStates(ctx, list, at);
      return { as_of: at.toISOString(), budgets: list.map((b, i) => ({ ...b, state: states[i]! })) };
    },
  });

  env.route<unknown, unknown, BudgetBody>({
    method: 'POST',
    prefix: BUDGETS_PREFIX,
    path: '/',
    permission: ADMIN,
    summary: 'Create a monthly budget for the org, a department or an agent (Admin)',
    schema: { body: bodySchema(['name', 'scope', 'amount_usd']), response: { 200: { type: 'object', properties: budgetProps } } },
    async handler(req, ctx) {
      const scopeId = await checkScope(ctx, req.body);
      const b = await insertBudget(ctx, { name: req.body.name, scope: req.body.scope, scope_id: scopeId, amount_usd: req.body.amount_usd });
      await ctx.audit({ action: 'executive.budget.create', target: b.id, after: b });
      await ctx.bus.publish(TOPIC_BUDGETS, { id: b.id, change: 'created' });
      return b;
    },
  });

  env.route<{ at?: string }, { id: string }>({
    method: 'GET',
    prefix: BUDGETS_PREFIX,
    path: '/:id',
    permission: READ,
    summary: 'One budget with its state and its burn-down (remaining per day: actual, ideal, projected)',
    schema: {
      params: idParams,
      querystring: { type: 'object', additionalProperties: false, properties: atQuery },
      response: { 200: { type: 'object', properties: { ...budgetProps, state: stateSchema, burn_down: burnDownSchema } } },
    },
    async handler(req, ctx) {
      const at = atOf(req.query.at);
      const b = await findVisible(ctx, req.params.id);
      return { ...b, state: await budgetState(ctx, b, at), burn_down: await burnDown(ctx, b, at) };
    },
  });

  // the burn-down widget reads under the plugin's own prefix (a widget's data hook is bound to it)
  env.route<{ budget?: string; at?: string }>({
    method: 'GET',
    path: '/burn-down',
    permission: READ,
    summary: 'The burn-down of one budget, or of the one closest to running out (highest projected share); `budget: null` without budgets',
    schema: {
      querystring: { type: 'object', additionalProperties: false, properties: { ...atQuery, budget: { type: 'string', format: 'uuid' } } },
      response: {
        200: {
          type: 'object',
          properties: {
            budget: { type: ['object', 'null'], properties: budgetProps },
            state: { ...stateSchema, type: ['object', 'null'] },
            burn_down: burnDownSchema,
            budgets: { type: 'array', items: { type: 'object', properties: { id: str, name: str } } },
          },
        },
      },
    },
    async handler(req, ctx) {
      const at = atOf(req.query.at);
      const list = await visibleBudgets(ctx);
      const choices = list.map((b) => ({ id: b.id, name: b.name }));
      let pick: Budget | null = null;
      let state: BudgetState | null = null;
      if (req.query.budget) {
        pick = await findVisible(ctx, req.query.budget);
        state = await budgetState(ctx, pick, at);
      } else {
        const states = await budgetStates(ctx, list, at);
        list.forEach((b, i) => {
          if (!state || states[i]!.projected_share > state.projected_share) [pick, state] = [b, states[i]!];
        });
      }
      return { budget: pick, state, burn_down: pick ? await burnDown(ctx, pick, at) : [], budgets: choices };
    },
  });

  env.route<unknown, { id: string }, BudgetBody>({
    method: 'PUT',
    prefix: BUDGETS_PREFIX,
    path: '/:id',
    permission: ADMIN,
    summary: 'Replace a budget (Admin)',
    schema: { params: idParams, body: bodySchema(['name', 'scope', 'amount_usd']), response: { 200: { type: 'object', properties: budgetProps } } },
    async handler(req, ctx) {
      const before = await findVisible(ctx, req.params.id);
      const scopeId = await checkScope(ctx, req.body);
      await ctx.db.table('executive_budgets').where({ id: before.id }).update({ name: req.body.name, scope: req.body.scope, scope_id: scopeId, amount_usd: req.body.amount_usd, updated_at: new Date() });
      const after = await findVisible(ctx, before.id);
      await ctx.audit({ action: 'executive.budget.update', target: before.id, before, after });
      await ctx.bus.publish(TOPIC_BUDGETS, { id: before.id, change: 'updated' });
      return after;
    },
  });

  env.route<unknown, { id: string }>({
    method: 'DELETE',
    prefix: BUDGETS_PREFIX,
    path: '/:id',
    permission: ADMIN,
    summary: 'Delete a budget (Admin)',
    schema: { params: idParams, response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } } },
    async handler(req, ctx) {
      const before = await findVisible(ctx, req.params.id);
      await ctx.db.table('executive_budgets').where({ id: before.id }).delete();
      await ctx.audit({ action: 'executive.budget.delete', target: before.id, before });
      await ctx.bus.publish(TOPIC_BUDGETS, { id: before.id, change: 'deleted' });
      return { ok: true };
    },
  });
}

export { budgetProps };
