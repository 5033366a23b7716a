/**
 * Built-in rule templates for the PRD's alert conditions that a metrics query
 * can state. Those that need other parts (data-quality conditions published by
 * ingestion, users flagged by adoption, budgets, per-row SLA comparisons) are
 * listed in README.md as not yet offered.
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
];
