import { useState } from 'react';
import { Badge, Button, defineWidget, formatters, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { listPage } from '../../../widgets.ts';
import { PortalLink } from './ui.tsx';

interface Experiment {
  id: string;
  key: string;
  status: string;
  created_at: string;
  stopped_at: string | null;
  definition: { name: string; agent_name?: string; workflow_id?: string; unit: string; method: string; variants: Array<{ key: string; weight: number }>; start_at: string; end_at?: string | null };
}
interface Options { status: string }

/** Every experiment: what it tests, its split and method, since when; links to results and the editor. */
function ListPage({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  const canWrite = context.role !== 'Developer';
  const q = useWidgetData<{ experiments: Experiment[] }>('/', options.status ? { status: options.status } : {}, { withContext: false, live: ['experiments'], isEmpty: (d) => d.experiments.length === 0 });
  const [message, setMessage] = useState<string | null>(null);
  return (
    <div style={{ display: 'grid', gap: 12 }}>
      <div style={{ display: 'flex', gap: 12, alignItems: 'end', flexWrap: 'wrap' }}>
        <label style={{ display: 'grid', gap: 4 }}>
          Status
          <select value={options.status} onChange={(e) => context.setOptions({ status: e.target.value })}>
            <option value="">Every experiment</option>
            <option value="running">Running</option>
            <option value="stopped">Stopped</option>
          </select>
        </label>
        {canWrite && <PortalLink context={context} to="/p/experiments/editor">New experiment</PortalLink>}
      </div>
      <div aria-live="polite">{message}</div>
      <WidgetState query={q} emptyText={options.status ? 'No experiment with this status.' : 'No experiments yet. An experiment compares agent versions, prompt templates, models or workflows on the metrics you choose; create one with "New experiment".'}>
        {({ experiments }) => (
          <table className="orrery-table" aria-label="Experiments">
            <thead>
              <tr><th scope="col">Experiment</th><th scope="col">Status</th><th scope="col">Tests</th><th scope="col">Split</th><th scope="col">Method</th><th scope="col">Started</th><th scope="col"><span className="sr-only">Actions</span></th></tr>
            </thead>
            <tbody>
              {experiments.map((e) => {
                const d = e.definition;
                return (
                  <tr key={e.id}>
                    <td><PortalLink context={context} to={`/p/experiments/results?key=${encodeURIComponent(e.key)}`}>{d.name}</PortalLink> <span className="small">({e.key})</span></td>
                    <td>{e.status === 'stopped' ? <Badge>Stopped</Badge> : Date.parse(d.start_at) > Date.now() ? <Badge>Not started</Badge> : d.end_at && Date.parse(d.end_at) <= Date.now() ? <Badge>Ended</Badge> : <Badge tone="info">Running</Badge>}</td>
                    <td>{d.workflow_id ? `workflow ${d.workflow_id}` : d.agent_name ? `agent ${d.agent_name}` : '—'} · by {d.unit}</td>
                    <td>{d.variants.map((v) => `${v.key} ${v.weight}%`).join(' / ')}</td>
                    <td>{d.method}</td>
                    <td><time dateTime={d.start_at}>{fmt.dateTime(d.start_at)}</time></td>
                    <td style={{ whiteSpace: 'nowrap' }}>
                      <PortalLink context={context} to={`/p/experiments/results?key=${encodeURIComponent(e.key)}`}>Results<span className="sr-only"> of {d.name}</span></PortalLink>
                      {canWrite && e.status !== 'stopped' && (
                        <>
                          {' · '}
                          <PortalLink context={context} to={`/p/experiments/editor?key=${encodeURIComponent(e.key)}`}>Edit<span className="sr-only"> {d.name}</span></PortalLink>{' '}
                          <Button
                            variant="quiet"
                            onClick={async () => {
                              if (!window.confirm(`Stop ${d.name}? Results end now and no more exposures are recorded.`)) return;
                              try {
                                await context.request(`/${encodeURIComponent(e.key)}/stop`, { method: 'POST', body: {} });
                                setMessage(`${d.name} stopped.`);
                                q.refetch();
                              } catch (err) {
                                setMessage((err as Error).message);
                              }
                            }}
                          >
                            Stop<span className="sr-only"> {d.name}</span>
                          </Button>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </WidgetState>
    </div>
  );
}

export default defineWidget<Options>({ component: ListPage, declaration: listPage });
