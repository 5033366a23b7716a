/**
 * The plugin's widget, declared once as plain data: the backend's manifest lists it,
 * `defineWidget({ declaration })` takes its options version and defaults from here, and
 * the remote build exposes `module` as `./<id>` (frontend/rspack.config.mjs reads this file).
 */
import type { WidgetDecl } from '@orrery/plugin-sdk/contract';

export const firing = {
  id: 'firing',
  module: './src/FiringAlerts.tsx',
  title: 'Firing alerts',
  description: 'Alert instances firing now, with their value, since when, and whether acknowledged or silenced',
  defaultSize: 'M',
  roles: ['Admin', 'Manager', 'Developer'],
  suggestedFor: ['Admin'],
  /** the bus topic the tick job publishes on when instances change (backend/engine.ts) */
  topics: ['firing'],
  optionsVersion: 1,
  optionsSchema: { type: 'object', properties: { showSilenced: { type: 'boolean', default: true, title: 'Show silenced alerts' } } },
} satisfies WidgetDecl;

export const widgets: WidgetDecl[] = [firing];
