/**
 * The dashboard document and what each route answers, declared once: fastify validates the
 * saved documents and serializes the answers with these schemas (dropping any property a
 * schema does not list), and the types below are derived from them.
 * test/answers.test.ts compares every answer with the same handler's answer without a schema.
 */
import type { SchemaType } from '@orrery/plugin-sdk/contract';

export const MAX_ITEMS = 100;

export const itemSchema = {
  type: 'object',
  required: ['i', 'ref', 'x', 'y', 'w', 'h'],
  properties: {
    i: { type: 'string', maxLength: 64 },
    ref: { type: 'string', maxLength: 200, description: '`<pluginId>/<widgetId>`' },
    x: { type: 'integer', minimum: 0, maximum: 11 },
    y: { type: 'integer', minimum: 0 },
    w: { type: 'integer', minimum: 1, maximum: 12 },
    h: { type: 'integer', minimum: 1, maximum: 40 },
    options: { type: 'object', additionalProperties: true },
    pluginVersion: { type: 'string', maxLength: 64, description: 'version of the plugin the options were saved with' },
    optionsVersion: { type: 'integer', minimum: 1 },
    timeRange: { type: 'string', maxLength: 32 },
    title: { type: 'string', maxLength: 200 },
  },
  additionalProperties: true,
} as const;

export const docSchema = {
  type: 'object',
  required: ['version', 'items'],
  properties: { version: { type: 'integer', const: 1 }, items: { type: 'array', maxItems: MAX_ITEMS, items: itemSchema } },
  additionalProperties: false,
} as const;

const SOURCES = ['user', 'department', 'role', 'none'] as const;
const SCOPES = ['role', 'department'] as const;

/** `GET` and `DELETE /dashboards/mine`: the caller's layout or the default it starts from (`updated_at` absent for `none`) */
export const mineAnswer = {
  type: 'object',
  required: ['doc', 'source'],
  properties: {
    doc: { anyOf: [docSchema, { type: 'null' }] },
    source: { type: 'string', enum: SOURCES },
    updated_at: { type: 'string' },
  },
} as const;

/** `PUT /dashboards/mine` and `PUT /dashboards/defaults/{scope}/{key}` */
export const savedAnswer = { type: 'object', required: ['updated_at'], properties: { updated_at: { type: 'string' } } } as const;

/** `GET /dashboards/defaults`: which defaults exist, without their documents */
export const defaultsAnswer = {
  type: 'object',
  required: ['defaults'],
  properties: {
    defaults: {
      type: 'array',
      items: {
        type: 'object',
        required: ['scope', 'key', 'updated_at', 'updated_by'],
        properties: {
          scope: { type: 'string', enum: SCOPES },
          key: { type: 'string', description: 'a role name or a department id' },
          updated_at: { type: 'string' },
          updated_by: { type: 'string', description: 'user id of who saved it' },
        },
      },
    },
  },
} as const;

/** `GET /dashboards/defaults/{scope}/{key}` (a stored document that no longer parses reads as null) */
export const defaultAnswer = {
  type: 'object',
  required: ['doc', 'updated_at', 'updated_by'],
  properties: {
    doc: { anyOf: [docSchema, { type: 'null' }] },
    updated_at: { type: 'string' },
    updated_by: { type: 'string' },
  },
} as const;

export type DashboardDoc = SchemaType<typeof docSchema>;
export type MineAnswer = SchemaType<typeof mineAnswer>;
export type SavedAnswer = SchemaType<typeof savedAnswer>;
export type DefaultsAnswer = SchemaType<typeof defaultsAnswer>;
export type DefaultAnswer = SchemaType<typeof defaultAnswer>;
