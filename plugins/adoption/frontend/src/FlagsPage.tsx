import { useState } from 'react';
import { Button, defineWidget, formatters, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { flagsPage } from '../../widgets.ts';

type Kind = 'struggling' | 'slipping' | 'not_started' | 'light_use';
/** The reasons it was raised for are worth a line only when they were other triggers than today's (not only other values). */
const changedTriggers = (fl: { triggers: string[]; latest_triggers: string[] | null }) =>
  !!fl.latest_triggers && [...fl.latest_triggers].sort().join() !== [...fl.triggers].sort().join();

interface Flag { id: string; email: string | null; display_name: string | null; user_id: string; raised_day: string; why: string[]; raised_why?: string[]; triggers: string[]; latest_triggers: string[] | null; kind: Kind; level: 'high' | 'medium' | 'low'; severity: number; pending: string | null }
interface Answer { flags: Flag[]; total: number; by_kind: Record<Kind, number>; pending: number }
interface Options { kind: string; pending: string; sort: string }

const KINDS: Array<{ id: Kind; label: string; hint: string }> = [
  { id: 'struggling', label: 'Struggling', hint: 'errors and failed workflows' },
  { id: 'slipping', label: 'Slipping', hint: 'score falling, bottom of the department' },
  { id: 'not_started', label: 'Not started', hint: 'no use at all' },
  { id: 'light_use', label: 'Light use', hint: 'below the usage threshold' },
];
const PAGE = 50;

/**
 * Every open support flag the caller may see, most urgent first, filterable by kind, with the
 * flags a back-fill or a threshold change is holding: an Admin notifies those people (and their
 * managers) now, or releases the flags without telling anyone. Filters live in the URL.
 */
function FlagsPage({ context, options }: WidgetProps<Options>) {
  const f = formatters(context.locale, context.tz);
  const [shown, setShown] = useState(PAGE);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const kind = KINDS.some((k) => k.id === options.kind) ? (options.kind as Kind) : null;
  const pendingOnly = options.pending === 'true';
  const q = useWidgetData<Answer>(
    '/flags',
    {
      status: 'open',
      sort: options.sort === 'newest' ? 'newest' : 'severity',
      limit: shown,
      ...(kind ? { kind } : {}),
      ...(pendingOnly ? { pending: true } : {}),
      ...(context.department ? { department_id: context.department.id } : {}),
    },
    { withContext: false, live: ['flags'], liveThrottleMs: 1000, isEmpty: (d) => !d.flags.length && !d.pending },
  );
  const set = (patch: Partial<Options>) => context.setOptions({ ...options, ...patch });

  const confirm = async (notify: boolean) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const r = await context.request<{ confirmed: number; notified: number }>('/flags/confirm', { method: 'POST', body: { notify } });
      setDone(notify ? `${f.number(r.confirmed)} flags confirmed; ${f.number(r.notified)} notifications sent.` : `${f.number(r.confirmed)} flags released without notifying anyone.`);
      if (pendingOnly) set({ pending: '' });
      q.refetch();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div style={{ display: 'grid', gap: 12 }}>
      <div style={{ display: 'flex', flexWrap: 'wrap', gap: 12, alignItems: 'end' }}>
        <label style={{ display: 'grid', gap: 4 }}>
          Kind
          <select value={kind ?? ''} onChange={(e) => set({ kind: e.target.value })}>
            <option value="">Every kind</option>
            {KINDS.map((k) => <option key={k.id} value={k.id}>{k.label} ({k.hint})</option>)}
          </select>
        </label>
        <label style={{ display: 'grid', gap: 4 }}>
          Order
          <select value={options.sort === 'newest' ? 'newest' : 'severity'} onChange={(e) => set({ sort: e.target.value })}>
            <option value="severity">Most urgent first</option>
            <option value="newest">Newest first</option>
          </select>
        </label>
        <label style={{ display: 'flex', gap: 6, alignItems: 'center' }}>
          <input type="checkbox" checked={pendingOnly} onChange={(e) => set({ pending: e.target.checked ? 'true' : '' })} />
          Only flags waiting for confirmation
        </label>
      </div>
      {done && <p role="status" className="orrery-state--ok">{done}</p>}
      {error && <p role="alert" className="orrery-state--error">{error}</p>}
      <WidgetState query={q} emptyText={kind || pendingOnly ? 'No open flags match these filters.' : 'Nobody needs support right now.'}>
        {(d) => (
          <>
            {d.pending > 0 && context.role === 'Admin' && (
              <section aria-labelledby="held-title" style={{ border: '1px solid #f5c26b', background: '#fffaeb', borderRadius: 8, padding: 12 }}>
                <h2 id="held-title" style={{ margin: '0 0 4px', fontSize: '1rem' }}>
                  {d.pending === 1 ? 'One flag waits' : `${f.number(d.pending)} flags wait`} for your confirmation
                </h2>
                <p style={{ margin: '0 0 8px' }}>
                  They were raised by a back-fill or a threshold change, so nobody has been told yet. Notify the people and their managers now, or release the flags without a notification.
                </p>
                <div style={{ display: 'flex', gap: 8 }}>
                  <Button variant="primary" disabled={busy} onClick={() => void confirm(true)}>Notify them now</Button>
                  <Button disabled={busy} onClick={() => void confirm(false)}>Release without notifying</Button>
                </div>
              </section>
            )}
            <p style={{ margin: 0 }}>
              {KINDS.map((k) => `${k.label}: ${f.number(d.by_kind[k.id] ?? 0)}`).join(' · ')}
            </p>
            <table className="orrery-table" style={{ width: '100%', textAlign: 'left' }}>
              <caption className="sr-only">People needing support, {options.sort === 'newest' ? 'newest first' : 'most urgent first'}</caption>
              <thead>
                <tr style={{ textAlign: 'left' }}><th scope="col">Person</th><th scope="col">Kind</th><th scope="col">Severity</th><th scope="col">Since</th><th scope="col">Why</th></tr>
              </thead>
              <tbody>
                {d.flags.map((fl) => (
                  <tr key={fl.id} style={{ verticalAlign: 'top' }}>
                    <th scope="row" style={{ fontWeight: 500, textAlign: 'left' }}>
                      {fl.display_name || fl.email || fl.user_id}
                      {fl.display_name && fl.email && <span className="muted small" style={{ display: 'block', fontWeight: 400 }}>{fl.email}</span>}
                      {fl.pending && <span className="muted small"> (not yet notified)</span>}
                    </th>
                    <td>{KINDS.find((k) => k.id === fl.kind)?.label ?? fl.kind}</td>
                    <td>{fl.level}</td>
                    <td>{f.date(fl.raised_day)}</td>
                    <td>
                      <ul style={{ margin: 0, paddingLeft: 18 }}>{fl.why.map((w) => <li key={w}>{w}</li>)}</ul>
                      {fl.raised_why && changedTriggers(fl) && <div className="muted small">When raised: {fl.raised_why.join('; ')}</div>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {d.total > d.flags.length && (
              <Button onClick={() => setShown((n) => n + PAGE)}>Show {f.number(Math.min(PAGE, d.total - d.flags.length))} more of {f.number(d.total - d.flags.length)}</Button>
            )}
          </>
        )}
      </WidgetState>
    </div>
  );
}

export default defineWidget<Options>({ component: FlagsPage, declaration: flagsPage });
