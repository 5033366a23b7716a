import { PortalLink, type WidgetContext } from '@orrery/plugin-sdk/frontend';

/** What a funnel widget shows before any funnel is saved: where to make one. */
export function NoFunnel({ context }: { context: WidgetContext<any> }) {
  return <p className="muted">No saved funnel yet: <PortalLink context={context} to="/p/funnels/funnel">create one</PortalLink>.</p>;
}
