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
