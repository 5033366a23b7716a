/**
 * The types the kernel, the SDK's backend and frontend halves and the portal share, declared
 * once. Plain types and data only: nothing here imports node or the browser, so every side
 * can import it (`@orrery/plugin-sdk/contract`).
 */

export type Role = 'Admin' | 'Manager' | 'Developer';
export const ROLES: readonly Role[] = ['Admin', 'Manager', 'Developer'];

/** A JSON schema (draft 7 / OpenAPI 3 subset); fastify validates and documents with it. */
export type JsonSchema = Record<string, unknown>;

/** The part of a JSON schema the portal reads to render a widget's options editor. */
export interface OptionsSchema {
  type?: string;
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  enumNames?: string[];
  minimum?: number;
  maximum?: number;
  properties?: Record<string, OptionsSchema>;
  items?: OptionsSchema;
  required?: string[];
  format?: string;
  oneOf?: Array<{ const: unknown; title?: string }>;
}

/** Who a bus message is for: the whole org, one department or one user (always within the org). */
export type BusScope = { kind: 'org' } | { kind: 'department'; id: string } | { kind: 'user'; id: string };

export interface BusMessage<T = unknown> {
  topic: string;
  orgId: string;
  scope: BusScope;
  payload: T;
  at: string;
}

export type WidgetSize = 'S' | 'M' | 'L' | 'F';
export const WIDGET_SIZES: readonly WidgetSize[] = ['S', 'M', 'L', 'F'];

/**
 * One widget, declared once as plain data: the backend's manifest lists it, the widget's
 * `defineWidget({ declaration })` takes its options version and defaults from it, and the
 * remote build exposes `module` as `./<id>` (`createRemoteConfig({ widgets })`).
 */
export interface WidgetDecl {
  /** unique within the plugin; the federated module exposed is `./<id>` */
  id: string;
  /** the file exposed as `./<id>`, relative to the plugin's `frontend/` folder (e.g. `./src/Latency.tsx`) */
  module?: string;
  title: string;
  description: string;
  defaultSize: WidgetSize;
  minSize?: { w: number; h: number };
  roles: Role[];
  /**
   * Roles whose built-in default dashboard (what a user sees before anyone saved one for
   * their role or department) starts with this widget. Each of them must be in `roles`.
   */
  suggestedFor?: Role[];
  /** JSON schema of the widget's options; the host renders the editor from it, its `default`s are the defaults */
  optionsSchema?: JsonSchema;
  /** bus topics (of this plugin) the widget listens to */
  topics?: string[];
  /** options schema version; the widget migrates older saved options */
  optionsVersion?: number;
}

/** The JSON schema of a widget declaration as the plugin manifest answers it. */
export const widgetDeclSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    title: { type: 'string' },
    description: { type: 'string' },
    defaultSize: { type: 'string', enum: [...WIDGET_SIZES] },
    minSize: { type: 'object', properties: { w: { type: 'integer' }, h: { type: 'integer' } } },
    roles: { type: 'array', items: { type: 'string', enum: [...ROLES] } },
    suggestedFor: { type: 'array', items: { type: 'string', enum: [...ROLES] } },
    optionsSchema: { type: 'object', additionalProperties: true },
    optionsVersion: { type: 'integer' },
    topics: { type: 'array', items: { type: 'string' } },
  },
} as const;

/** The options a widget starts with: the `default` of each property of its options schema. */
export function defaultsOf(schema: JsonSchema | undefined): Record<string, unknown> {
  const props = (schema as OptionsSchema | undefined)?.properties ?? {};
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(props)) if (p && p.default !== undefined) out[k] = p.default;
  return out;
}
