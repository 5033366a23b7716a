import type { AlertRuleTemplate } from '@orrery/plugin-sdk';
/**
 * The PRD's four performance alerts (9.4.2), stated over this plugin's metric sources and
 * contributed to the alerts plugin as rule templates (`alertTemplatesRef`): an operator makes
 * each a rule with one call (`POST /api/v1/alerts/templates/platform-health.<key>`).
 */
export interface PerformanceAlert {
  key: string;
  title: string;
  /** the metric source and metric the rule reads over `window_seconds` */
  metric: { source: 'platform-health'; metric: string };
  window_seconds: number;
  condition: { op: 'gt' | 'lt'; threshold: number };
  /** the condition must hold this long before the rule fires */
  for_seconds: number;
}

/** `dashboardSlaMs` is `health.slaDashboardMs` (default 2000). */
export function performanceAlerts(dashboardSlaMs: number): PerformanceAlert[] {
  return [
    {
      key: 'dashboard-slower-than-2x-sla',
      title: 'Dashboard slower than 2× its SLA',
      metric: { source: 'platform-health', metric: 'platform_dashboard_load_p95_ms' },
      window_seconds: 300,
      condition: { op: 'gt', threshold: 2 * dashboardSlaMs },
      for_seconds: 0,
    },
    {
      key: 'queries-over-sla',
      title: 'More than 10% of queries over their SLA in 5 minutes',
      metric: { source: 'platform-health', metric: 'platform_query_sla_compliance' },
      window_seconds: 300,
      condition: { op: 'lt', threshold: 0.9 },
      for_seconds: 0,
    },
    {
      key: 'cpu-over-60',
      title: 'CPU over 60% for 2 minutes',
      metric: { source: 'platform-health', metric: 'platform_cpu_ratio' },
      window_seconds: 60,
      condition: { op: 'gt', threshold: 0.6 },
      for_seconds: 120,
    },
    {
      key: 'error-rate-over-10',
      title: 'Error rate over 10% for 1 minute',
      metric: { source: 'platform-health', metric: 'platform_error_rate' },
      window_seconds: 60,
      condition: { op: 'gt', threshold: 0.1 },
      for_seconds: 60,
    },
  ];
}

/** The four as rule templates; keys are prefixed with this plugin's id. */
export function performanceTemplates(dashboardSlaMs: number): AlertRuleTemplate[] {
  return performanceAlerts(dashboardSlaMs).map((a) => ({
    key: `platform-health.${a.key}`,
    title: a.title,
    description: `${a.title} (PRD 9.4.2), over the platform-health metric \`${a.metric.metric}\`; platform-wide, so only the platform operator can make it a rule.`,
    params: { threshold: { description: a.condition.op === 'gt' ? 'fires above this' : 'fires below this', default: a.condition.threshold } },
    build: (p) => ({
      query: { ...a.metric },
      window_seconds: a.window_seconds,
      condition: { op: a.condition.op, threshold: p.threshold! },
      interval_seconds: Math.min(60, a.window_seconds),
      for_seconds: a.for_seconds,
      no_data: 'ok',
      labels: { severity: 'warning', source: 'platform-health' },
      annotations: { summary: `${a.title}: {{ $value }}` },
    }),
  }));
}
