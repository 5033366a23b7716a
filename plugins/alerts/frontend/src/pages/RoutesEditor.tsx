/**
 * The child routes of the notification policy as a form, one fieldset per route, nested as
 * the tree is. Every control has a label and every button names the route it acts on, so a
 * screen reader hears "Remove Route 2 › 1" rather than a row of "Remove". Fields a route
 * leaves empty are inherited from its parent (mute timings excepted, as in Grafana).
 */
import { Button, type WidgetContext } from '@orrery/plugin-sdk/frontend';
import { Field, grid, ListInput, PortalLink } from './ui.tsx';
import { describeMatchers, routeName, type Matcher, type RouteNode } from './policyTree.ts';

interface Props {
  routes: RouteNode[];
  onChange: (routes: RouteNode[]) => void;
  contactPoints: Array<{ id: string; name: string; type: string }>;
  muteTimings: string[];
  context: WidgetContext<any>;
}

const OPS: Array<[Matcher['op'], string]> = [['=', 'equals'], ['!=', 'does not equal'], ['=~', 'matches the regex'], ['!~', 'does not match the regex']];

/** A route without the keys left empty: the API then inherits them from the parent. */
function clean(r: RouteNode): RouteNode {
  const out: RouteNode = {};
  for (const [k, v] of Object.entries(r)) {
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0 && k !== 'matchers')) continue;
    out[k] = k === 'routes' ? (v as RouteNode[]).map(clean) : v;
  }
  return out;
}

export function RoutesEditor(props: Props) {
  const set = (routes: RouteNode[]) => props.onChange(routes.map(clean));
  return (
    <fieldset style={{ display: 'grid', gap: 12 }}>
      <legend>Child routes</legend>
      <p className="small" style={{ margin: 0 }}>
        An alert goes down the first route whose matchers all hold (and the ones after it when that route continues); the deepest
        matching route decides. Empty fields are inherited from the parent.
      </p>
      <RouteList {...props} path={[]} onChange={set} />
      <div><Button onClick={() => set([...props.routes, { matchers: [{ label: '', op: '=', value: '' }] }])}>Add a route</Button></div>
    </fieldset>
  );
}

function RouteList(props: Props & { path: number[] }) {
  const { routes, onChange, path } = props;
  const update = (i: number, r: RouteNode | null) => onChange(r === null ? routes.filter((_, j) => j !== i) : routes.map((x, j) => (j === i ? r : x)));
  const move = (i: number, d: -1 | 1) => {
    const next = [...routes];
    [next[i], next[i + d]] = [next[i + d]!, next[i]!];
    onChange(next);
  };
  return (
    <>
      {routes.map((r, i) => (
        <RouteEditor key={i} {...props} path={[...path, i]} route={r} onRoute={(x) => update(i, x)} onMove={(d) => move(i, d)} first={i === 0} last={i === routes.length - 1} />
      ))}
    </>
  );
}

function RouteEditor({ route, onRoute, onMove, first, last, path, contactPoints, muteTimings, context }: Props & { path: number[]; route: RouteNode; onRoute: (r: RouteNode | null) => void; onMove: (d: -1 | 1) => void; first: boolean; last: boolean }) {
  const name = routeName(path);
  const matchers = route.matchers ?? [];
  const setMatcher = (j: number, m: Matcher | null) => onRoute({ ...route, matchers: m === null ? matchers.filter((_, k) => k !== j) : matchers.map((x, k) => (k === j ? m : x)) });
  const num = (v: string) => (v === '' ? undefined : Number(v));
  const chosen = new Set(route.mute_timings ?? []);
  // a name the policy holds but the list lacks stays visible, so that saving does not drop it silently
  const timingNames = [...new Set([...muteTimings, ...chosen])];
  return (
    <fieldset style={{ display: 'grid', gap: 12, marginLeft: path.length > 1 ? 16 : 0 }}>
      <legend>{name}</legend>
      <p className="small" style={{ margin: 0 }}>Takes alerts where {describeMatchers(matchers)}.</p>
      {matchers.map((m, j) => (
        <fieldset key={j} style={{ ...grid, alignItems: 'end' }}>
          <legend>Matcher {j + 1}</legend>
          <Field label="Label"><input required value={m.label} onChange={(e) => setMatcher(j, { ...m, label: e.target.value })} /></Field>
          <Field label="Match">
            <select value={m.op} onChange={(e) => setMatcher(j, { ...m, op: e.target.value as Matcher['op'] })}>
              {OPS.map(([op, words]) => <option key={op} value={op}>{words}</option>)}
            </select>
          </Field>
          <Field label="Value" hint={m.op.includes('~') ? 'A regular expression, anchored at both ends.' : undefined}><input value={m.value} onChange={(e) => setMatcher(j, { ...m, value: e.target.value })} /></Field>
          <div><Button onClick={() => setMatcher(j, null)}>Remove matcher {j + 1}<span className="sr-only"> of {name}</span></Button></div>
        </fieldset>
      ))}
      <div><Button onClick={() => onRoute({ ...route, matchers: [...matchers, { label: '', op: '=', value: '' }] })}>Add a matcher<span className="sr-only"> to {name}</span></Button></div>
      <div style={grid}>
        <Field label="Contact point">
          <select value={route.contact_point_id ?? ''} onChange={(e) => onRoute({ ...route, contact_point_id: e.target.value || undefined })}>
            <option value="">Inherit from the parent</option>
            {contactPoints.map((c) => <option key={c.id} value={c.id}>{c.name} ({c.type})</option>)}
          </select>
        </Field>
        <Field label="Group by" hint="Labels, comma-separated; ... groups by every label. Empty: inherited.">
          <ListInput value={route.group_by} onChange={(group_by) => onRoute({ ...route, group_by })} />
        </Field>
        <Field label="Wait before the first notification (s)" hint="Empty: inherited."><input type="number" min={0} value={route.group_wait_seconds ?? ''} onChange={(e) => onRoute({ ...route, group_wait_seconds: num(e.target.value) })} /></Field>
        <Field label="Wait after a change (s)" hint="Empty: inherited."><input type="number" min={0} value={route.group_interval_seconds ?? ''} onChange={(e) => onRoute({ ...route, group_interval_seconds: num(e.target.value) })} /></Field>
        <Field label="Repeat while firing (s)" hint="Empty: inherited."><input type="number" min={0} value={route.repeat_interval_seconds ?? ''} onChange={(e) => onRoute({ ...route, repeat_interval_seconds: num(e.target.value) })} /></Field>
      </div>
      <label>
        <input type="checkbox" checked={!!route.continue} onChange={(e) => onRoute({ ...route, continue: e.target.checked || undefined })} /> Continue: after this route, let the
        alert try the next routes too
      </label>
      <fieldset style={{ display: 'flex', flexWrap: 'wrap', gap: '4px 12px' }}>
        <legend>Mute timings</legend>
        {timingNames.length === 0 && (
          <span className="small">
            None defined yet: <PortalLink context={context} to="/p/alerts/mute-timings">add mute timings</PortalLink>.
          </span>
        )}
        {timingNames.map((t) => (
          <label key={t}>
            <input
              type="checkbox"
              checked={chosen.has(t)}
              onChange={(e) => {
                const next = new Set(chosen);
                if (e.target.checked) next.add(t);
                else next.delete(t);
                onRoute({ ...route, mute_timings: next.size ? [...next] : undefined });
              }}
            />{' '}
            {t}
          </label>
        ))}
      </fieldset>
      {(route.routes ?? []).length > 0 && (
        <RouteList routes={route.routes ?? []} onChange={(rs) => onRoute({ ...route, routes: rs })} path={path} contactPoints={contactPoints} muteTimings={muteTimings} context={context} />
      )}
      <div style={{ display: 'flex', gap: 8, flexWrap: 'wrap' }}>
        <Button onClick={() => onRoute({ ...route, routes: [...(route.routes ?? []), { matchers: [{ label: '', op: '=', value: '' }] }] })}>Add a child route<span className="sr-only"> to {name}</span></Button>
        {!first && <Button onClick={() => onMove(-1)}>Move up<span className="sr-only"> {name}</span></Button>}
        {!last && <Button onClick={() => onMove(1)}>Move down<span className="sr-only"> {name}</span></Button>}
        <Button onClick={() => onRoute(null)}>Remove {name}</Button>
      </div>
    </fieldset>
  );
}
