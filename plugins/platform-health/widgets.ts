/**
 * The plugin's widgets, each declared once as plain data: the backend's manifest lists them,
 * each widget's `defineWidget({ declaration })` takes its options version and defaults from
 * here, and the remote build exposes `module` as `./<id>` (frontend/rspack.config.mjs).
 */
import type { WidgetDecl } from '@orrery/plugin-sdk/contract';

export const platformHealth = {
  id: 'platform-health',
  module: './src/PlatformHealth.tsx',
  title: 'Platform health',
  description: "The platform operator's view: nodes, stores, ingestion, rollups, caches, sockets and jobs now, and latency per plugin over time",
  defaultSize: 'L',
  minSize: { w: 4, h: 4 },
  roles: ['Admin'],
  optionsSchema: { type: 'object', properties: {} },
  optionsVersion: 1,
} satisfies WidgetDecl;

export const usageLimits = {
  id: 'usage-limits',
  module: './src/UsageLimits.tsx',
  title: 'Usage & limits',
  description: "This organization's events this month, storage and members against its tier's limits",
  defaultSize: 'M',
  minSize: { w: 3, h: 3 },
  roles: ['Admin'],
  optionsSchema: { type: 'object', properties: {} },
  optionsVersion: 1,
} satisfies WidgetDecl;

export const slaCompliance = {
  id: 'sla-compliance',
  module: './src/SlaCompliance.tsx',
  title: 'SLA compliance',
  description: 'Share of dashboard loads and of analytics queries within their SLA, day by day',
  defaultSize: 'M',
  minSize: { w: 3, h: 3 },
  roles: ['Admin'],
  optionsSchema: {
    type: 'object',
    properties: { scope: { type: 'string', enum: ['org', 'platform'], default: 'org', title: 'Whose loads and queries (platform: the operator only)' } },
  },
  optionsVersion: 1,
} satisfies WidgetDecl;

export const widgets: WidgetDecl[] = [platformHealth, usageLimits, slaCompliance];
