/**
 * The widgets' charts, built from what the service answers for a generated series: the band
 * is plotly's fill between the lower and upper bounds at the user's wall-clock times, the
 * forecast joins the history, the anomalies are marked where the service flagged them, and
 * the data table (CSV export and screen readers) carries the bounds. Also the declarations.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { toZonedWallTime } from '@orrery/plugin-sdk/frontend';
import { anomalies, forecast } from '../backend/service.ts';
import { anomalySpec, anomalySummary, forecastSpec, forecastSummary } from '../frontend/src/specs.ts';
import { widgets } from '../widgets.ts';
import { synthetic } from './synthetic.ts';

const DAY = 86_400_000;
const start = Date.parse('2026-09-01T22:00:00Z');
const env = { locale: 'en-US', tz: 'Europe/Berlin' };
const s = synthetic({ n: 70, level: 100, slope: 0.5, period: 7, amplitude: 30, noise: 4, seed: 9 });
const values = s.values.map((v, i) => (i === 50 ? v + 80 : v));
const points = values.map((value, i) => ({ bucket: new Date(start + i * DAY).toISOString(), value }));

describe('forecast chart', () => {
  const a = forecast(points, { horizon: 10, interval: 0.9 });
  const spec = forecastSpec(a, env, 0.9);

  it('fills the band between lower and upper at the wall-clock times of the user zone', () => {
    const [lower, upper] = spec.data as Array<Record<string, any>>;
    expect(lower!.y).toEqual(a.forecast.map((p) => p.lower));
    expect(upper!.y).toEqual(a.forecast.map((p) => p.upper));
    expect(upper!.fill).toBe('tonexty');
    expect(lower!.fill).toBeUndefined();
    expect(lower!.showlegend).toBe(false);
    expect(upper!.name).toBe('90% prediction interval');
    expect(lower!.x).toEqual(a.forecast.map((p) => toZonedWallTime(p.bucket, env.tz)));
    expect(upper!.x).toEqual(lower!.x);
    expect(spec.drill).toHaveLength(spec.data.length);
  });

  it('draws the forecast dashed from the last actual value, and puts the bounds in the table', () => {
    const line = spec.data[3] as Record<string, any>;
    expect(line.name).toBe('Forecast');
    expect(line.line.dash).toBe('dash');
    expect(line.y).toEqual([values[values.length - 1], ...a.forecast.map((p) => p.value)]);
    expect(spec.table.columns).toEqual(['time', 'Actual', 'Forecast', 'lower (90%)', 'upper (90%)']);
    expect(spec.table.rows).toHaveLength(points.length + a.forecast.length);
    const tail = spec.table.rows.slice(-a.forecast.length);
    expect(tail.map((r) => r[3])).toEqual(a.forecast.map((p) => p.lower));
    expect(spec.table.rows.slice(0, points.length - 1).every((r) => r[3] === null && r[4] === null)).toBe(true);
    expect(forecastSummary(a, env)).toContain('season of 7 buckets');
  });
});

describe('anomaly chart', () => {
  const pts = anomalies(points);
  const spec = anomalySpec(pts, env);

  it('marks exactly the flagged buckets over the expected band', () => {
    const [lower, upper, actual, marks] = spec.data as Array<Record<string, any>>;
    expect(upper!.fill).toBe('tonexty');
    expect(lower!.y).toEqual(pts.map((p) => p.lower));
    expect(actual!.name).toBe('Actual');
    const flagged = pts.filter((p) => p.anomaly);
    expect(flagged.map((p) => p.bucket)).toContain(points[50]!.bucket);
    expect(marks!.x).toEqual(flagged.map((p) => toZonedWallTime(p.bucket, env.tz)));
    expect(marks!.y).toEqual(flagged.map((p) => p.value));
    expect(spec.table.rows.filter((r) => r[5] === 'yes')).toHaveLength(flagged.length);
    expect(anomalySummary(pts)).toBe(`${flagged.length} of ${pts.length} buckets stand out from the trend and season.`);
    expect(spec.drill).toHaveLength(spec.data.length);
  });

  it('says so when nothing stands out, and has nothing to draw without values', () => {
    const flat = points.map((p) => ({ ...p, value: 5 }));
    expect(anomalySummary(anomalies(flat))).toMatch(/^No bucket stands out/);
    expect(anomalySpec(anomalies(points.map((p) => ({ ...p, value: null }))), env).empty).toBe(true);
  });
});

describe('declarations', () => {
  it('each widget has its module, a granularity in its query and defaults for every option', () => {
    expect(widgets.map((w) => w.id)).toEqual(['forecast', 'anomalies']);
    for (const w of widgets) {
      expect(existsSync(join(import.meta.dirname, '..', 'frontend', w.module!))).toBe(true);
      const props = (w.optionsSchema as any).properties;
      expect(props.query.required).toContain('granularity');
      expect(props.query.default.granularity).toBeDefined();
      expect(props.query.properties.group_by).toBeUndefined();
    }
  });
});
