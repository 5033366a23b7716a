import { ActionStatus, Button, defineWidget, formatters, PortalLink, useAction, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { cohortsPage } from '../../../widgets.ts';
import { describe, type Criterion } from './criteria.ts';

export interface Cohort { id: string; name: string; description: string; kind: 'static' | 'dynamic'; criteria: Criterion[]; department_id: string | null; department_name?: string | null; size: number; computed_at: string | null; created_at?: string; updated_at: string }

/** Every saved cohort with its size and rule; links to edit it, buttons to recompute or delete it. */
function CohortsPage({ context }: WidgetProps) {
  const fmt = formatters(context.locale, context.tz);
  const q = useWidgetData<{ cohorts: Cohort[] }>('/', {}, { withContext: false, isEmpty: (d) => d.cohorts.length === 0 });
  const act = useAction();
  const writer = context.role !== 'Developer';
  return (
    <div style={{ display: 'grid', gap: 16 }}>
      {writer && <p style={{ margin: 0 }}><PortalLink context={context} to="/p/cohorts/cohort">New cohort</PortalLink></p>}
      <ActionStatus error={act.error} done={act.done} />
      <WidgetState query={q} emptyText="No saved cohort yet. A cohort is a group of people: a list you give, or everyone who meets rules about what they do (e.g. used an agent on 3 of the last 4 weeks), recomputed every hour.">
        {({ cohorts }) => (
          <table className="orrery-table" aria-label="Saved cohorts">
            <thead>
              <tr><th scope="col">Name</th><th scope="col">Who</th><th scope="col">People</th><th scope="col">Computed</th><th scope="col"><span className="sr-only">Actions</span></th></tr>
            </thead>
            <tbody>
              {cohorts.map((c) => (
                <tr key={c.id}>
                  <td>{writer ? <PortalLink context={context} to={`/p/cohorts/cohort?id=${c.id}`}>{c.name}</PortalLink> : c.name}{c.description && <div className="small">{c.description}</div>}</td>
                  <td>{c.kind === 'static' ? 'a list of people' : c.criteria.map(describe).join('; and ')}{c.department_id && <div className="small">in {c.department_name ?? `a deleted department (${c.department_id})`}</div>}</td>
                  <td>{fmt.number(c.size)}</td>
                  <td>{c.computed_at ? <time dateTime={c.computed_at}>{fmt.dateTime(c.computed_at)}</time> : '—'}</td>
                  <td style={{ whiteSpace: 'nowrap' }}>
                    {writer && c.kind === 'dynamic' && (
                      <Button disabled={act.busy} onClick={() => act.run(async () => {
                        const r = await context.request<{ size: number; joined: number; left: number }>(`/${c.id}/recompute`, { method: 'POST', body: {} });
                        q.refetch();
                        return `“${c.name}” recomputed: ${fmt.number(r.size)} people (${fmt.number(r.joined)} joined, ${fmt.number(r.left)} left).`;
                      })}>Recompute<span className="sr-only"> {c.name}</span></Button>
                    )}{' '}
                    {writer && (
                      <Button disabled={act.busy} onClick={() => {
                        if (!window.confirm(`Delete the cohort “${c.name}” with its members and history?`)) return;
                        void act.run(async () => {
                          await context.request(`/${c.id}`, { method: 'DELETE' });
                          q.refetch();
                          return `Deleted “${c.name}”.`;
                        });
                      }}>Delete<span className="sr-only"> {c.name}</span></Button>
                    )}
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

export default defineWidget({ component: CohortsPage, declaration: cohortsPage });
