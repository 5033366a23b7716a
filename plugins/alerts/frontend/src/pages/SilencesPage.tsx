import { useState } from 'react';
import { Button, defineWidget, formatters, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { silencesPage } from '../../../widgets.ts';
import { ActionStatus, Field, grid, PortalLink, useAction } from './ui.tsx';

interface Silence { id: string; matchers: Array<{ label: string; op: string; value: string }>; starts_at: string; ends_at: string; comment: string; active: boolean }

/** Silences: the list (active first) with an expire button, and a form for a new one. */
function SilencesPage({ context }: WidgetProps) {
  const fmt = formatters(context.locale, context.tz);
  const q = useWidgetData<{ silences: Silence[] }>('/silences', {}, { withContext: false, isEmpty: (d) => d.silences.length === 0 });
  const act = useAction();
  const [label, setLabel] = useState('alertname');
  const [op, setOp] = useState('=');
  const [value, setValue] = useState('');
  const [hours, setHours] = useState('2');
  const [comment, setComment] = useState('');
  return (
    <div style={{ display: 'grid', gap: 16 }}>
      <p className="small" style={{ margin: 0 }}><PortalLink context={context} to="/p/alerts/rules">Alert rules</PortalLink></p>
      <form
        aria-labelledby="new-silence"
        style={{ display: 'grid', gap: 12 }}
        onSubmit={(e) => {
          e.preventDefault();
          void act.run(async () => {
            const starts = new Date();
            const ends = new Date(starts.getTime() + Number(hours) * 3_600_000);
            await context.request('/silences', { method: 'POST', body: { matchers: [{ label, op, value }], starts_at: starts.toISOString(), ends_at: ends.toISOString(), comment } });
            q.refetch();
            return `Alerts with ${label} ${op} ${value} are silenced until ${fmt.dateTime(ends)}.`;
          });
        }}
      >
        <h2 id="new-silence" style={{ margin: 0, fontSize: '1.1em' }}>Silence alerts</h2>
        <div style={grid}>
          <Field label="Label"><input required value={label} onChange={(e) => setLabel(e.target.value)} /></Field>
          <Field label="Match">
            <select value={op} onChange={(e) => setOp(e.target.value)}>
              <option value="=">equals</option><option value="!=">does not equal</option><option value="=~">matches the regex</option><option value="!~">does not match the regex</option>
            </select>
          </Field>
          <Field label="Value"><input required value={value} onChange={(e) => setValue(e.target.value)} /></Field>
          <Field label="For (hours)"><input type="number" min={0.05} step="any" value={hours} onChange={(e) => setHours(e.target.value)} /></Field>
          <Field label="Why"><input required value={comment} onChange={(e) => setComment(e.target.value)} /></Field>
        </div>
        <div><Button type="submit" variant="primary" disabled={act.busy}>Silence</Button></div>
      </form>
      <ActionStatus error={act.error} done={act.done} />
      <WidgetState query={q} emptyText="Nothing is silenced. A silence stops notifications for matching alerts for a while; evaluation and history go on.">
        {({ silences }) => (
          <table className="orrery-table" aria-label="Silences">
            <thead><tr><th scope="col">Matches</th><th scope="col">From</th><th scope="col">Until</th><th scope="col">Why</th><th scope="col">Status</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {[...silences].sort((a, b) => Number(b.active) - Number(a.active)).map((s) => (
                <tr key={s.id}>
                  <td>{s.matchers.map((m) => `${m.label} ${m.op} ${m.value}`).join(', ')}</td>
                  <td><time dateTime={s.starts_at}>{fmt.dateTime(s.starts_at)}</time></td>
                  <td><time dateTime={s.ends_at}>{fmt.dateTime(s.ends_at)}</time></td>
                  <td>{s.comment}</td>
                  <td>{s.active ? 'Active' : Date.parse(s.starts_at) > Date.now() ? 'Scheduled' : 'Expired'}</td>
                  <td>
                    {(s.active || Date.parse(s.starts_at) > Date.now()) && (
                      <Button disabled={act.busy} onClick={() => act.run(async () => { await context.request(`/silences/${s.id}`, { method: 'DELETE' }); q.refetch(); return 'Silence expired.'; })}>
                        Expire<span className="sr-only"> the silence on {s.matchers.map((m) => m.value).join(', ')}</span>
                      </Button>
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

export default defineWidget({ component: SilencesPage, declaration: silencesPage });
