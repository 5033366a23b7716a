/**
 * A metrics query as a dashboard asks it: the dashboard's range, zone and department, and its
 * agent filter where the event type has an `agent_name` (a filter the query already sets on
 * `agent_name` is narrowed to the dashboard's agent, never widened).
 */
import { EVENT_TYPE_BY_NAME, fieldsOf } from '@orrery/plugin-sdk/events';

export interface MetricsQueryOptions {
  event_type: string;
  measure: string;
  field?: string;
  where?: Record<string, unknown>;
  rate_where?: Record<string, unknown>;
  group_by?: string[];
  granularity?: 'minute' | 'hour' | 'day' | 'week' | 'month';
}

export interface Scope {
  from: string;
  to: string;
  tz: string;
  department?: { id: string } | null;
  filters?: { agent_name?: string };
}

export function scopedQuery(q: MetricsQueryOptions, s: Scope): Record<string, unknown> {
  const body: Record<string, unknown> = { ...q, from: s.from, to: s.to, tz: s.tz };
  if (s.department) body.department_id = s.department.id;
  const agent = s.filters?.agent_name;
  const spec = EVENT_TYPE_BY_NAME.get(q.event_type);
  if (agent && spec && fieldsOf(spec).agent_name) {
    const had = q.where?.agent_name;
    const allowed = had === undefined ? [agent] : (Array.isArray(had) ? had : [had]).map(String).filter((a) => a === agent);
    // an agent the query excludes: match nothing rather than drop the dashboard's filter
    body.where = { ...(q.where ?? {}), agent_name: allowed.length ? allowed : ['\u0000none'] };
  }
  return body;
}
