import type { WidgetDecl } from '@orrery/plugin-sdk';

export const widgets: WidgetDecl[] = [
  {
    id: 'export-data',
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
  },
];
