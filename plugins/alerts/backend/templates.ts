/**
 * Built-in rule templates for the PRD's alert conditions: over metrics queries, over
 * the change against the previous window, over the trends plugin's band, and over
 * the signals other parts publish (ingestion's four data-quality conditions, users
 * newly needing support). Budgets and per-row SLA comparisons are listed in README.md
 * as not yet offered.
 */
import type { RuleBody } from './routes/rules.ts';

export interface RuleTemplate {
  key: string;
  title: string;
  description: string;
  /** parameters with defaults the caller may override */
  params: Record<string, { description: string; default: number }>;
  build(p: Record<string, number>): Omit<RuleBody, 'name'>;
}

/** A template's rule, with the parameters given and the defaults for the rest. */
export function buildTemplate(t: RuleTemplate, params: Record<string, number> = {}): Omit<RuleBody, 'name'> {
  return t.build(Object.fromEntries(Object.entries(t.params).map(([k, v]) => [k, params[k] ?? v.default])));
}

const base = { for_seconds: 0, keep_firing_for_seconds: 0, no_data: 'ok', on_error: 'error' };

export const TEMPLATES: RuleTemplate[] = [
  {
    key: 'agent-error-rate',
    title: 'Agent error rate over 10% for 1 minute',
    description: 'Per agent: the share of failed invocations over the last minute stays above the threshold for a minute (PRD 9.4.2).',
    params: { threshold: { description: 'share of failures (0.1 = 10%)', default: 0.1 } },
    build: (p) => ({
      ...base,
      query: { event_type: 'agent_invocation', measure: 'rate', rate_where: { status: 'failure' }, group_by: ['agent_name'] },
      window_seconds: 60,
      condition: { op: 'gt', threshold: p.threshold!, recovery_threshold: p.threshold! * 0.8 },
      interval_seconds: 20,
      for_seconds: 60,
      labels: { severity: 'critical' },
      annotations: { summary: '{{ $labels.agent_name }}: {{ $value }} of invocations failed in the last minute' },
    }),
  },
  {
    key: 'cpu-over-60',
    title: 'CPU over 60% for 2 minutes',
    description: 'The average of the `cpu_percent` system metric over the last minute stays above the threshold for two minutes (PRD 9.4.2).',
    params: { threshold: { description: 'percent', default: 60 } },
    build: (p) => ({
      ...base,
      query: { event_type: 'system_metric', measure: 'avg', field: 'metric_value', where: { metric_name: 'cpu_percent' } },
      window_seconds: 60,
      condition: { op: 'gt', threshold: p.threshold!, recovery_threshold: p.threshold! - 5 },
      interval_seconds: 30,
      for_seconds: 120,
      no_data: 'nodata',
      labels: { severity: 'warning' },
      annotations: { summary: 'CPU at {{ $value }}%' },
    }),
  },
  {
    key: 'dashboard-slow',
    title: 'Dashboard slower than 2× its SLA',
    description: 'The p95 of the `dashboard_load_ms` system metric over 5 minutes is above twice the SLA (PRD 9.4.2).',
    params: { sla_ms: { description: 'the dashboard SLA in milliseconds', default: 2000 } },
    build: (p) => ({
      ...base,
      query: { event_type: 'system_metric', measure: 'p95', field: 'metric_value', where: { metric_name: 'dashboard_load_ms' } },
      window_seconds: 300,
      condition: { op: 'gt', threshold: 2 * p.sla_ms! },
      interval_seconds: 60,
      labels: { severity: 'warning' },
      annotations: { summary: 'dashboard p95 load time {{ $value }} ms' },
    }),
  },
  {
    key: 'agent-latency-p95',
    title: 'Agent p95 latency over a limit',
    description: 'Per agent: the p95 of `execution_time_ms` over 5 minutes is above the limit.',
    params: { limit_ms: { description: 'milliseconds', default: 10_000 } },
    build: (p) => ({
      ...base,
      query: { event_type: 'agent_invocation', measure: 'p95', field: 'execution_time_ms', group_by: ['agent_name'] },
      window_seconds: 300,
      condition: { op: 'gt', threshold: p.limit_ms! },
      interval_seconds: 60,
      labels: { severity: 'warning' },
      annotations: { summary: '{{ $labels.agent_name }} p95 latency {{ $value }} ms' },
    }),
  },
  {
    key: 'no-agent-events',
    title: 'No agent invocations for an hour',
    description: 'A data-quality guard: no agent invocation arrived in the last hour (a hook or collector stopped sending).',
    params: { minutes: { description: 'silence that counts as an outage', default: 60 } },
    build: (p) => ({
      ...base,
      query: { event_type: 'agent_invocation', measure: 'count' },
      window_seconds: p.minutes! * 60,
      condition: { op: 'lt', threshold: 1 },
      interval_seconds: 300,
      labels: { severity: 'warning', category: 'data_quality' },
      annotations: { summary: 'no agent invocations in the last ' + String(p.minutes) + ' minutes' },
    }),
  },
  {
    key: 'data-quality-validation-failures',
    title: 'Data quality: Events failing validation over 10% in 5 minutes',
    description: 'Ingestion reports that more than 10% of the events received in 5 minutes failed validation and were quarantined (PRD 10.1.1). Routed through the policy tree like any rule.',
    params: {},
    build: () => ({
      ...base,
      source: { kind: 'data_quality', condition: 'validation_failures' },
      window_seconds: 60,
      condition: { op: 'gte', threshold: 1 },
      interval_seconds: 60,
      labels: { severity: 'warning', category: 'data_quality' },
      annotations: { summary: 'data quality: events failing validation over 10% in 5 minutes' },
    }),
  },
  {
    key: 'data-quality-silence',
    title: 'Data quality: No event for 12 hours',
    description: 'Ingestion reports that no event was accepted for 12 hours: a hook or collector stopped sending (PRD 10.1.1). Routed through the policy tree like any rule.',
    params: {},
    build: () => ({
      ...base,
      source: { kind: 'data_quality', condition: 'silence' },
      window_seconds: 60,
      condition: { op: 'gte', threshold: 1 },
      interval_seconds: 60,
      labels: { severity: 'warning', category: 'data_quality' },
      annotations: { summary: 'data quality: no event for 12 hours' },
    }),
  },
  {
    key: 'data-quality-duplicates',
    title: 'Data quality: Duplicates over 5% in an hour',
    description: 'Ingestion reports that more than 5% of the events received in an hour were duplicates (PRD 10.1.1). Routed through the policy tree like any rule.',
    params: {},
    build: () => ({
      ...base,
      source: { kind: 'data_quality', condition: 'duplicates' },
      window_seconds: 60,
      condition: { op: 'gte', threshold: 1 },
      interval_seconds: 60,
      labels: { severity: 'warning', category: 'data_quality' },
      annotations: { summary: 'data quality: duplicates over 5% in an hour' },
    }),
  },
  {
    key: 'data-quality-latency',
    title: 'Data quality: Processing latency over 10 s for 10 minutes',
    description: 'Ingestion reports that ingestion took more than 10 s per event on average in each of the last 10 minutes (PRD 10.1.1). Routed through the policy tree like any rule.',
    params: {},
    build: () => ({
      ...base,
      source: { kind: 'data_quality', condition: 'latency' },
      window_seconds: 60,
      condition: { op: 'gte', threshold: 1 },
      interval_seconds: 60,
      labels: { severity: 'warning', category: 'data_quality' },
      annotations: { summary: 'data quality: processing latency over 10 s for 10 minutes' },
    }),
  },
  {
    key: 'users-need-support',
    title: 'Users newly needing support',
    description: 'Adoption flagged users as needing support within the window (its daily run); one notification per batch of newly flagged users.',
    params: { hours: { description: 'window in hours', default: 24 }, min_users: { description: 'fire when at least this many users were newly flagged', default: 1 } },
    build: (p) => ({
      ...base,
      source: { kind: 'support_flags' },
      window_seconds: p.hours! * 3600,
      condition: { op: 'gte', threshold: p.min_users! },
      interval_seconds: 300,
      labels: { severity: 'info', category: 'adoption' },
      annotations: { summary: '{{ $value }} users newly need support' },
    }),
  },
  {
    key: 'invocations-drop',
    title: 'Agent invocations dropped by half against the hour before',
    description: 'Per agent: invocations in the last hour fell by more than the given percentage against the hour before.',
    params: { percent: { description: 'drop in percent', default: 50 } },
    build: (p) => ({
      ...base,
      query: { event_type: 'agent_invocation', measure: 'count', group_by: ['agent_name'] },
      window_seconds: 3600,
      condition: { kind: 'change_percent', op: 'lt', threshold: -p.percent! },
      interval_seconds: 300,
      labels: { severity: 'warning' },
      annotations: { summary: '{{ $labels.agent_name }}: invocations changed by {{ $value }}% against the hour before' },
    }),
  },
  {
    key: 'agent-failures-anomaly',
    title: 'Unusual number of agent failures',
    description: "Per agent: the failures of the last complete hour are above the band the trends plugin expects from the week before (needs the trends plugin).",
    params: { sensitivity: { description: 'robust z-score beyond which an hour is unusual', default: 3 } },
    build: (p) => ({
      ...base,
      query: { event_type: 'agent_invocation', measure: 'count', where: { status: 'failure' }, group_by: ['agent_name'] },
      window_seconds: 7 * 86_400,
      condition: { kind: 'anomaly', op: 'gt', threshold: 0, granularity: 'hour', sensitivity: p.sensitivity! },
      interval_seconds: 600,
      labels: { severity: 'warning' },
      annotations: { summary: '{{ $labels.agent_name }}: {{ $value }} failures in the last hour, more than usual' },
    }),
  },
];
