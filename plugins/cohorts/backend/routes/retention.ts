/**
 * Retention routes: the API.md contract (`GET /cohorts/retention`), the period-N
 * trend of successive cohorts, and retention curves of several saved cohorts.
 */
import { badRequest, type PluginEnv } from '@orrery/plugin-sdk';
import { parseRetention, retention, retentionQueryProperties, trendOf, type RetentionQuery } from '../retention.ts';
import { membersOf } from '../cohorts.ts';
import { READ } from '../permissions.ts';

const cohortRow = {
  type: 'object',
  properties: {
    cohort: { type: 'string', description: 'ISO instant the cohort period starts' },
    size: { type: 'integer' },
    retained: { type: 'array', items: { type: 'integer' } },
    rates: { type: 'array', items: { type: 'number' } },
    cost_usd: { type: 'array', items: { type: 'number' } },
    input_tokens: { type: 'array', items: { type: 'integer' } },
    output_tokens: { type: 'array', items: { type: 'integer' } },
  },
};

export const retentionResponse = {
  type: 'object',
  properties: {
    period: { type: 'string' },
    mode: { type: 'string' },
    counting: { type: 'string' },
    windows: { type: 'string', enum: ['calendar', 'rolling'] },
    from: { type: 'string' },
    to: { type: 'string' },
    tz: { type: 'string' },
    source: { type: 'string', enum: ['rollup', 'raw'] },
    rollup_path: { type: 'string', enum: ['masks', 'sets'], description: 'with the rollup: one bit-mask per user (the fast path) or quarter-hour sets merged per user' },
    cohorts: { type: 'array', items: cohortRow },
    breakdown: { type: 'array', items: { type: 'object', properties: { department_id: { type: 'string' }, cohorts: { type: 'array', items: cohortRow } } } },
  },
};

const DESCRIPTION =
  'A cohort is a period (in `tz`; weeks start on Monday) whose start is in [from, to). `first_time`: a user belongs to the cohort of the ' +
  'period holding their first `start_event` ever (all stored data, not only the range); `recurring`: to every period in which they did ' +
  '`start_event`. `retained[0]` = `size`; `retained[k]` = members with at least one `return_event` in the k-th period after the ' +
  "cohort's (`counting=on_or_after`: in that period or any later one). Periods that have not started yet are left out, so recent cohorts " +
  'have shorter arrays; a period with no members answers size 0 and rates 0. `hour` periods follow the zone\'s clock (a repeated ' +
  'hour at a DST change is two periods). With `breakdown=department`, `breakdown` repeats the table per department of the start event ' +
  '(a user who started in two departments counts in both; `cohorts` counts them once).';

export function registerRetentionRoutes(env: PluginEnv) {
  env.route<RetentionQuery>({
    method: 'GET',
    path: '/retention',
    permission: READ,
    summary: 'Retention table: cohorts by period and the share of each that came back in each later period',
    description: DESCRIPTION,
    schema: {
      querystring: { type: 'object', additionalProperties: false, properties: { ...retentionQueryProperties, cohort_id: { type: 'string', format: 'uuid', description: 'only members of this saved cohort' } } },
      response: { 200: retentionResponse },
    },
    async handler(req, ctx) {
      const spec = parseRetention(req.query);
      if (req.query.cohort_id) spec.users = await membersOf(ctx, req.query.cohort_id, 'cohort_id');
      return retention(ctx, spec);
    },
  });

  env.route<RetentionQuery & { n?: number }>({
    method: 'GET',
    path: '/retention/trend',
    permission: READ,
    summary: 'Period-N retention of successive cohorts as a trend line (e.g. the day-7 retention of each daily cohort)',
    description: `${DESCRIPTION}\n\nOne point per cohort whose period \`n\` has started.`,
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          ...retentionQueryProperties,
          cohort_id: { type: 'string', format: 'uuid' },
          n: { type: 'integer', minimum: 0, maximum: 399, default: 1, description: 'which period after the cohort (1 = the next)' },
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            period: { type: 'string' },
            n: { type: 'integer' },
            points: { type: 'array', items: { type: 'object', properties: { cohort: { type: 'string' }, size: { type: 'integer' }, retained: { type: 'integer' }, rate: { type: 'number' } } } },
          },
        },
      },
    },
    async handler(req, ctx) {
      const n = req.query.n ?? 1;
      const spec = parseRetention({ ...req.query, periods: Math.max(req.query.periods ?? 0, n + 1) });
      if (n >= spec.periods) throw badRequest('n must be below periods', { field: 'n' });
      if (req.query.cohort_id) spec.users = await membersOf(ctx, req.query.cohort_id, 'cohort_id');
      return { period: spec.period, n, points: trendOf(await retention(ctx, spec), n) };
    },
  });

  env.route<RetentionQuery & { cohort_ids: string }>({
    method: 'GET',
    path: '/retention/curves',
    permission: READ,
    summary: 'Retention curves of several saved cohorts side by side: per cohort, the size-weighted retention after k periods',
    description:
      'For each saved cohort in `cohort_ids` (comma separated, at most 10) the retention table over its members is averaged into one ' +
      'curve: `rates[k]` = Σ retained[k] / Σ size over the period cohorts whose period k has started.',
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        required: ['cohort_ids'],
        properties: { ...retentionQueryProperties, cohort_ids: { type: 'string', minLength: 1, maxLength: 400 } },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            period: { type: 'string' },
            curves: {
              type: 'array',
              items: { type: 'object', properties: { cohort_id: { type: 'string' }, size: { type: 'integer' }, retained: { type: 'array', items: { type: 'integer' } }, base: { type: 'array', items: { type: 'integer' } }, rates: { type: 'array', items: { type: 'number' } } } },
            },
          },
        },
      },
    },
    async handler(req, ctx) {
      const ids = req.query.cohort_ids.split(',').map((s) => s.trim()).filter(Boolean);
      if (!ids.length || ids.length > 10) throw badRequest('cohort_ids must name 1 to 10 saved cohorts', { field: 'cohort_ids' });
      const base = parseRetention(req.query);
      const curves = [];
      for (const id of ids) {
        const users = await membersOf(ctx, id, 'cohort_ids');
        const table = await retention(ctx, { ...base, users });
        curves.push({ cohort_id: id, ...curveOf(table.cohorts, base.periods) });
      }
      return { period: base.period, curves };
    },
  });
}

/** Size-weighted average of a retention table: one curve. */
export function curveOf(rows: Array<{ size: number; retained: number[] }>, periods: number) {
  const retained = new Array<number>(periods).fill(0);
  const base = new Array<number>(periods).fill(0);
  for (const r of rows)
    for (let k = 0; k < r.retained.length; k++) {
      retained[k]! += r.retained[k]!;
      base[k]! += r.size;
    }
  const size = rows.reduce((a, r) => a + r.size, 0);
  const last = base.findLastIndex((b) => b > 0);
  return {
    size,
    retained: retained.slice(0, last + 1),
    base: base.slice(0, last + 1),
    rates: retained.slice(0, last + 1).map((n, k) => (base[k] ? n / base[k]! : 0)),
  };
}
