import { Button, defineWidget, formatters, PortalLink, useAction, ActionStatus, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { funnelsPage } from '../../../widgets.ts';
import { stepName } from '../api.ts';
import { extrasOf, type Definition } from './draft.ts';

interface Saved { id: number; name: string; definition: Definition; created_by: string; updated_at: string }

/** Every saved funnel with its steps, and links to edit or delete it and to start a new one. */
function FunnelsPage({ context }: WidgetProps) {
  const fmt = formatters(context.locale, context.tz);
  const q = useWidgetData<{ funnels: Saved[] }>('/saved', {}, { withContext: false, isEmpty: (d) => d.funnels.length === 0 });
  const act = useAction();
  return (
    <div style={{ display: 'grid', gap: 16 }}>
      <p style={{ margin: 0 }}><PortalLink context={context} to="/p/funnels/funnel">New funnel</PortalLink></p>
      <ActionStatus error={act.error} done={act.done} />
      <WidgetState query={q} emptyText="No saved funnel yet. A funnel follows people (or sessions) through steps of events, such as a session started → an agent answered → the answer was accepted; start one with “New funnel”.">
        {({ funnels }) => (
          <table className="orrery-table" aria-label="Saved funnels">
            <thead>
              <tr><th scope="col">Name</th><th scope="col">Steps</th><th scope="col">Counts</th><th scope="col">Within</th><th scope="col">Changed</th><th scope="col"><span className="sr-only">Actions</span></th></tr>
            </thead>
            <tbody>
              {funnels.map((f) => (
                <tr key={f.id}>
                  <td><PortalLink context={context} to={`/p/funnels/funnel?id=${f.id}`}>{f.name}</PortalLink></td>
                  <td>
                    {f.definition.steps.map(stepName).join(' → ')}
                    {extrasOf(f.definition, stepName).map((x) => <div key={x} className="small">{x}</div>)}
                  </td>
                  <td>{f.definition.count_by === 'session' ? 'sessions' : 'people'}</td>
                  <td>{fmt.duration((f.definition.window_seconds ?? 14 * 86_400) * 1000)}</td>
                  <td><time dateTime={f.updated_at}>{fmt.dateTime(f.updated_at)}</time></td>
                  <td>
                    <Button
                      disabled={act.busy}
                      onClick={() => {
                        if (!window.confirm(`Delete the funnel “${f.name}”? Widgets showing it switch to the first saved funnel.`)) return;
                        void act.run(async () => {
                          await context.request(`/saved/${f.id}`, { method: 'DELETE' });
                          q.refetch();
                          return `Deleted “${f.name}”.`;
                        });
                      }}
                    >
                      Delete<span className="sr-only"> {f.name}</span>
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </WidgetState>
    </div>
  );
}

export default defineWidget({ component: FunnelsPage, declaration: funnelsPage });
