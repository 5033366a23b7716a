/**
 * `POST /api/v1/trends/smooth`, `/forecast`, `/anomalies` (API.md → "Trends"): a metrics
 * query's series, read through the metrics plugin's service, through the models.
 */
import {
  HttpError, badRequest, metricsQueryRef,
  type MetricsGranularity, type MetricsQueryInput, type MetricsSeries, type PluginEnv, type SmoothingMethod, type TenantContext,
} from '@orrery/plugin-sdk';
import { READ } from '../permissions.ts';
import { anomaliesAnswer, anomaliesBody, forecastAnswer, forecastBody, smoothAnswer, smoothBody } from '../schemas.ts';
import { anomalies, forecast, smooth } from '../service.ts';
import { nextBuckets } from '../buckets.ts';

export const MAX_GROUPS = 20;

/** A 400 from the metrics service names the field inside the query: `query.<field>`. */
function underQuery(e: unknown): unknown {
  if (!(e instanceof HttpError) || e.statusCode !== 400) return e;
  const d = (e.details ?? {}) as Record<string, unknown>;
  const field = typeof d.field === 'string' ? (d.field.startsWith('query.') ? d.field : `query.${d.field}`) : 'query';
  const message = e.message.startsWith('query.') ? e.message : `query.${e.message}`;
  return new HttpError(400, e.code, message, { ...d, field });
}

/** Checks the query (granularity, at most one group, range) and reads its series. */
export async function readSeries(ctx: TenantContext, query: MetricsQueryInput): Promise<MetricsSeries[]> {
  if (!query.granularity) throw badRequest('query.granularity is required: a trend needs buckets (minute, hour, day, week or month)', { field: 'query.granularity' });
  if ((query.group_by?.length ?? 0) > 1) {
    throw badRequest(`query.group_by: at most one field, got ${query.group_by!.length}`, { field: 'query.group_by' });
  }
  if (!query.from) throw badRequest('query.from is required (ISO instant)', { field: 'query.from' });
  if (!query.to) throw badRequest('query.to is required (ISO instant)', { field: 'query.to' });
  if (Date.parse(query.from) >= Date.parse(query.to)) throw badRequest('query.from must be before query.to', { field: 'query.from' });
  const metrics = await ctx.services.get(metricsQueryRef);
  try {
    metrics.validate(query, 'query.');
    const answer = await metrics.run(query);
    return answer.series.slice(0, MAX_GROUPS);
  } catch (e) {
    throw underQuery(e);
  }
}

/** The top-level answer is the first group's; with `group_by` every group is listed too. */
function shape<T extends object>(query: MetricsQueryInput, series: MetricsSeries[], one: (s: MetricsSeries) => T, empty: T) {
  const all = series.map((s) => ({ group: s.group, ...one(s) }));
  const top = all[0] ?? { group: {}, ...empty };
  return query.group_by?.length ? { ...top, groups: all } : (({ group: _g, ...rest }) => rest)(top);
}

export function registerSeriesRoutes(env: PluginEnv) {
  env.route<unknown, unknown, { query: MetricsQueryInput; method: SmoothingMethod; window: number }>({
    method: 'POST',
    path: '/smooth',
    permission: READ,
    summary: 'A metrics series with its moving average (SMA, EMA or WMA)',
    description:
      'SMA: the mean of the last `window` values; EMA: α = 2/(window+1), seeded with the first value; WMA: weights 1…window, newest heaviest. ' +
      '`smoothed` is null until `window` values exist (EMA: from the first). A bucket without a value (null: avg, pXX or rate over no events) ' +
      'is skipped: its `smoothed` is null and the window holds the last values that exist.',
    schema: { body: smoothBody, response: { 200: smoothAnswer } },
    async handler(req, ctx) {
      const { query, method, window } = req.body;
      const series = await readSeries(ctx, query);
      return shape(query, series, (s) => ({ points: smooth(s.points, method, window) }), { points: [] });
    },
  });

  env.route<unknown, unknown, { query: MetricsQueryInput; horizon: number; interval?: number }>({
    method: 'POST',
    path: '/forecast',
    permission: READ,
    summary: 'A metrics series forecast `horizon` buckets ahead, with prediction intervals and a backtest against seasonal naive',
    description:
      'Season length from the autocorrelation of the detrended series (strength = 1 − Var(remainder)/Var(season + remainder)). ' +
      'Model: Holt-Winters additive, Holt linear, seasonal naive or the mean, whichever forecast a held-out tail best (parameters chosen on that holdout), ' +
      'refitted on the whole range. Intervals from the one-step residuals, widened per step ahead (ETS variance formulas), normal quantiles of `interval`. ' +
      'Forecasts and bounds are clipped at 0 when the history has no negative value. ' +
      '`backtest`: MAPE in percent (12.5 = 12.5 %) of the same procedure run without the last max(horizon, season) buckets (at most a quarter), ' +
      'next to the seasonal-naive forecast from the same cut; null with fewer than 8 values or only zeros held out. ' +
      'Forecast buckets follow the query granularity in its `tz` (days, weeks and months on the local calendar).',
    schema: { body: forecastBody, response: { 200: forecastAnswer } },
    async handler(req, ctx) {
      const { query, horizon, interval } = req.body;
      const series = await readSeries(ctx, query);
      const granularity = query.granularity as MetricsGranularity;
      return shape(query, series, (s) => {
        const f = forecast(s.points, { horizon, interval: interval ?? 0.95 });
        // the buckets of the query's calendar, not fixed lengths
        const last = s.points[s.points.length - 1]?.bucket;
        if (last && f.forecast.length) {
          const buckets = nextBuckets(last, granularity, f.forecast.length, query.tz ?? 'UTC');
          f.forecast.forEach((p, i) => (p.bucket = buckets[i]!));
        }
        return f;
      }, {
        history: [], forecast: [], model: 'none', seasonality: { period: null, strength: 0 },
        backtest: { mape: null, baseline: 'seasonal_naive' as const, baseline_mape: null },
      });
    },
  });

  env.route<unknown, unknown, { query: MetricsQueryInput; sensitivity?: number }>({
    method: 'POST',
    path: '/anomalies',
    permission: READ,
    summary: 'Buckets of a metrics series that stand out from its trend and season',
    description:
      'Robust decomposition: trend = running median over one season (7 buckets without one), season = per-phase median of the detrended values, ' +
      'residual z-score = (r − median r) / (1.4826·MAD r). `anomaly` when |z| > `sensitivity` (default 3); `score` = |z|; ' +
      '`expected` = trend + season, `lower`/`upper` = expected ∓ sensitivity·σ̂. Fewer than 4 values: `expected` is their median, no band, no anomalies.',
    schema: { body: anomaliesBody, response: { 200: anomaliesAnswer } },
    async handler(req, ctx) {
      const { query, sensitivity } = req.body;
      const series = await readSeries(ctx, query);
      return shape(query, series, (s) => ({ points: anomalies(s.points, { sensitivity: sensitivity ?? 3 }) }), { points: [] });
    },
  });
}
