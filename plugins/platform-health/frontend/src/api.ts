/** The shapes of the plugin's routes, as the widgets read them (see backend/routes.ts). */
import type { OrgUsage, SystemStats } from '@orrery/plugin-sdk';

export type { OrgUsage, SystemStats };

export interface SeriesAnswer {
  series: string;
  keys: Array<{ key: string; points: Array<{ bucket: string; value: number }> }>;
}

export interface SlaAnswer {
  scope: 'org' | 'platform';
  sla: { dashboard_ms: number; query_ms: number };
  days: Array<{ day: string; dashboard_loads: number; dashboard_compliance: number | null; queries: number; query_compliance: number | null }>;
}

export interface CapacityAnswer {
  model: string;
  capacity_events_per_day: number;
  history: Array<{ day: string; events: number; storage_bytes: number | null }>;
  projection: Array<{ day: string; events: number; storage_bytes: number | null; capacity_ratio: number }>;
  first_day_over_capacity: string | null;
}
