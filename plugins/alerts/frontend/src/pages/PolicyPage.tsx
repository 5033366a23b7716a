import { useEffect, useState } from 'react';
import { Button, defineWidget, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { policyPage } from '../../../widgets.ts';
import { ActionStatus, Field, grid, ListInput, PortalLink, useAction } from './ui.tsx';
import { RoutesEditor } from './RoutesEditor.tsx';
import type { RouteNode } from './policyTree.ts';

interface Policy {
  contact_point_id?: string;
  group_by?: string[];
  group_wait_seconds?: number;
  group_interval_seconds?: number;
  repeat_interval_seconds?: number;
  routes?: RouteNode[];
  escalation?: Array<{ after_seconds: number; contact_point_id: string }>;
  [k: string]: unknown;
}

/**
 * The notification policy as a form: the root (default contact point, grouping, timings,
 * escalation) and the tree of child routes (matchers, continue, grouping, timings, mute
 * timings, their own children); the API checks everything and its answer names the bad field.
 */
function PolicyPage({ context }: WidgetProps) {
  const q = useWidgetData<{ policy: Policy; defaults: Policy }>('/policy', {}, { withContext: false });
  const cps = useWidgetData<{ contact_points: Array<{ id: string; name: string; type: string }> }>('/contact-points', {}, { withContext: false });
  const mutes = useWidgetData<{ mute_timings: Array<{ name: string }> }>('/mute-timings', {}, { withContext: false });
  const act = useAction();
  const [root, setRoot] = useState<Policy>({});
  const [routes, setRoutes] = useState<RouteNode[]>([]);
  const [escalateTo, setEscalateTo] = useState('');
  const [escalateAfter, setEscalateAfter] = useState('');
  useEffect(() => {
    if (!q.data) return;
    const { routes: r, escalation, ...rest } = q.data.policy;
    setRoot(rest);
    setRoutes(r ?? []);
    setEscalateTo(escalation?.[0]?.contact_point_id ?? '');
    setEscalateAfter(escalation?.[0] ? String(escalation[0].after_seconds) : '');
  }, [q.data]);
  const d = q.data?.defaults ?? {};
  const num = (v: string) => (v === '' ? undefined : Number(v));
  const save = () =>
    act.run(async () => {
      const body: Policy = { ...root, routes };
      for (const k of Object.keys(body)) if (body[k] === undefined || body[k] === '') delete body[k];
      if (escalateTo && escalateAfter) body.escalation = [{ contact_point_id: escalateTo, after_seconds: Number(escalateAfter) }];
      await context.request('/policy', { method: 'PUT', body });
      q.refetch();
      return 'Policy saved: it applies from the next evaluation round.';
    });
  return (
    <div style={{ display: 'grid', gap: 16 }}>
      <p className="small" style={{ margin: 0 }}>
        <PortalLink context={context} to="/p/alerts/rules">Alert rules</PortalLink> · <PortalLink context={context} to="/p/alerts/contact-points">Contact points</PortalLink>
      </p>
      <WidgetState query={q}>
        {() => (
          <form aria-label="Notification policy" onSubmit={(e) => { e.preventDefault(); void save(); }} style={{ display: 'grid', gap: 16 }}>
            <fieldset style={grid}>
              <legend>Every alert</legend>
              <Field label="Default contact point" hint="Alerts no child route takes go here. Without one they are not sent.">
                <select value={root.contact_point_id ?? ''} onChange={(e) => setRoot({ ...root, contact_point_id: e.target.value || undefined })}>
                  <option value="">None</option>
                  {(cps.data?.contact_points ?? []).map((c) => <option key={c.id} value={c.id}>{c.name} ({c.type})</option>)}
                </select>
              </Field>
              <Field label="Group by" hint={`Labels, comma-separated; ... groups by every label. Default ${(d.group_by ?? []).join(', ')}.`}>
                <ListInput value={root.group_by} onChange={(group_by) => setRoot({ ...root, group_by })} />
              </Field>
              <Field label="Wait before the first notification (s)" hint={`Default ${d.group_wait_seconds}.`}><input type="number" min={0} value={root.group_wait_seconds ?? ''} onChange={(e) => setRoot({ ...root, group_wait_seconds: num(e.target.value) })} /></Field>
              <Field label="Wait after a change (s)" hint={`Default ${d.group_interval_seconds}.`}><input type="number" min={0} value={root.group_interval_seconds ?? ''} onChange={(e) => setRoot({ ...root, group_interval_seconds: num(e.target.value) })} /></Field>
              <Field label="Repeat while firing (s)" hint={`Default ${d.repeat_interval_seconds}. Acknowledged alerts do not repeat.`}><input type="number" min={0} value={root.repeat_interval_seconds ?? ''} onChange={(e) => setRoot({ ...root, repeat_interval_seconds: num(e.target.value) })} /></Field>
            </fieldset>
            <fieldset style={grid}>
              <legend>Escalation</legend>
              <Field label="If nobody acknowledges within (s)"><input type="number" min={1} value={escalateAfter} onChange={(e) => setEscalateAfter(e.target.value)} /></Field>
              <Field label="Also notify" hint="An on-call rotation is a good target.">
                <select value={escalateTo} onChange={(e) => setEscalateTo(e.target.value)}>
                  <option value="">Nobody</option>
                  {(cps.data?.contact_points ?? []).map((c) => <option key={c.id} value={c.id}>{c.name} ({c.type})</option>)}
                </select>
              </Field>
            </fieldset>
            <RoutesEditor
              routes={routes}
              onChange={setRoutes}
              contactPoints={cps.data?.contact_points ?? []}
              muteTimings={(mutes.data?.mute_timings ?? []).map((m) => m.name)}
              context={context}
            />
            <div style={{ display: 'flex', gap: 12, alignItems: 'center' }}>
              <Button type="submit" variant="primary" disabled={act.busy}>Save policy</Button>
              <ActionStatus error={act.error} done={act.done} />
            </div>
          </form>
        )}
      </WidgetState>
    </div>
  );
}

export default defineWidget({ component: PolicyPage, declaration: policyPage });
