/**
 * `POST /api/v1/trends/growth` and `/compare`: how a metric moved, in the two ways people ask.
 * Growth: the last day, week and month before `to` against the one before each. Compare: a
 * range against an earlier one (the period just before, the same range a year earlier, or a
 * chosen range), in total and bucket by bucket. Every window's value is the metrics service's
 * own total for that window, so percentiles and averages are never summed from buckets.
 */
import { badRequest, metricsQueryRef, type MetricsQueryDefinition, type MetricsQueryInput, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import { READ } from '../permissions.ts';
import { compareAnswer, compareBody, growthAnswer, growthBody } from '../schemas.ts';

const DAY = 86_400_000;

/** (current − previous) / |previous| in percent; null when there is nothing to compare with. */
export function changePct(current: number | null, previous: number | null): number | null {
  if (current === null || previous === null || previous === 0) return null;
  return ((current - previous) / Math.abs(previous)) * 100;
}

/** The same instant one calendar month (UTC) earlier, clamped to the month's last day (31 March → 28/29 February). */
export function monthEarlier(ms: number, months = 1): number {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() - months;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return Date.UTC(y, m, Math.min(d.getUTCDate(), last), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

export type CompareWith = 'previous_period' | 'previous_year' | { from: string; to: string };

/** The earlier range a range is compared with. */
export function earlierRange(from: number, to: number, compare: CompareWith): { from: number; to: number } {
  if (compare === 'previous_period') return { from: from - (to - from), to: from };
  if (compare === 'previous_year') return { from: monthEarlier(from, 12), to: monthEarlier(to, 12) };
  return { from: Date.parse(compare.from), to: Date.parse(compare.to) };
}

function checkQuery(query: MetricsQueryDefinition) {
  if (query.group_by?.length) throw badRequest('query.group_by: growth and comparisons answer one series; filter with query.where instead', { field: 'query.group_by' });
}

async function totalOf(ctx: TenantContext, query: MetricsQueryDefinition, from: number, to: number): Promise<number | null> {
  const metrics = await ctx.services.get(metricsQueryRef);
  const { granularity: _g, ...rest } = query;
  const a = await metrics.run({ ...rest, from: new Date(from).toISOString(), to: new Date(to).toISOString() } as MetricsQueryInput);
  return a.series[0]?.total ?? (query.measure === 'count' || query.measure === 'users' || query.measure === 'sum' ? 0 : null);
}

export function registerGrowthRoutes(env: PluginEnv) {
  env.route<unknown, unknown, { query: MetricsQueryDefinition & { to?: string } }>({
    method: 'POST',
    path: '/growth',
    permission: READ,
    summary: 'Day over day, week over week and month over month: the last of each before `to` against the one before it',
    description:
      'Windows end at `query.to` (default now): day = [to − 1 d, to) vs [to − 2 d, to − 1 d); week the same with 7 days; month = [to − 1 calendar month, to) vs the month before ' +
      '(UTC calendar, clamped to month ends). Each value is the metric over its window as `POST /metrics/query` answers it without granularity; ' +
      '`change_pct` = (current − previous) / |previous| × 100, null when previous is 0 or has no value.',
    schema: { body: growthBody, response: { 200: growthAnswer } },
    async handler(req, ctx) {
      const { to: toIso, ...query } = req.body.query;
      checkQuery(query);
      const to = toIso ? Date.parse(toIso) : Date.now();
      const metrics = await ctx.services.get(metricsQueryRef);
      metrics.validate(query, 'query.');
      const windows = [
        { period: 'day' as const, mid: to - DAY, start: to - 2 * DAY },
        { period: 'week' as const, mid: to - 7 * DAY, start: to - 14 * DAY },
        { period: 'month' as const, mid: monthEarlier(to), start: monthEarlier(to, 2) },
      ];
      const rates = await Promise.all(
        windows.map(async (w) => {
          const [current, previous] = await Promise.all([totalOf(ctx, query, w.mid, to), totalOf(ctx, query, w.start, w.mid)]);
          const iso = (ms: number) => new Date(ms).toISOString();
          return { period: w.period, current: { from: iso(w.mid), to: iso(to), value: current }, previous: { from: iso(w.start), to: iso(w.mid), value: previous }, change_pct: changePct(current, previous) };
        }),
      );
      return { at: new Date(to).toISOString(), rates };
    },
  });

  env.route<unknown, unknown, { query: MetricsQueryInput; compare?: CompareWith }>({
    method: 'POST',
    path: '/compare',
    permission: READ,
    summary: 'A range against an earlier one: the period just before, the same range a year earlier, or a chosen range',
    description:
      '`compare`: `previous_period` (default: the range of the same length just before), `previous_year` (both ends 12 calendar months earlier) or `{from, to}`. ' +
      'Totals are the metric over each whole range; with `query.granularity`, `points` pairs the n-th bucket of the range with the n-th bucket of the earlier range ' +
      '(`previous_value` null where the earlier range has fewer buckets).',
    schema: { body: compareBody, response: { 200: compareAnswer } },
    async handler(req, ctx) {
      const { query, compare = 'previous_period' } = req.body;
      checkQuery(query);
      const from = Date.parse(query.from);
      const to = Date.parse(query.to);
      if (!(from < to)) throw badRequest('query.from must be before query.to', { field: 'query.from' });
      const earlier = earlierRange(from, to, compare);
      if (typeof compare === 'object' && !(earlier.from < earlier.to)) throw badRequest('compare.from must be before compare.to', { field: 'compare.from' });
      const metrics = await ctx.services.get(metricsQueryRef);
      metrics.validate(query, 'query.');
      const iso = (ms: number) => new Date(ms).toISOString();
      const [current, previous] = await Promise.all([totalOf(ctx, query, from, to), totalOf(ctx, query, earlier.from, earlier.to)]);
      let points: Array<{ bucket: string; value: number | null; previous_bucket: string | null; previous_value: number | null; change_pct: number | null }> = [];
      if (query.granularity) {
        const [now, before] = await Promise.all([
          metrics.run({ ...query, from: iso(from), to: iso(to) }),
          metrics.run({ ...query, from: iso(earlier.from), to: iso(earlier.to) }),
        ]);
        const a = now.series[0]?.points ?? [];
        const b = before.series[0]?.points ?? [];
        points = a.map((p, i) => ({ bucket: p.bucket, value: p.value, previous_bucket: b[i]?.bucket ?? null, previous_value: b[i]?.value ?? null, change_pct: changePct(p.value, b[i]?.value ?? null) }));
      }
      return {
        current: { from: iso(from), to: iso(to), value: current },
        previous: { from: iso(earlier.from), to: iso(earlier.to), value: previous },
        change: current !== null && previous !== null ? current - previous : null,
        change_pct: changePct(current, previous),
        points,
      };
    },
  });
}
