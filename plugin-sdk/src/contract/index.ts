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
 * The host's time-range presets, by id: what a dashboard cell's own range and a widget's
 * `defaultTimeRange` may name. Each is resolved against "now" when used.
 */
export const TIME_RANGE_PRESETS = ['1h', '24h', 'today', '7d', 'week', '30d', 'month', '90d'] as const;
export type TimeRangePreset = (typeof TIME_RANGE_PRESETS)[number];

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
   * their role or department) starts with this widget. Each of them must be in `roles`. The
   * default holds eight widgets, taken one per plugin in turn: list a plugin's widgets with the
   * one a role should see first before the others suggested to it.
   */
  suggestedFor?: Role[];
  /** JSON schema of the widget's options; the host renders the editor from it, its `default`s are the defaults */
  optionsSchema?: JsonSchema;
  /** bus topics (of this plugin) the widget listens to */
  topics?: string[];
  /** options schema version; the widget migrates older saved options */
  optionsVersion?: number;
  /**
   * The range a new copy of the widget starts with instead of the dashboard's, for figures
   * that need a long span to mean anything (cohort retention over a week's range has at most
   * one cohort). The user can change or clear it in the widget's settings.
   */
  defaultTimeRange?: TimeRangePreset;
}

/**
 * A full page a plugin contributes (an editor, an explorer, a list): declared next to the
 * plugin's widgets as plain data. The host routes `/p/<plugin id>/<page id>` to it and lists
 * it in the main navigation when `nav` is set; the remote build exposes `module` as
 * `./pages/<id>`. A page default-exports `defineWidget(...)` like a widget: its `options` are
 * the URL's query parameters and `setOptions` writes them back, so a URL reopens the view.
 */
export interface PageDecl {
  /** unique within the plugin; URL-safe (`[a-z0-9-]`) */
  id: string;
  /** the file exposed as `./pages/<id>`, relative to the plugin's `frontend/` folder */
  module?: string;
  title: string;
  description: string;
  roles: Role[];
  /** listed in the main navigation (pages reached only by links leave it out) */
  nav?: boolean;
  /** JSON schema of the page's URL options; its `default`s fill parameters the URL leaves out */
  optionsSchema?: JsonSchema;
}

/** The JSON schema of a page declaration as the plugin manifest answers it. */
export const pageDeclSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    title: { type: 'string' },
    description: { type: 'string' },
    roles: { type: 'array', items: { type: 'string', enum: [...ROLES] } },
    nav: { type: 'boolean' },
    optionsSchema: { type: 'object', additionalProperties: true },
  },
} as const;

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
    defaultTimeRange: { type: 'string', enum: [...TIME_RANGE_PRESETS] },
  },
} as const;

/** The options a widget starts with: the `default` of each property of its options schema. */
export function defaultsOf(schema: JsonSchema | undefined): Record<string, unknown> {
  const props = (schema as OptionsSchema | undefined)?.properties ?? {};
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(props)) if (p && p.default !== undefined) out[k] = p.default;
  return out;
}

/**
 * The TypeScript type of the value a JSON schema (written `as const`) describes, for the
 * subset routes use: `type` (one or a list, `'null'` included), `properties` with `required`,
 * `additionalProperties`, `items`, `enum`, `const` and `anyOf`. A route declares its answer's
 * schema once and the frontend reads `SchemaType<typeof answer>` instead of re-declaring it.
 * A property not in `required` is optional.
 */
export type SchemaType<S> = S extends { const: infer C }
  ? C
  : S extends { enum: readonly (infer E)[] }
    ? E
    : S extends { anyOf: readonly (infer A)[] }
      ? A extends unknown
        ? SchemaType<A>
        : never
      : S extends { type: readonly (infer T)[] }
        ? T extends unknown
          ? SchemaType<Omit<S, 'type'> & { type: T }>
          : never
        : S extends { type: 'null' }
          ? null
          : S extends { type: 'string' }
            ? string
            : S extends { type: 'integer' | 'number' }
              ? number
              : S extends { type: 'boolean' }
                ? boolean
                : S extends { type: 'array' }
                  ? S extends { items: infer I }
                    ? Array<SchemaType<I>>
                    : unknown[]
                  : S extends { type: 'object' }
                    ? ObjectOf<S>
                    : unknown;

type Simplify<T> = { [K in keyof T]: T[K] } & {};
type ObjectOf<S> = Simplify<
  (S extends { properties: infer P }
    ? S extends { required: readonly (infer R)[] }
      ? { -readonly [K in keyof P as K extends R ? K : never]: SchemaType<P[K]> } & { -readonly [K in keyof P as K extends R ? never : K]?: SchemaType<P[K]> }
      : { -readonly [K in keyof P]?: SchemaType<P[K]> }
    : unknown) &
    (S extends { additionalProperties: infer A } ? (A extends true ? Record<string, unknown> : A extends false ? unknown : Record<string, SchemaType<A>>) : unknown)
>;
