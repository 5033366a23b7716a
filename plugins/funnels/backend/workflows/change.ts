/**
 * The effect of a workflow change: conversion of the people who enrolled in the `days` before
 * a date against those who enrolled in the `days` from it, each given the same time to reach
 * the goal (`completion_days` after their enrolment), with a two-proportion test; per step,
 * the share of those who entered it that completed it, before and after; and which steps
 * appeared or disappeared (a change of the step list).
 */
import { badRequest, parseTimeRange, type PluginEnv } from '@orrery/plugin-sdk';
import { HEAVY, READ } from '../funnel/routes.ts';
import { cohortSql, workflowParams } from './sql.ts';
import { PREFIX, scopeOf } from './routes.ts';

const DAY = 86_400_000;

/** Standard normal CDF, through erfc. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}
function erfc(x: number): number {
  // Chebyshev fit of erfc (Numerical Recipes, 3rd ed., §6.2.2): close to double precision over the whole line
  const z = Math.abs(x);
  const t = 2 / (2 + z);
  const ty = 4 * t - 2;
  const cof = [
    -1.3026537197817094, 6.419697923564902e-1, 1.9476473204185836e-2, -9.561514786808631e-3, -9.46595344482036e-4, 3.66839497852761e-4, 4.2523324806907e-5,
    -2.0278578112534e-5, -1.624290004647e-6, 1.30365583558e-6, 1.5626441722e-8, -8.5238095915e-8, 6.529054439e-9, 5.059343495e-9, -9.91364156e-10,
    -2.27365122e-10, 9.6467911e-11, 2.394038e-12, -6.886027e-12, 8.94487e-13, 3.13092e-13, -1.12708e-13, 3.81e-16, 7.106e-15, -1.523e-15, -9.4e-17, 1.21e-16, -2.8e-17,
  ];
  let d = 0;
  let dd = 0;
  for (let j = cof.length - 1; j > 0; j--) {
    const tmp = d;
    d = ty * d - dd + cof[j]!;
    dd = tmp;
  }
  const r = t * Math.exp(-z * z + 0.5 * (cof[0]! + ty * d) - dd);
  return x >= 0 ? r : 2 - r;
}

/** Two-sided test of the difference of two proportions with the unpooled standard error (Welch's t on 0/1 outcomes, normal approximation). */
export function twoProportions(kA: number, nA: number, kB: number, nB: number, alpha: number) {
  if (!nA || !nB) return { absolute_difference: null, relative_lift: null, ci_low: null, ci_high: null, z: null, p_value: null, significant: false };
  const pA = kA / nA;
  const pB = kB / nB;
  const diff = pB - pA;
  const se = Math.sqrt((pA * (1 - pA)) / nA + (pB * (1 - pB)) / nB);
  const q = -inverseNormal(alpha / 2);
  if (se === 0) return { absolute_difference: diff, relative_lift: pA ? diff / pA : null, ci_low: diff, ci_high: diff, z: null, p_value: diff === 0 ? 1 : null, significant: false };
  const z = diff / se;
  const p = 2 * (1 - normalCdf(Math.abs(z)));
  return { absolute_difference: diff, relative_lift: pA ? diff / pA : null, ci_low: diff - q * se, ci_high: diff + q * se, z, p_value: p, significant: p < alpha };
}

/** Quantile of the standard normal by bisection on the CDF (alpha is a user setting: precision beats speed here). */
function inverseNormal(p: number): number {
  let lo = -40;
  let hi = 40;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

const int = { type: 'integer' };
const num = { type: ['number', 'null'] };
const side = { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' }, enrolled: int, completed: int, conversion_rate: num, median_seconds_to_complete: num } };
const test = { type: 'object', properties: { absolute_difference: num, relative_lift: num, ci_low: num, ci_high: num, z: num, p_value: num, significant: { type: 'boolean' } } };
const stepSide = { type: 'object', properties: { entered: int, completed: int, completion_rate: num } };

export function registerChangeRoute(env: PluginEnv) {
  env.route<{ at: string; days?: number; completion_days?: number; alpha?: number }, { id: string }>({
    method: 'GET',
    path: '/:id/analytics/change',
    prefix: PREFIX,
    permission: READ,
    rateLimit: HEAVY,
    cache: { maxAgeSeconds: 300 },
    summary: 'The effect of a change of the workflow on a date: conversion and step completion before and after, with a significance test',
    description:
      'People are counted once, by their first enrolment in [at − days, at + days): `before` if it is before `at`, `after` otherwise. Each converts when a `goal_reached` ' +
      'follows within `completion_days` of that enrolment, so both sides get the same time; enrolments whose `completion_days` have not all passed yet are left out ' +
      '(the `after` side ends at now − completion_days). `conversion` compares after with before: two-sided test of the difference of proportions with the unpooled standard ' +
      'error (normal approximation), `ci_low`/`ci_high` at 1 − alpha, `relative_lift` a fraction. Per step: of the people who entered it (within their completion window), ' +
      'the share who completed it, with the same test. `step_list` names the steps seen only before or only after (a change of the step list).',
    schema: {
      params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 256, description: '`workflow_id`' } } },
      querystring: {
        type: 'object',
        required: ['at'],
        additionalProperties: false,
        properties: {
          at: { type: 'string', format: 'date-time', description: 'when the workflow changed' },
          days: { type: 'integer', minimum: 1, maximum: 365, default: 28, description: 'length of each side' },
          completion_days: { type: 'integer', minimum: 1, maximum: 90, default: 7, description: 'time each enrolment gets to reach the goal' },
          alpha: { type: 'number', exclusiveMinimum: 0, maximum: 0.5, default: 0.05 },
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            at: { type: 'string' },
            completion_days: int,
            alpha: { type: 'number' },
            before: side,
            after: side,
            conversion: test,
            steps: { type: 'array', items: { type: 'object', properties: { step: { type: 'string' }, step_index: int, before: stepSide, after: stepSide, test } } },
            step_list: { type: 'object', properties: { before: { type: 'array', items: { type: 'string' } }, after: { type: 'array', items: { type: 'string' } }, added: { type: 'array', items: { type: 'string' } }, removed: { type: 'array', items: { type: 'string' } } } },
          },
        },
      },
    },
    async handler(req, ctx) {
      const at = Date.parse(req.query.at);
      const days = req.query.days ?? 28;
      const win = (req.query.completion_days ?? 7) * DAY;
      const alpha = req.query.alpha ?? 0.05;
      const from = at - days * DAY;
      const to = Math.min(at + days * DAY, Date.now() - win);
      if (to <= at) throw badRequest(`at: nobody enrolled after ${req.query.at} has had the ${win / DAY} completion days yet; choose an earlier date or fewer completion_days`, { field: 'at' });
      const scope = await scopeOf(ctx);
      const events = ctx.analytics.table('events');
      const params = { ...workflowParams(parseTimeRange({ from: new Date(from).toISOString(), to: new Date(to).toISOString() }), req.params.id, scope), at_ms: at, win_ms: win };
      const cohort = `SELECT user_id, e, goal, has_goal, e >= {at_ms:Int64} AS after FROM (${cohortSql(events, scope, true)})`;
      const [sides, steps] = await Promise.all([
        ctx.analytics.query<{ after: unknown; enrolled: unknown; completed: unknown; median_ms: unknown }>(
          `SELECT after, count() AS enrolled, countIf(has_goal AND goal - e <= {win_ms:Int64}) AS completed,
                  quantileExactInclusiveIf(0.5)(goal - e, has_goal AND goal - e <= {win_ms:Int64}) AS median_ms
             FROM (${cohort}) GROUP BY after`,
          params,
        ),
        ctx.analytics.query<{ step: string; step_index: unknown; after: unknown; entered: unknown; completed: unknown }>(
          `SELECT step, min(idx) AS step_index, after, countIf(did_enter) AS entered, countIf(did_enter AND did_complete) AS completed
             FROM (
               SELECT ev.workflow_step AS step, ev.user_id AS user_id, c.after AS after, min(ev.step_index) AS idx,
                      countIf(ev.action = 'step_entered') > 0 AS did_enter, countIf(ev.action = 'step_completed') > 0 AS did_complete
                 FROM (SELECT user_id, workflow_step, step_index, action, toUnixTimestamp64Milli(timestamp) AS t FROM ${events}
                        WHERE org_id = {org_id:String} AND event_type = 'workflow_step' AND workflow_id = {workflow_id:String}
                          AND action IN ('step_entered', 'step_completed') AND workflow_step != '' AND user_id != ''
                          AND timestamp >= toDateTime64({from:String}, 3, 'UTC')) AS ev
                INNER JOIN (${cohort}) AS c ON ev.user_id = c.user_id
                WHERE ev.t >= c.e AND ev.t <= c.e + {win_ms:Int64}
                GROUP BY step, user_id, after)
            GROUP BY step, after ORDER BY step_index, step`,
          params,
        ),
      ]);
      const sideOf = (after: boolean, f: number, t: number) => {
        const r = sides.find((x) => Boolean(Number(x.after)) === after);
        const enrolled = Number(r?.enrolled ?? 0);
        const completed = Number(r?.completed ?? 0);
        const med = r?.median_ms;
        return {
          from: new Date(f).toISOString(),
          to: new Date(t).toISOString(),
          enrolled,
          completed,
          conversion_rate: enrolled ? completed / enrolled : null,
          median_seconds_to_complete: completed && med !== null && med !== undefined && !Number.isNaN(Number(med)) ? Number(med) / 1000 : null,
        };
      };
      const before = sideOf(false, from, at);
      const after = sideOf(true, at, to);
      const names = [...new Set(steps.map((s) => s.step))];
      const stepSideOf = (name: string, a: boolean) => {
        const r = steps.find((s) => s.step === name && Boolean(Number(s.after)) === a);
        const entered = Number(r?.entered ?? 0);
        const completed = Number(r?.completed ?? 0);
        return { entered, completed, completion_rate: entered ? completed / entered : null };
      };
      const perStep = names.map((name) => {
        const b = stepSideOf(name, false);
        const a = stepSideOf(name, true);
        return { step: name, step_index: Math.min(...steps.filter((s) => s.step === name).map((s) => Number(s.step_index))), before: b, after: a, test: twoProportions(b.completed, b.entered, a.completed, a.entered, alpha) };
      });
      const seenBefore = perStep.filter((s) => s.before.entered > 0).map((s) => s.step);
      const seenAfter = perStep.filter((s) => s.after.entered > 0).map((s) => s.step);
      return {
        at: new Date(at).toISOString(),
        completion_days: win / DAY,
        alpha,
        before,
        after,
        conversion: twoProportions(before.completed, before.enrolled, after.completed, after.enrolled, alpha),
        steps: perStep,
        step_list: { before: seenBefore, after: seenAfter, added: seenAfter.filter((s) => !seenBefore.includes(s)), removed: seenBefore.filter((s) => !seenAfter.includes(s)) },
      };
    },
  });
}
