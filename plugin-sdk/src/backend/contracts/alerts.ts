/**
 * What is firing: the alerts plugin's instances that are firing now, for views that
 * summarise the org's state (the executive view) without reading the alerts plugin's
 * tables. A consumer `need`s it optionally: with alerts off there is nothing to show,
 * and the consumer says so.
 */
import { createServiceRef } from '../services.ts';

export interface FiringAlert {
  rule_id: string;
  rule_name: string;
  /** identifies the instance (rule + group labels) */
  fingerprint: string;
  /** the instance's state: `firing` or `recovering` while still routed as firing */
  state: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** the last evaluated value, null without data */
  value: number | null;
  /** ISO instant the instance started firing */
  starts_at: string | null;
  acked: boolean;
  /** a silence matches its labels now */
  silenced: boolean;
}

export interface AlertsStatusService {
  /** instances firing now, most recent first (at most `limit`, default 100) */
  firing(opts?: { limit?: number }): Promise<FiringAlert[]>;
  /** how many rules the org has, and how many of them are paused */
  rules(): Promise<{ total: number; paused: number }>;
}

export const alertsStatusRef = createServiceRef<AlertsStatusService>({
  id: 'alerts-status',
  version: '1.0.0',
  description: 'the alert instances firing now and the number of rules',
});

/**
 * A rule template another plugin contributes (an extension point, Backstage style): the
 * alerts plugin lists it next to its built-in templates and makes rules from it. `build`
 * returns the rule's body as `POST /api/v1/alerts/rules` takes it, without a name; its
 * `query` is a metrics query or a metric source `{source, metric}`.
 */
export interface AlertRuleTemplate {
  /** unique across plugins: prefix it with the contributing plugin's id (`platform-health.cpu-over-60`) */
  key: string;
  title: string;
  description: string;
  /** parameters with defaults the caller may override */
  params: Record<string, { description: string; default: number }>;
  build(p: Record<string, number>): AlertRuleDraft;
}

export interface AlertRuleDraft {
  query: Record<string, unknown>;
  window_seconds: number;
  condition: { op: 'gt' | 'gte' | 'lt' | 'lte'; threshold: number; recovery_threshold?: number };
  interval_seconds?: number;
  for_seconds?: number;
  keep_firing_for_seconds?: number;
  no_data?: 'ok' | 'nodata' | 'alerting';
  on_error?: 'error' | 'alerting' | 'ok';
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface AlertTemplateSource {
  readonly templates: readonly AlertRuleTemplate[];
}

export const alertTemplatesRef = createServiceRef<AlertTemplateSource>({
  id: 'alert-templates',
  version: '1.0.0',
  multiple: true,
  description: 'rule templates other plugins contribute to the alerts plugin',
});
