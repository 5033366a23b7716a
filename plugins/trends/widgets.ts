/**
 * The plugin's widgets, each declared once as plain data: the backend's manifest lists
 * them, `defineWidget({ declaration })` takes the options version and defaults from here,
 * and the remote build exposes `module` as `./<id>` (frontend/rspack.config.mjs reads this file).
 */
import type { WidgetDecl } from '@orrery/plugin-sdk/contract';

// the metrics query as the widget stores it, without a group (a trend is one series); the
// dashboard supplies the range, zone and department. Kept here as data: also bundled for the browser.
const scalar = [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }];
const whereSchema = { type: 'object', additionalProperties: { anyOf: [...scalar, { type: 'array', items: { anyOf: scalar } }] } };
const querySchema = {
  type: 'object',
  required: ['event_type', 'measure', 'granularity'],
  properties: {
    event_type: { type: 'string', title: 'Event type' },
    measure: { type: 'string', title: 'Measure', enum: ['count', 'users', 'sum', 'avg', 'min', 'max', 'p50', 'p75', 'p90', 'p95', 'p99', 'rate'] },
    field: { type: 'string', title: 'Numeric field (sum, avg, min, max, pXX)' },
    where: { ...whereSchema, title: 'Filters (field: value or list of values)' },
    rate_where: { ...whereSchema, title: 'For rate: the share that also matches' },
    granularity: { type: 'string', title: 'Buckets', enum: ['hour', 'day', 'week', 'month'] },
  },
};

export const forecast = {
  id: 'forecast',
  module: './src/Forecast.tsx',
  title: 'Forecast',
  description: 'A metric over time and its forecast with a prediction band, the model used and its backtest against seasonal naive',
  defaultSize: 'L',
  minSize: { w: 3, h: 3 },
  roles: ['Admin', 'Manager', 'Developer'],
  // daily buckets over the dashboard's usual week are too few to see a weekly season or backtest against it
  defaultTimeRange: '30d',
  optionsVersion: 1,
  optionsSchema: {
    type: 'object',
    required: ['query'],
    properties: {
      title: { type: 'string', title: 'Title', maxLength: 200, default: '' },
      horizon: { type: 'integer', title: 'Buckets to forecast', minimum: 1, maximum: 365, default: 14 },
      interval: { type: 'number', title: 'Band coverage', enum: [0.8, 0.9, 0.95, 0.99], default: 0.95 },
      query: {
        ...querySchema,
        title: 'Metrics query (the dashboard supplies the range, zone and department)',
        default: { event_type: 'agent_invocation', measure: 'count', granularity: 'day' },
      },
    },
  },
} satisfies WidgetDecl;

export const anomalies = {
  id: 'anomalies',
  module: './src/Anomalies.tsx',
  title: 'Anomalies',
  description: 'A metric over time with its expected band (trend and season) and the buckets that stand out marked',
  defaultSize: 'L',
  minSize: { w: 3, h: 3 },
  roles: ['Admin', 'Manager', 'Developer'],
  optionsVersion: 1,
  optionsSchema: {
    type: 'object',
    required: ['query'],
    properties: {
      title: { type: 'string', title: 'Title', maxLength: 200, default: '' },
      sensitivity: { type: 'number', title: 'Sensitivity (robust z-score; lower flags more)', minimum: 1, maximum: 10, default: 3 },
      query: {
        ...querySchema,
        title: 'Metrics query (the dashboard supplies the range, zone and department)',
        default: { event_type: 'agent_invocation', measure: 'p95', field: 'execution_time_ms', granularity: 'hour' },
      },
    },
  },
} satisfies WidgetDecl;

export const widgets: WidgetDecl[] = [forecast, anomalies];
