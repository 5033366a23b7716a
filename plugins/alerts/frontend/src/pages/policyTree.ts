/** The policy tree as the pages see it, and where in it a mute timing is named. */

export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface RouteNode {
  matchers?: Matcher[];
  contact_point_id?: string;
  continue?: boolean;
  group_by?: string[];
  group_wait_seconds?: number;
  group_interval_seconds?: number;
  repeat_interval_seconds?: number;
  mute_timings?: string[];
  routes?: RouteNode[];
  /** fields the form does not show (escalation of a child route…) are kept as they are */
  [k: string]: unknown;
}

/** "Route 2 › 1": a route's place in the tree, the way the policy page numbers it. */
export const routeName = (path: number[]) => `Route ${path.map((i) => i + 1).join(' › ')}`;

export const describeMatchers = (ms: Matcher[] | undefined) => (ms?.length ? ms.map((m) => `${m.label} ${m.op} ${m.value}`).join(', ') : 'every alert');

/** Every route (and the root, as "Default policy") that names the mute timing. */
export function routesUsing(root: RouteNode | undefined, name: string): string[] {
  const out: string[] = [];
  if (root?.mute_timings?.includes(name)) out.push('Default policy');
  const walk = (routes: RouteNode[] | undefined, path: number[]) =>
    (routes ?? []).forEach((r, i) => {
      const p = [...path, i];
      if (r.mute_timings?.includes(name)) out.push(`${routeName(p)} (${describeMatchers(r.matchers)})`);
      walk(r.routes, p);
    });
  walk(root?.routes, []);
  return out;
}
