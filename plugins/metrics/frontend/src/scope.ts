/**
 * A metrics query as a dashboard asks it: the dashboard's range, zone and department, and its
 * agent filter where the event type has an `agent_name`. A department or agent the query
 * names itself is kept as a condition: the dashboard narrows a widget, never widens it.
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
  if (s.department) {
    body.department_id = s.department.id;
    // a department the query names itself stays a condition: the two together narrow, never widen
    const own = (q as { department_id?: string }).department_id;
    if (own && own !== s.department.id) body.where = { ...(q.where ?? {}), department_id: [own] };
  }
  const agent = s.filters?.agent_name;
  const spec = EVENT_TYPE_BY_NAME.get(q.event_type);
  if (agent && spec && fieldsOf(spec).agent_name) {
    const had = q.where?.agent_name;
    const allowed = had === undefined ? [agent] : (Array.isArray(had) ? had : [had]).map(String).filter((a) => a === agent);
    // an agent the query excludes: match nothing rather than drop the dashboard's filter
    body.where = { ...((body.where as Record<string, unknown>) ?? q.where ?? {}), agent_name: allowed.length ? allowed : ['\u0000none'] };
  }
  return body;
}
