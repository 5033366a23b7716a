/**
 * Metric sources: named, typed numbers a plugin offers over a time range (and
 * optionally one department), computed by the plugin's own code. Alerts, the
 * metric explorer, trends and reports read them without knowing the plugin.
 */
import { badRequest } from '../types.ts';
import { createServiceRef } from '../services.ts';
import type { TimeRange } from '../timeRange.ts';

export type MetricUnit = 'ratio' | 'ms' | 'usd' | 'count' | 'users' | 'score';

export interface MetricDefinition {
  /** unique within the source, e.g. `success_rate` */
  name: string;
  title: string;
  description: string;
  unit: MetricUnit;
  /** which way is good news (alerts and trends colour by it) */
  better: 'higher' | 'lower' | 'neither';
}

export interface MetricQuery {
  range: TimeRange;
  /** only what happened in this department */
  departmentId?: string;
}

export interface MetricSource {
  readonly metrics: readonly MetricDefinition[];
  /** the metric's value over the range; `null` when there is nothing to measure (no invocations…) */
  read(name: string, q: MetricQuery): Promise<number | null>;
}

export const metricSourceRef = createServiceRef<MetricSource>({
  id: 'metric-source',
  version: '1.0.0',
  multiple: true,
  description: 'named, typed metrics over a time range',
});

/**
 * Builds a source from its metrics: each definition with the function that reads it.
 * An unknown name is a 400 naming the `metric` field.
 */
export function defineMetricSource(metrics: Array<MetricDefinition & { read(q: MetricQuery): Promise<number | null> }>): MetricSource {
  const byName = new Map(metrics.map((m) => [m.name, m]));
  return {
    metrics: metrics.map(({ read: _read, ...def }) => def),
    async read(name, q) {
      const m = byName.get(name);
      if (!m) throw badRequest(`unknown metric "${name}"; this source offers ${[...byName.keys()].join(', ')}`, { field: 'metric', value: name });
      return m.read(q);
    },
  };
}
