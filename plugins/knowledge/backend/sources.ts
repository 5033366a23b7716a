/**
 * What this plugin would offer other plugins (the explorer, alerts, reports) once the
 * SDK carries typed provided contracts: two metric sources. Each is one small function
 * of (analytics, range, department) so that registering it later is one line.
 */
import type { AnalyticsClient, TimeRange } from '@orrery/plugin-sdk';
import { summary } from './queries.ts';

export interface MetricSource {
  id: string;
  title: string;
  unit: 'count' | 'ratio';
  value(a: AnalyticsClient, range: TimeRange, departmentId?: string): Promise<number | null>;
}

export const metricSources: MetricSource[] = [
  {
    id: 'knowledge.reuse_rate',
    title: 'Knowledge reuse rate',
    unit: 'ratio',
    async value(a, range, departmentId) {
      return (await summary(a, range, departmentId)).reuse_rate;
    },
  },
  {
    id: 'knowledge.artifacts_created',
    title: 'Knowledge artifacts created',
    unit: 'count',
    async value(a, range, departmentId) {
      return (await summary(a, range, departmentId)).created;
    },
  },
];
