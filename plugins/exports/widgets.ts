/**
 * The plugin's widgets, each declared once as plain data: the backend's manifest lists
 * them, each widget's `defineWidget({ declaration })` takes its options version and
 * defaults (the schema's `default`s) from here, and the remote build exposes `module`
 * as `./<id>` (frontend/rspack.config.mjs reads this file).
 */
import type { PageDecl, WidgetDecl } from '@orrery/plugin-sdk/contract';


export const exportData = {
  id: 'export-data',
  module: './src/ExportData.tsx',
  title: 'Export data',
  description: "The dashboard's time range as CSV, JSON or NDJSON: downloaded at once, or written in the background with progress",
  defaultSize: 'S',
  minSize: { w: 3, h: 3 },
  roles: ['Admin', 'Manager', 'Developer'],
  optionsVersion: 1,
  optionsSchema: {
    type: 'object',
    properties: {
      eventType: { type: 'string', title: 'Event type (empty: all)', default: '' },
      format: { type: 'string', title: 'Format', enum: ['csv', 'json', 'ndjson'], default: 'csv' },
      fields: { type: 'string', title: 'Fields (comma-separated; empty: all)', default: '' },
    },
  },
} satisfies WidgetDecl;

export const widgets: WidgetDecl[] = [exportData];

/** The export form as a full page whose choices live in the URL (`/p/exports/data`). */
export const exportPage = {
  id: 'data',
  module: './src/ExportPage.tsx',
  title: 'Export data',
  description: 'Any event type in the selected range as CSV, JSON or NDJSON, with a shareable link',
  roles: ['Admin', 'Manager', 'Developer'],
  nav: true,
  optionsSchema: exportData.optionsSchema,
} satisfies PageDecl;

/** Reports: schedules, recipients, preview, history, send now (`/p/exports/reports?report=<id>`). */
export const reportsPage = {
  id: 'reports',
  module: './src/ReportsPage.tsx',
  title: 'Reports',
  description: 'Scheduled reports by email, Slack or webhook: create, preview, send now, see the history and who opened them',
  roles: ['Admin', 'Manager'],
  nav: true,
  optionsSchema: {
    type: 'object',
    properties: {
      report: { type: 'string', title: 'Report shown', default: '' },
      view: { type: 'string', title: 'View', enum: ['', 'new', 'edit'], default: '' },
    },
  },
} satisfies PageDecl;

/** Where a report's link lands: records the open, then points to the dashboard. Not in the navigation. */
export const openedPage = {
  id: 'opened',
  module: './src/OpenedPage.tsx',
  title: 'Report',
  description: "A report's link: records that you opened it",
  roles: ['Admin', 'Manager', 'Developer'],
  nav: false,
  optionsSchema: { type: 'object', properties: { t: { type: 'string', title: 'Link token', default: '' } } },
} satisfies PageDecl;

export const pages: PageDecl[] = [exportPage, reportsPage, openedPage];
