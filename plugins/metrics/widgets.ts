/**
 * The plugin's widgets, each declared once as plain data: the backend's manifest lists
 * them, `defineWidget({ declaration })` takes the options version and defaults from here,
 * and the remote build exposes `module` as `./<id>` (frontend/rspack.config.mjs reads this file).
 */
import type { PageDecl, WidgetDecl } from '@orrery/plugin-sdk/contract';

// the metrics query as the widget stores it (the backend checks it against the catalogue);
// kept here as data because this file is also bundled for the browser
const scalar = [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }];
const whereSchema = { type: 'object', additionalProperties: { anyOf: [...scalar, { type: 'array', items: { anyOf: scalar } }] } };
const querySchema = {
  type: 'object',
  required: ['event_type', 'measure'],
  properties: {
    event_type: { type: 'string', title: 'Event type' },
    measure: { type: 'string', title: 'Measure', enum: ['count', 'users', 'sum', 'avg', 'min', 'max', 'p50', 'p75', 'p90', 'p95', 'p99', 'rate'] },
    field: { type: 'string', title: 'Numeric field (sum, avg, min, max, pXX)' },
    where: { ...whereSchema, title: 'Filters (field: value or list of values)' },
    rate_where: { ...whereSchema, title: 'For rate: the share that also matches' },
    group_by: { type: 'array', title: 'Group by (up to 3)', maxItems: 3, items: { type: 'string' } },
    granularity: { type: 'string', title: 'Buckets', enum: ['minute', 'hour', 'day', 'week', 'month'] },
  },
};

export const metric = {
  id: 'metric',
  module: './src/Metric.tsx',
  title: 'Metric',
  description: 'Any metrics query (event type, measure, filters, groups, buckets) as a line, bars, stacked area, pie, table, heatmap or a single number with its change',
  defaultSize: 'M',
  minSize: { w: 2, h: 2 },
  roles: ['Admin', 'Manager', 'Developer'],
  optionsVersion: 1,
  optionsSchema: {
    type: 'object',
    required: ['query'],
    properties: {
      title: { type: 'string', title: 'Title', maxLength: 200, default: '' },
      chart: { type: 'string', title: 'Chart', enum: ['line', 'bar', 'area', 'pie', 'table', 'number', 'heatmap'], default: 'line' },
      compare: { type: 'boolean', title: 'Compare with the previous period', default: false },
      query: {
        ...querySchema,
        title: 'Metrics query (the dashboard supplies the range, zone and department)',
        default: { event_type: 'agent_invocation', measure: 'count', granularity: 'hour' },
      },
    },
  },
} satisfies WidgetDecl;

export const widgets: WidgetDecl[] = [metric];

/**
 * The explorer (`/p/metrics/explorer`): every choice of a question in the URL, so a link
 * reopens the same question; it saves the question as a Metric widget on a dashboard or as a
 * custom metric.
 */
export const explorer = {
  id: 'explorer',
  module: './src/ExplorerPage.tsx',
  title: 'Explore metrics',
  description: 'Ask any question of the events: measure, filters, groups, buckets; chart it, compare periods, save it',
  roles: ['Admin', 'Manager', 'Developer'],
  nav: true,
  optionsSchema: {
    type: 'object',
    properties: {
      event_type: { type: 'string', default: 'agent_invocation' },
      measure: { type: 'string', enum: querySchema.properties.measure.enum, default: 'count' },
      field: { type: 'string', default: '' },
      where: { type: 'string', description: 'filters as `field=value,value;field=value`', default: '' },
      rate_where: { type: 'string', description: 'for rate: `field=value`', default: '' },
      group_by: { type: 'string', description: 'comma-separated, up to 3', default: '' },
      granularity: { type: 'string', enum: ['none', 'minute', 'hour', 'day', 'week', 'month'], default: 'hour' },
      chart: { type: 'string', enum: ['line', 'bar', 'area', 'pie', 'table', 'number', 'heatmap'], default: 'line' },
      compare: { type: 'boolean', default: false },
    },
  },
} satisfies PageDecl;

export const pages: PageDecl[] = [explorer];
