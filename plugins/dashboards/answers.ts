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

// ---- named dashboards (`/dashboards`, `/dashboards/{id}`, `/dashboards/templates`)

export const SHARE_SCOPES = ['private', 'department', 'org'] as const;
export const SHARE_ACCESS = ['view', 'edit'] as const;
/** auto-refresh intervals offered, in seconds (0 = off; live updates still arrive) */
export const REFRESH_SECONDS = [0, 5, 30, 60, 300] as const;

export const shareSchema = {
  type: 'object',
  required: ['scope'],
  properties: {
    scope: { type: 'string', enum: SHARE_SCOPES, description: '`private`: the owner only; `department`: members of `department_id`; `org`: every member' },
    department_id: { anyOf: [{ type: 'string', minLength: 1, maxLength: 64 }, { type: 'null' }], description: 'required with scope `department`' },
    access: { type: 'string', enum: SHARE_ACCESS, default: 'view', description: 'what the people it is shared with may do (the owner always edits)' },
  },
  additionalProperties: false,
} as const;

export const filtersSchema = {
  type: 'object',
  properties: {
    department_id: { type: 'string', minLength: 1, maxLength: 64, description: 'every widget shows this department only' },
    agent_name: { type: 'string', minLength: 1, maxLength: 256, description: 'every widget that can shows this agent only' },
  },
  additionalProperties: false,
} as const;

const refreshSchema = { type: 'integer', enum: REFRESH_SECONDS, description: 'auto-refresh interval in seconds; 0 = off' } as const;
const nameSchema = { type: 'string', minLength: 1, maxLength: 120, pattern: '\\S' } as const;

export const createBody = {
  type: 'object',
  required: ['name'],
  properties: {
    name: nameSchema,
    description: { type: 'string', maxLength: 2000 },
    template: { type: 'string', maxLength: 64, description: 'start from this template of `GET /dashboards/templates` (its widgets, unless `doc` is given)' },
    doc: docSchema,
    share: shareSchema,
    filters: filtersSchema,
    refresh_seconds: refreshSchema,
  },
  additionalProperties: false,
} as const;

export const updateBody = {
  type: 'object',
  properties: {
    name: nameSchema,
    description: { type: 'string', maxLength: 2000 },
    doc: docSchema,
    share: shareSchema,
    filters: filtersSchema,
    refresh_seconds: refreshSchema,
  },
  additionalProperties: false,
  minProperties: 1,
} as const;

const summaryProps = {
  id: { type: 'string' },
  name: { type: 'string' },
  description: { type: 'string' },
  owner_id: { type: 'string' },
  share: {
    type: 'object',
    required: ['scope', 'department_id', 'access'],
    properties: { scope: { type: 'string', enum: SHARE_SCOPES }, department_id: { type: ['string', 'null'] }, access: { type: 'string', enum: SHARE_ACCESS } },
  },
  filters: { type: 'object', properties: { department_id: { type: 'string' }, agent_name: { type: 'string' } } },
  refresh_seconds: { type: 'integer' },
  template: { type: ['string', 'null'] },
  widgets: { type: 'integer', description: 'number of cells' },
  can_edit: { type: 'boolean', description: 'the caller may change it' },
  is_owner: { type: 'boolean' },
  created_at: { type: 'string' },
  updated_at: { type: 'string' },
  updated_by: { type: 'string' },
} as const;
const summaryRequired = ['id', 'name', 'description', 'owner_id', 'share', 'filters', 'refresh_seconds', 'template', 'widgets', 'can_edit', 'is_owner', 'created_at', 'updated_at', 'updated_by'] as const;

/** `GET /dashboards`: what the caller may see, without documents */
export const listAnswer = {
  type: 'object',
  required: ['dashboards'],
  properties: { dashboards: { type: 'array', items: { type: 'object', required: summaryRequired, properties: summaryProps } } },
} as const;

/** `GET·POST /dashboards`, `GET·PUT /dashboards/{id}` */
export const namedAnswer = {
  type: 'object',
  required: [...summaryRequired, 'doc'],
  properties: { ...summaryProps, doc: docSchema },
} as const;

/** `GET /dashboards/templates` */
export const templatesAnswer = {
  type: 'object',
  required: ['templates'],
  properties: {
    templates: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'name', 'description', 'kind', 'doc'],
        properties: { id: { type: 'string' }, name: { type: 'string' }, description: { type: 'string' }, kind: { type: 'string', enum: ['builtin', 'role'] }, doc: docSchema },
      },
    },
  },
} as const;

export type NamedAnswer = SchemaType<typeof namedAnswer>;
export type ListAnswer = SchemaType<typeof listAnswer>;
export type TemplatesAnswer = SchemaType<typeof templatesAnswer>;
