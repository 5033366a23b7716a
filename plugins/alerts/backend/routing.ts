/**
 * The notification policy tree and label matchers (Alertmanager's model):
 * an alert enters at the root and goes down the first child whose matchers
 * all hold, deeper and deeper; `continue` lets it try the next siblings too.
 * The deepest matching routes receive it. Children inherit their parent's
 * receiver, grouping and timings unless they set their own. Pure functions.
 */
import { HttpError } from '@orrery/plugin-sdk';

export type MatchOp = '=' | '!=' | '=~' | '!~';
export interface Matcher {
  label: string;
  op: MatchOp;
  value: string;
}

export interface RouteNode {
  contact_point_id?: string;
  matchers?: Matcher[];
  continue?: boolean;
  group_by?: string[];
  group_wait_seconds?: number;
  group_interval_seconds?: number;
  repeat_interval_seconds?: number;
  /** escalation: not acknowledged within `after_seconds` → also notify this contact point */
  escalation?: Array<{ after_seconds: number; contact_point_id: string }>;
  /** names of mute timings during which this route sends nothing (not inherited, as in Grafana) */
  mute_timings?: string[];
  routes?: RouteNode[];
}

/** A route with everything inherited filled in. */
export interface ResolvedRoute {
  /** path of child indexes from the root, e.g. `0.2` ('' is the root) */
  path: string;
  contact_point_id: string | null;
  group_by: string[];
  group_wait_seconds: number;
  group_interval_seconds: number;
  repeat_interval_seconds: number;
  escalation: Array<{ after_seconds: number; contact_point_id: string }>;
  /** this route's own mute timings (names) */
  mute_timings?: string[];
}

/** Grafana's defaults. */
export const DEFAULT_POLICY = { group_by: ['alertname'], group_wait_seconds: 30, group_interval_seconds: 300, repeat_interval_seconds: 14_400 };

const matcherSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['label', 'op', 'value'],
  properties: {
    label: { type: 'string', minLength: 1, maxLength: 100 },
    op: { type: 'string', enum: ['=', '!=', '=~', '!~'] },
    value: { type: 'string', maxLength: 500 },
  },
};
export const matchersSchema = { type: 'array', maxItems: 20, items: matcherSchema };

const timing = (d: string) => ({ type: 'integer', minimum: 0, maximum: 7 * 86_400, description: d });
const routeProperties = {
  contact_point_id: { type: 'string', format: 'uuid' },
  matchers: matchersSchema,
  continue: { type: 'boolean' },
  group_by: { type: 'array', maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 100 }, description: "labels that make one notification group; ['...'] groups by every label" },
  group_wait_seconds: timing('wait this long after the first alert of a new group before notifying (collects its siblings)'),
  group_interval_seconds: timing('wait this long before notifying about changes in a group already notified'),
  repeat_interval_seconds: { type: 'integer', minimum: 1, maximum: 30 * 86_400, description: 'resend a still-firing group after this long' },
  escalation: {
    type: 'array',
    maxItems: 5,
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['after_seconds', 'contact_point_id'],
      properties: { after_seconds: { type: 'integer', minimum: 1, maximum: 7 * 86_400 }, contact_point_id: { type: 'string', format: 'uuid' } },
    },
  },
  mute_timings: { type: 'array', maxItems: 10, items: { type: 'string', minLength: 1, maxLength: 100 }, description: 'mute timings (by name) during which this route sends nothing; not inherited' },
};
/** JSON schema of the tree; nesting below depth 4 is refused by `checkPolicy`. */
export const policySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...routeProperties,
    routes: { type: 'array', maxItems: 50, items: { type: 'object', additionalProperties: false, properties: { ...routeProperties, routes: { type: 'array', maxItems: 50, items: { type: 'object' } } } } },
  },
} as const;

const regexCache = new Map<string, RegExp>();
/** Anchored like Alertmanager's: the whole value must match. */
function anchored(source: string): RegExp {
  let r = regexCache.get(source);
  if (!r) {
    r = new RegExp(`^(?:${source})$`);
    if (regexCache.size > 10_000) regexCache.clear();
    regexCache.set(source, r);
  }
  return r;
}

/** Throws a 400 naming the field when a matcher's regex does not compile. */
export function checkMatchers(matchers: Matcher[], field: string) {
  matchers.forEach((m, i) => {
    if (m.op !== '=~' && m.op !== '!~') return;
    try {
      anchored(m.value);
    } catch (err) {
      throw new HttpError(400, 'bad_request', `${field}[${i}].value: not a valid regular expression (${(err as Error).message})`, { field: `${field}[${i}].value` });
    }
  });
}

export function matches(matchers: Matcher[] | undefined, labels: Record<string, string>): boolean {
  for (const m of matchers ?? []) {
    const v = labels[m.label] ?? '';
    const ok = m.op === '=' ? v === m.value : m.op === '!=' ? v !== m.value : m.op === '=~' ? anchored(m.value).test(v) : !anchored(m.value).test(v);
    if (!ok) return false;
  }
  return true;
}

/** Validates a whole tree: regexes, depth, the contact points it names (`known`) and its mute timings (`timings`). */
export function checkPolicy(root: RouteNode, known: Set<string>, timings: Set<string> = new Set()) {
  const walk = (node: RouteNode, field: string, depth: number) => {
    if (depth > 4) throw new HttpError(400, 'bad_request', `${field}: routes nest at most 4 deep`, { field });
    checkMatchers(node.matchers ?? [], `${field ? `${field}.` : ''}matchers`);
    const prefix = field ? `${field}.` : '';
    if (node.contact_point_id && !known.has(node.contact_point_id))
      throw new HttpError(400, 'bad_request', `${prefix}contact_point_id: no contact point ${node.contact_point_id}`, { field: `${prefix}contact_point_id` });
    (node.escalation ?? []).forEach((e, i) => {
      if (!known.has(e.contact_point_id))
        throw new HttpError(400, 'bad_request', `${prefix}escalation[${i}].contact_point_id: no contact point ${e.contact_point_id}`, { field: `${prefix}escalation[${i}].contact_point_id` });
    });
    (node.mute_timings ?? []).forEach((name, i) => {
      if (!timings.has(name)) throw new HttpError(400, 'bad_request', `${prefix}mute_timings[${i}]: no mute timing "${name}"`, { field: `${prefix}mute_timings[${i}]` });
    });
    (node.routes ?? []).forEach((child, i) => walk(child, `${prefix}routes[${i}]`, depth + 1));
  };
  walk(root, '', 0);
}

function inherit(node: RouteNode, parent: ResolvedRoute, path: string): ResolvedRoute {
  return {
    path,
    contact_point_id: node.contact_point_id ?? parent.contact_point_id,
    group_by: node.group_by ?? parent.group_by,
    group_wait_seconds: node.group_wait_seconds ?? parent.group_wait_seconds,
    group_interval_seconds: node.group_interval_seconds ?? parent.group_interval_seconds,
    repeat_interval_seconds: node.repeat_interval_seconds ?? parent.repeat_interval_seconds,
    escalation: node.escalation ?? parent.escalation,
    mute_timings: node.mute_timings ?? [],
  };
}

export function resolveRoot(root: RouteNode): ResolvedRoute {
  return inherit(root, { path: '', contact_point_id: null, ...DEFAULT_POLICY, escalation: [] }, '');
}

/** The routes an alert with `labels` goes to (deepest matches; `continue` tries later siblings). */
export function route(root: RouteNode, labels: Record<string, string>): ResolvedRoute[] {
  const walk = (node: RouteNode, resolved: ResolvedRoute): ResolvedRoute[] => {
    const out: ResolvedRoute[] = [];
    for (const [i, child] of (node.routes ?? []).entries()) {
      if (!matches(child.matchers, labels)) continue;
      out.push(...walk(child, inherit(child, resolved, resolved.path ? `${resolved.path}.${i}` : String(i))));
      if (!child.continue) break;
    }
    return out.length ? out : [resolved];
  };
  return walk(root, resolveRoot(root));
}

/** The labels a route groups by, and their values for these labels. */
export function groupLabels(r: ResolvedRoute, labels: Record<string, string>): Record<string, string> {
  if (r.group_by.includes('...')) return { ...labels };
  return Object.fromEntries(r.group_by.map((g) => [g, labels[g] ?? '']));
}
