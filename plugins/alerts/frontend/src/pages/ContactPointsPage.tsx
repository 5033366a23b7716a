import { useState } from 'react';
import { Button, defineWidget, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { contactPointsPage } from '../../../widgets.ts';
import { ActionStatus, Field, grid, PortalLink, useAction } from './ui.tsx';

interface ContactPoint { id: string; name: string; type: string; settings: Record<string, unknown> & { has_secret?: boolean } }
type Type = 'webhook' | 'slack' | 'email' | 'in_app' | 'on_call';
const TYPES: Record<Type, string> = { webhook: 'Webhook (signed JSON)', slack: 'Slack incoming webhook', email: 'Email', in_app: 'In-app notification', on_call: 'On-call rotation (in-app or email)' };
const KNOWN: Record<string, string> = { ...TYPES, org_slack: 'Org Slack (notification settings)', org_webhook: 'Org webhook (notification settings)' };

function where(cp: ContactPoint): string {
  const s = cp.settings;
  if (typeof s.url === 'string') return s.url + (s.has_secret ? ' (signed)' : '');
  if (Array.isArray(s.addresses)) return (s.addresses as string[]).join(', ');
  if (Array.isArray(s.user_ids)) return `${(s.user_ids as string[]).length} people${cp.type === 'on_call' ? `, turns of ${Number(s.period_days ?? 7)} days, ${s.channel === 'email' ? 'by email' : 'in-app'}` : ''}`;
  return 'the org’s notification settings';
}

/** Contact points: the list with a test button, and a form for a new one with message templates and their preview. */
function ContactPointsPage({ context }: WidgetProps) {
  const q = useWidgetData<{ contact_points: ContactPoint[] }>('/contact-points', {}, { withContext: false, isEmpty: (d) => d.contact_points.length === 0 });
  const act = useAction();
  const [type, setType] = useState<Type>('webhook');
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [secret, setSecret] = useState('');
  const [people, setPeople] = useState('');
  const [rotationStart, setRotationStart] = useState('');
  const [periodDays, setPeriodDays] = useState('7');
  const [onCallChannel, setOnCallChannel] = useState<'in_app' | 'email'>('in_app');
  const [title, setTitle] = useState('');
  const [text, setText] = useState('');
  const [rendered, setRendered] = useState<{ title: string | null; text: string | null } | null>(null);

  const settings = () => {
    const s: Record<string, unknown> = {};
    if (type === 'webhook' || type === 'slack') s.url = url.trim();
    if (type === 'webhook' && secret) s.secret = secret;
    if (type === 'email') s.addresses = people.split(',').map((x) => x.trim()).filter(Boolean);
    if (type === 'in_app' || type === 'on_call') s.user_ids = people.split(',').map((x) => x.trim()).filter(Boolean);
    if (type === 'on_call') {
      s.rotation_start = rotationStart ? new Date(rotationStart).toISOString() : undefined;
      s.period_days = Number(periodDays);
      if (onCallChannel === 'email') s.channel = 'email';
    }
    if (title) s.title_template = title;
    if (text) s.text_template = text;
    return s;
  };

  return (
    <div style={{ display: 'grid', gap: 16 }}>
      <p className="small" style={{ margin: 0 }}><PortalLink context={context} to="/p/alerts/rules">Alert rules</PortalLink></p>
      <ActionStatus error={act.error} done={act.done} />
      <WidgetState query={q} emptyText="No contact points yet: add one below, then point a rule or the notification policy at it.">
        {({ contact_points }) => (
          <table className="orrery-table" aria-label="Contact points">
            <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Sends to</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {contact_points.map((cp) => (
                <tr key={cp.id}>
                  <td>{cp.name}</td>
                  <td>{KNOWN[cp.type] ?? cp.type}{cp.settings.title_template || cp.settings.text_template ? ' · templated' : ''}</td>
                  <td style={{ wordBreak: 'break-all' }}>{where(cp)}</td>
                  <td style={{ whiteSpace: 'nowrap' }}>
                    {context.role === 'Admin' && (
                      <Button disabled={act.busy} onClick={() => act.run(async () => { await context.request('/test', { method: 'POST', body: { contact_point_id: cp.id } }); return `A test notification to ${cp.name} is on its way.`; })}>
                        Send test<span className="sr-only"> to {cp.name}</span>
                      </Button>
                    )}{' '}
                    <Button variant="quiet" disabled={act.busy} onClick={() => act.run(async () => { await context.request(`/contact-points/${cp.id}`, { method: 'DELETE' }); q.refetch(); return `${cp.name} deleted.`; })}>
                      Delete<span className="sr-only"> {cp.name}</span>
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </WidgetState>

      <form
        aria-labelledby="new-cp"
        style={{ display: 'grid', gap: 12 }}
        onSubmit={(e) => {
          e.preventDefault();
          void act.run(async () => {
            await context.request('/contact-points', { method: 'POST', body: { name, type, settings: settings() } });
            q.refetch();
            setName('');
            return `Contact point ${name} added.`;
          });
        }}
      >
        <h2 id="new-cp" style={{ margin: 0, fontSize: '1.1em' }}>New contact point</h2>
        <div style={grid}>
          <Field label="Name"><input required value={name} onChange={(e) => setName(e.target.value)} /></Field>
          <Field label="Type">
            <select value={type} onChange={(e) => setType(e.target.value as Type)}>
              {Object.entries(TYPES).map(([k, v]) => <option key={k} value={k}>{v}</option>)}
            </select>
          </Field>
          {(type === 'webhook' || type === 'slack') && <Field label="URL"><input required type="url" value={url} onChange={(e) => setUrl(e.target.value)} /></Field>}
          {type === 'webhook' && <Field label="Signing secret" hint="Optional; at least 8 characters. Receivers check X-Orrery-Signature."><input type="password" value={secret} onChange={(e) => setSecret(e.target.value)} /></Field>}
          {type === 'email' && <Field label="Addresses" hint="Comma-separated."><input required value={people} onChange={(e) => setPeople(e.target.value)} /></Field>}
          {(type === 'in_app' || type === 'on_call') && <Field label="User ids" hint={type === 'on_call' ? 'In the order of their turns, comma-separated.' : 'Comma-separated.'}><input required value={people} onChange={(e) => setPeople(e.target.value)} /></Field>}
          {type === 'on_call' && (
            <>
              <Field label="First turn starts" hint="In your time zone."><input required type="datetime-local" value={rotationStart} onChange={(e) => setRotationStart(e.target.value)} /></Field>
              <Field label="Turn length (days)"><input type="number" min={0.01} step="any" value={periodDays} onChange={(e) => setPeriodDays(e.target.value)} /></Field>
              <Field label="Notify the person on call by" hint="Email goes by SMTP to the address the organization's directory holds for them.">
                <select value={onCallChannel} onChange={(e) => setOnCallChannel(e.target.value as 'in_app' | 'email')}>
                  <option value="in_app">In-app notification</option>
                  <option value="email">Email</option>
                </select>
              </Field>
            </>
          )}
        </div>
        <details>
          <summary>Message template (optional)</summary>
          <div style={{ display: 'grid', gap: 8, marginTop: 8 }}>
            <Field label="Title" hint="{{ alertname }}, {{ status }}, {{ count_firing }}, {{ commonLabels.team }}"><input value={title} onChange={(e) => setTitle(e.target.value)} /></Field>
            <Field label="Text" hint="{{#firing}}- {{ labels.agent_name }}: {{ annotations.summary }} {{/firing}} repeats per firing alert.">
              <textarea rows={4} value={text} onChange={(e) => setText(e.target.value)} />
            </Field>
            <div>
              <Button onClick={() => act.run(async () => { setRendered(await context.request('/contact-points/render', { method: 'POST', body: { ...(title ? { title_template: title } : {}), ...(text ? { text_template: text } : {}) } })); })}>Preview the message</Button>
            </div>
            {rendered && (
              <div aria-live="polite" style={{ border: '1px solid var(--border, #ccc)', padding: 8, borderRadius: 4, whiteSpace: 'pre-wrap' }}>
                <strong>{rendered.title ?? '(default title)'}</strong>
                <div>{rendered.text ?? '(default text)'}</div>
              </div>
            )}
          </div>
        </details>
        <div><Button type="submit" variant="primary" disabled={act.busy}>Add contact point</Button></div>
      </form>
    </div>
  );
}

export default defineWidget({ component: ContactPointsPage, declaration: contactPointsPage });
