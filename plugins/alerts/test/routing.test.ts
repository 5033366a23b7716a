import { describe, it, expect } from 'vitest';
import { checkPolicy, groupLabels, matches, route, type RouteNode } from '../backend/routing.ts';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const C = '00000000-0000-4000-8000-00000000000c';

describe('notification policy tree', () => {
  const tree: RouteNode = {
    contact_point_id: A,
    group_by: ['alertname'],
    group_wait_seconds: 5,
    routes: [
      { matchers: [{ label: 'team', op: '=', value: 'data' }], contact_point_id: B, continue: true, group_interval_seconds: 60, routes: [{ matchers: [{ label: 'severity', op: '=~', value: 'crit.*' }], contact_point_id: C }] },
      { matchers: [{ label: 'team', op: '=~', value: 'data|ops' }], repeat_interval_seconds: 99 },
      { matchers: [{ label: 'team', op: '!=', value: '' }], contact_point_id: C },
    ],
  };

  it('takes the deepest match, inherits timings, and continues to later siblings only with continue', () => {
    const r = route(tree, { alertname: 'x', team: 'data', severity: 'critical' });
    expect(r.map((x) => [x.path, x.contact_point_id, x.group_wait_seconds, x.group_interval_seconds, x.repeat_interval_seconds])).toEqual([
      ['0.0', C, 5, 60, 14_400],
      ['1', A, 5, 300, 99],
    ]);
    // no continue on the second child: the third is not tried
    expect(route(tree, { alertname: 'x', team: 'ops' }).map((x) => x.path)).toEqual(['1']);
    expect(route(tree, { alertname: 'x', team: 'web' }).map((x) => [x.path, x.contact_point_id])).toEqual([['2', C]]);
    // nothing matches: the root
    expect(route(tree, { alertname: 'x' }).map((x) => [x.path, x.contact_point_id])).toEqual([['', A]]);
  });

  it('anchors regexes and treats missing labels as empty', () => {
    expect(matches([{ label: 'a', op: '=~', value: 'b' }], { a: 'abc' })).toBe(false);
    expect(matches([{ label: 'a', op: '!~', value: 'b.*' }], { a: 'abc' })).toBe(true);
    expect(matches([{ label: 'a', op: '=', value: '' }], {})).toBe(true);
  });

  it('groups by the listed labels, or all with "..."', () => {
    const [r] = route({ group_by: ['team', 'missing'] }, { alertname: 'x', team: 't' });
    expect(groupLabels(r!, { alertname: 'x', team: 't' })).toEqual({ team: 't', missing: '' });
    const [all] = route({ group_by: ['...'] }, { alertname: 'x', team: 't' });
    expect(groupLabels(all!, { alertname: 'x', team: 't' })).toEqual({ alertname: 'x', team: 't' });
  });

  it('refuses a bad regex and unknown contact points, naming the field', () => {
    const known = new Set([A, B, C]);
    expect(() => checkPolicy({ routes: [{}, { matchers: [{ label: 'a', op: '=~', value: '(' }] }] }, known)).toThrow(/routes\[1\]\.matchers\[0\]\.value/);
    try {
      checkPolicy({ routes: [{ contact_point_id: '00000000-0000-4000-8000-000000000000' }] }, known);
      expect.unreachable();
    } catch (e: any) {
      expect(e.statusCode).toBe(400);
      expect(e.details.field).toBe('routes[0].contact_point_id');
    }
    expect(() => checkPolicy(tree, known)).not.toThrow();
  });
});
