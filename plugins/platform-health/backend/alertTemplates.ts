/**
 * The PRD's four performance alerts (9.4.2), stated over this plugin's metric sources.
 * They are data only: the alerts plugin offers no extension point through which another
 * plugin contributes built-in rule templates, and its rules do not yet take a metric
 * source as their query (plugins/alerts/README.md). Once both exist, each entry becomes
 * one template; until then an operator can watch the same metrics in the explorer.
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
