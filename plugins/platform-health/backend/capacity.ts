/**
 * Capacity: events per day and storage for the next days against the ingestion
 * capacity. The forecast comes from the trends plugin's service when it is on for
 * the org, otherwise from a least-squares line; the answer names the model used.
 */
import { trendsRef, type TenantContext, type TrendPoint } from '@orrery/plugin-sdk';

export interface Projection {
  model: string;
  points: Array<{ bucket: string; value: number }>;
}

/** Least-squares line through the points (x = index), extended `horizon` steps; never below 0. */
export function linearProjection(history: TrendPoint[], horizon: number, stepMs: number): Projection {
  const pts = history.map((p, i) => ({ x: i, y: p.value })).filter((p): p is { x: number; y: number } => p.y !== null && Number.isFinite(p.y));
  const n = pts.length;
  let slope = 0;
  let intercept = n ? pts.reduce((a, p) => a + p.y, 0) / n : 0;
  if (n >= 2) {
    const mx = pts.reduce((a, p) => a + p.x, 0) / n;
    const my = intercept;
    const sxx = pts.reduce((a, p) => a + (p.x - mx) ** 2, 0);
    slope = sxx ? pts.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0) / sxx : 0;
    intercept = my - slope * mx;
  }
  const last = history.length ? Date.parse(history[history.length - 1]!.bucket) : Date.now();
  const points = Array.from({ length: horizon }, (_, i) => ({
    bucket: new Date(last + (i + 1) * stepMs).toISOString(),
    value: Math.max(0, intercept + slope * (history.length + i)),
  }));
  return { model: 'linear', points };
}

export async function project(ctx: TenantContext, history: TrendPoint[], horizon: number, stepMs: number): Promise<Projection> {
  try {
    const trends = await ctx.services.get(trendsRef);
    const f = trends.forecast(history, { horizon, stepMs });
    return { model: `trends:${f.model}`, points: f.forecast.map((p) => ({ bucket: p.bucket, value: Math.max(0, p.value) })) };
  } catch {
    // the trends plugin is not installed or not on for this org: a straight line says as much as the data allows
    return linearProjection(history, horizon, stepMs);
  }
}
