import { useState, type FormEvent } from 'react';
import { Button, defineWidget, formatters, useWidgetData, WidgetState, type WidgetContext, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { reportsPage } from '../../widgets.ts';

type Kind = 'dashboard' | 'support' | 'executive';
type Frequency = 'daily' | 'weekly' | 'monthly' | 'last_friday';
interface Schedule { frequency: Frequency; time: string; tz?: string; weekday?: number; day_of_month?: number }
interface Run { id: string; trigger: string; status: string; started_at: string; finished_at: string | null; error: string | null; opens: number; delivered: Array<{ channel: string; to?: string; ok: boolean; error?: string }> | null }
interface Report {
  id: string;
  name: string;
  kind: Kind;
  definition: { range_days: number; tz: string; recipients: string[]; channels: string[]; attach: string[] };
  schedule: Schedule | null;
  skip_when_empty: boolean;
  next_run_at: string | null;
  last_run: Run | null;
}
interface Member { id: string; email: string; display_name: string; role: string }
interface Section { title: string; columns: string[]; rows: Array<Array<string | number | null>> }
interface Engagement { runs: number; recipients: number; opened: number; open_rate: number | null }
interface Options { report: string; view: string }
interface FullReport extends Report { definition: Report['definition'] & { csv?: { event_type?: string; fields?: string } | null; paper?: string; department_id?: string | null } }

const KINDS: Array<{ id: Kind; label: string; hint: string }> = [
  { id: 'dashboard', label: 'Dashboard', hint: 'your dashboard as PDF, events by type in the message' },
  { id: 'support', label: 'Support', hint: 'people needing support by department, the trend, who is flagged' },
  { id: 'executive', label: 'Executive summary', hint: 'key figures and their change, unusual days' },
];
const CHANNELS = [{ id: 'email', label: 'Email' }, { id: 'in_app', label: 'In the portal' }, { id: 'slack', label: 'Slack' }, { id: 'webhook', label: 'Webhook' }];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const API = '/api/v1/reports';

function scheduleText(s: Schedule | null): string {
  if (!s) return 'Not scheduled (send now only)';
  const at = `at ${s.time}${s.tz ? ` ${s.tz}` : ''}`;
  if (s.frequency === 'daily') return `Every day ${at}`;
  if (s.frequency === 'weekly') return `Every ${WEEKDAYS[s.weekday ?? 1]} ${at}`;
  if (s.frequency === 'monthly') return `Monthly on day ${s.day_of_month ?? 1} ${at}`;
  return `Last Friday of the month ${at}`;
}

/**
 * Reports: the caller's reports (an Admin: the org's) with their schedule, next run, last run
 * and open rate; a form to create one; per report the recipients, a preview of what it says,
 * the history of runs and "Send now". The report shown and the form live in the URL.
 */
function ReportsPage({ context, options }: WidgetProps<Options>) {
  const f = formatters(context.locale, context.tz);
  const list = useWidgetData<{ reports: Report[] }>(API, {}, { withContext: false, isEmpty: () => false });
  const set = (patch: Partial<Options>) => context.setOptions({ ...options, ...patch });
  const reports = list.data?.reports ?? [];
  const selected = reports.find((r) => r.id === options.report) ?? null;

  return (
    <div style={{ display: 'grid', gap: 16 }}>
      <div style={{ display: 'flex', gap: 8, flexWrap: 'wrap' }}>
        <Button variant="primary" onClick={() => set({ view: 'new', report: '' })} aria-pressed={options.view === 'new'}>New report</Button>
      </div>
      {options.view === 'new' && <NewReport context={context} onDone={(id) => { list.refetch(); set({ view: '', report: id ?? '' }); }} />}
      <section aria-labelledby="reports-list">
        <h2 id="reports-list">Your reports</h2>
        <WidgetState query={list}>
          {() =>
            reports.length === 0 ? (
              <p className="orrery-state orrery-state--empty" role="status">
                No reports yet. A report sends your dashboard, the support report or an executive summary by email, Slack or webhook, now or on a schedule. Choose “New report” to make one.
              </p>
            ) : (
              <table className="orrery-table">
                <caption className="orrery-sr-only">Reports, their schedule, next run, last run and how many recipients opened them</caption>
                <thead>
                  <tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Schedule</th><th scope="col">Next run</th><th scope="col">Last run</th><th scope="col"><span className="orrery-sr-only">Open</span></th></tr>
                </thead>
                <tbody>
                  {reports.map((r) => (
                    <tr key={r.id} aria-current={r.id === options.report ? 'true' : undefined}>
                      <th scope="row">{r.name}</th>
                      <td>{KINDS.find((k) => k.id === r.kind)?.label ?? r.kind}</td>
                      <td>{scheduleText(r.schedule)}</td>
                      <td>{r.next_run_at ? f.dateTime(r.next_run_at) : '—'}</td>
                      <td>{r.last_run ? `${r.last_run.status}, ${f.dateTime(r.last_run.started_at)}` : 'never sent'}</td>
                      <td><Button onClick={() => set({ report: r.id, view: '' })}>Details<span className="orrery-sr-only"> of {r.name}</span></Button></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          }
        </WidgetState>
      </section>
      {selected && options.view === 'edit' && (
        <NewReport key={`edit-${selected.id}`} context={context} initial={selected as FullReport} onDone={() => { list.refetch(); set({ view: '' }); }} />
      )}
      {selected && options.view !== 'edit' && <ReportDetails key={selected.id} context={context} report={selected} onEdit={() => set({ view: 'edit' })} onChanged={() => list.refetch()} onDeleted={() => { list.refetch(); set({ report: '' }); }} />}
    </div>
  );
}

function ReportDetails({ context, report, onEdit, onChanged, onDeleted }: { context: WidgetContext<Options>; report: Report; onEdit(): void; onChanged(): void; onDeleted(): void }) {
  const f = formatters(context.locale, context.tz);
  const runs = useWidgetData<{ runs: Run[] }>(`${API}/${report.id}/runs`, {}, { withContext: false, isEmpty: () => false });
  const opens = useWidgetData<Engagement>(`${API}/${report.id}/opens`, {}, { withContext: false, isEmpty: () => false });
  const members = useWidgetData<{ members: Member[] }>(`${API}/recipients`, {}, { withContext: false, isEmpty: () => false });
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [preview, setPreview] = useState<{ content: { highlights: string[]; sections: Section[] } } | null>(null);
  const who = (id: string) => members.data?.members.find((m) => m.id === id)?.email ?? id;

  const send = async () => {
    setBusy(true);
    setMessage(null);
    try {
      const run = await context.request<Run>(`${API}/${report.id}/send`, { method: 'POST' });
      setMessage(run.status === 'sent' ? `Sent to ${run.delivered?.filter((d) => d.ok).length ?? 0} destinations.` : `Run ${run.status}${run.error ? `: ${run.error}` : ''}.`);
      runs.refetch();
      opens.refetch();
      onChanged();
    } catch (e) {
      setMessage(`Could not send: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  const showPreview = async () => {
    setBusy(true);
    try {
      setPreview(await context.request(`${API}/${report.id}/preview`));
    } catch (e) {
      setMessage(`Could not preview: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    if (!window.confirm(`Delete the report “${report.name}” and its history?`)) return;
    await context.request(`${API}/${report.id}`, { method: 'DELETE' });
    onDeleted();
  };

  return (
    <section aria-labelledby="report-details" style={{ display: 'grid', gap: 12 }}>
      <h2 id="report-details">{report.name}</h2>
      <dl style={{ display: 'grid', gridTemplateColumns: 'max-content 1fr', gap: '4px 16px', margin: 0 }}>
        <dt>Kind</dt><dd>{KINDS.find((k) => k.id === report.kind)?.label ?? report.kind}</dd>
        <dt>Schedule</dt><dd>{scheduleText(report.schedule)}</dd>
        <dt>Period</dt><dd>the {report.definition.range_days} {report.definition.range_days === 1 ? 'day' : 'days'} before each run</dd>
        <dt>Recipients</dt><dd>{report.definition.recipients.map(who).join(', ')}</dd>
        <dt>Channels</dt><dd>{report.definition.channels.join(', ')}{report.definition.attach.length ? ` · attached: ${report.definition.attach.join(', ').toUpperCase()}` : ''}</dd>
        <dt>Opened</dt>
        <dd>{opens.data ? (opens.data.open_rate === null ? 'not sent yet' : `${f.percent(opens.data.open_rate)} (${opens.data.opened} of ${opens.data.recipients} recipients over ${opens.data.runs} runs)`) : '…'}</dd>
      </dl>
      <div style={{ display: 'flex', gap: 8, flexWrap: 'wrap' }}>
        <Button variant="primary" onClick={send} disabled={busy}>Send now</Button>
        <Button onClick={showPreview} disabled={busy}>Preview</Button>
        <Button onClick={onEdit} disabled={busy}>Edit</Button>
        <Button onClick={remove} disabled={busy}>Delete</Button>
      </div>
      <p role="status" aria-live="polite">{busy ? 'Working…' : message}</p>
      {preview && (
        <section aria-label="Preview" style={{ display: 'grid', gap: 8 }}>
          <h3>Preview</h3>
          <ul>{preview.content.highlights.map((h) => <li key={h}>{h}</li>)}</ul>
          {preview.content.sections.map((s) => (
            <table key={s.title} className="orrery-table">
              <caption>{s.title}</caption>
              <thead><tr>{s.columns.map((c) => <th key={c} scope="col">{c}</th>)}</tr></thead>
              <tbody>
                {s.rows.length === 0 && <tr><td colSpan={s.columns.length}>Nothing in this period.</td></tr>}
                {s.rows.map((r, i) => <tr key={i}>{r.map((v, j) => <td key={j}>{v === null ? '—' : typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? f.dateTime(v) : String(v)}</td>)}</tr>)}
              </tbody>
            </table>
          ))}
        </section>
      )}
      <h3>History</h3>
      <WidgetState query={runs}>
        {(d) =>
          d.runs.length === 0 ? (
            <p className="orrery-state orrery-state--empty" role="status">Not sent yet. “Send now” sends it once as a test; a schedule sends it on its own.</p>
          ) : (
            <table className="orrery-table">
              <caption className="orrery-sr-only">Runs of {report.name}, latest first</caption>
              <thead><tr><th scope="col">Started</th><th scope="col">Trigger</th><th scope="col">Status</th><th scope="col">Opens</th><th scope="col">Detail</th></tr></thead>
              <tbody>
                {d.runs.map((r) => (
                  <tr key={r.id}>
                    <th scope="row">{f.dateTime(r.started_at)}</th>
                    <td>{r.trigger === 'manual' ? 'send now' : 'schedule'}</td>
                    <td>{r.status}</td>
                    <td>{r.opens}</td>
                    <td>{r.error ?? (r.delivered ? r.delivered.map((x) => `${x.channel}${x.to ? ` ${who(x.to)}` : ''}: ${x.ok ? 'ok' : x.error ?? 'failed'}`).join('; ') : '')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </WidgetState>
    </section>
  );
}

/** The report form: a new report, or (with `initial`) the one shown, replaced with PUT. */
function NewReport({ context, onDone, initial }: { context: WidgetContext<Options>; onDone(id?: string): void; initial?: FullReport }) {
  const members = useWidgetData<{ members: Member[] }>(`${API}/recipients`, {}, { withContext: false, isEmpty: () => false });
  const [name, setName] = useState(initial?.name ?? '');
  const [kind, setKind] = useState<Kind>(initial?.kind ?? 'dashboard');
  const [frequency, setFrequency] = useState<Frequency | ''>(initial ? initial.schedule?.frequency ?? '' : 'weekly');
  const [weekday, setWeekday] = useState(initial?.schedule?.weekday ?? 1);
  const [dayOfMonth, setDayOfMonth] = useState(initial?.schedule?.day_of_month ?? 1);
  const [time, setTime] = useState(initial?.schedule?.time ?? '08:30');
  const [tz, setTz] = useState(initial?.schedule?.tz ?? initial?.definition.tz ?? context.tz);
  const [recipients, setRecipients] = useState<string[]>(initial?.definition.recipients ?? [context.user.id]);
  const [channels, setChannels] = useState<string[]>(initial?.definition.channels ?? ['email']);
  const [attach, setAttach] = useState<string[]>(initial?.definition.attach ?? ['pdf']);
  const [skip, setSkip] = useState(initial?.skip_when_empty ?? false);
  const [error, setError] = useState<string | null>(null);
  const toggle = (list: string[], v: string, on: boolean) => (on ? [...new Set([...list, v])] : list.filter((x) => x !== v));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const schedule = frequency
      ? { frequency, time, tz, ...(frequency === 'weekly' ? { weekday } : {}), ...(frequency === 'monthly' ? { day_of_month: dayOfMonth } : {}) }
      : null;
    try {
      const body = { name, kind, schedule, tz, recipients, channels, attach, skip_when_empty: skip };
      if (initial) {
        // what the form does not show is kept as it was
        const d = initial.definition;
        const keep = { range_days: d.range_days, ...(d.paper ? { paper: d.paper } : {}), ...(d.department_id ? { department_id: d.department_id } : {}), ...(d.csv && attach.includes('csv') ? { csv: d.csv } : {}) };
        await context.request<Report>(`${API}/${initial.id}`, { method: 'PUT', body: { ...body, ...keep } });
        onDone(initial.id);
      } else {
        const r = await context.request<Report>(API, { method: 'POST', body });
        onDone(r.id);
      }
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <form onSubmit={submit} aria-labelledby="new-report" style={{ display: 'grid', gap: 12, maxWidth: 720 }}>
      <h2 id="new-report">{initial ? `Edit ${initial.name}` : 'New report'}</h2>
      <label style={{ display: 'grid', gap: 4 }}>Name<input required value={name} onChange={(e) => setName(e.target.value)} /></label>
      <fieldset>
        <legend>Kind</legend>
        {KINDS.map((k) => (
          <label key={k.id} style={{ display: 'block' }}>
            <input type="radio" name="kind" value={k.id} checked={kind === k.id} onChange={() => { setKind(k.id); setAttach(k.id === 'dashboard' ? ['pdf'] : []); }} /> {k.label} <span className="small">({k.hint})</span>
          </label>
        ))}
      </fieldset>
      <div style={{ display: 'grid', gap: 12, gridTemplateColumns: 'repeat(auto-fit, minmax(160px, 1fr))' }}>
        <label style={{ display: 'grid', gap: 4 }}>Schedule
          <select value={frequency} onChange={(e) => setFrequency(e.target.value as Frequency | '')}>
            <option value="">None (send now only)</option>
            <option value="daily">Daily</option>
            <option value="weekly">Weekly</option>
            <option value="monthly">Monthly</option>
            <option value="last_friday">Last Friday of the month</option>
          </select>
        </label>
        {frequency === 'weekly' && (
          <label style={{ display: 'grid', gap: 4 }}>Weekday
            <select value={weekday} onChange={(e) => setWeekday(Number(e.target.value))}>{WEEKDAYS.map((d, i) => <option key={d} value={i}>{d}</option>)}</select>
          </label>
        )}
        {frequency === 'monthly' && (
          <label style={{ display: 'grid', gap: 4 }}>Day of month<input type="number" min={1} max={28} value={dayOfMonth} onChange={(e) => setDayOfMonth(Number(e.target.value))} /></label>
        )}
        {frequency && <label style={{ display: 'grid', gap: 4 }}>Time<input type="time" value={time} onChange={(e) => setTime(e.target.value)} required /></label>}
        <label style={{ display: 'grid', gap: 4 }}>Time zone<input value={tz} onChange={(e) => setTz(e.target.value)} required /></label>
      </div>
      <fieldset>
        <legend>Recipients</legend>
        {members.loading && <p role="status">Loading members…</p>}
        {members.data?.members.map((m) => (
          <label key={m.id} style={{ display: 'block' }}>
            <input type="checkbox" checked={recipients.includes(m.id)} onChange={(e) => setRecipients(toggle(recipients, m.id, e.target.checked))} /> {m.display_name || m.email} <span className="small">({m.email}, {m.role})</span>
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Delivery</legend>
        {CHANNELS.map((c) => (
          <label key={c.id} style={{ marginRight: 12 }}><input type="checkbox" checked={channels.includes(c.id)} onChange={(e) => setChannels(toggle(channels, c.id, e.target.checked))} /> {c.label}</label>
        ))}
        <label style={{ marginRight: 12 }}><input type="checkbox" checked={attach.includes('pdf')} onChange={(e) => setAttach(toggle(attach, 'pdf', e.target.checked))} /> Attach the dashboard as PDF</label>
        <label style={{ marginRight: 12 }}><input type="checkbox" checked={attach.includes('csv')} onChange={(e) => setAttach(toggle(attach, 'csv', e.target.checked))} /> Attach the period's events as CSV</label>
        <label><input type="checkbox" checked={skip} onChange={(e) => setSkip(e.target.checked)} /> Skip when there is nothing to report</label>
      </fieldset>
      {error && <p role="alert">{error}</p>}
      <div style={{ display: 'flex', gap: 8 }}>
        <Button type="submit" variant="primary" disabled={!channels.length}>{initial ? 'Save report' : 'Create report'}</Button>
        <Button onClick={() => onDone()}>Cancel</Button>
      </div>
    </form>
  );
}

export default defineWidget<Options>({ component: ReportsPage, declaration: reportsPage });
