/**
 * `/dashboards`: the named dashboards the user may see (theirs, their departments', the
 * org's), a new one from the template library, and — when a plugin page sends a chart here
 * (`?add=<plugin>/<widget>&options=<json>&title=…`, e.g. the metrics explorer) — a choice of
 * the dashboard to put it on, or a new one with its sharing.
 */
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { formatters } from '@orrery/plugin-sdk/frontend';
import { Link, navigate, useSearch } from '../lib/router.tsx';
import { useSession } from '../lib/session.tsx';
import { newId } from '../lib/ids.ts';
import { findSlot, type DashboardDoc, type DashboardItem } from '../dashboard/layout.ts';
import { namedApi, type NamedSummary, type Share, type Template } from './api.ts';

const scopeLabel = (s: Share, deptName: (id: string) => string) =>
  s.scope === 'private' ? 'Only you' : s.scope === 'org' ? `Everyone (${s.access})` : `${deptName(s.department_id ?? '')} (${s.access})`;

/** The cell a sent chart becomes, placed in the first free slot. */
export function cellFor(ref: string, options: Record<string, unknown>, title: string | null, doc: DashboardDoc, pluginVersion?: string): DashboardItem {
  const { x, y } = findSlot(doc.items, 6, 4);
  return { i: newId(), ref, x, y, w: 6, h: 4, options, ...(title ? { title } : {}), ...(pluginVersion ? { pluginVersion } : {}) } as DashboardItem;
}

export function DashboardsPage() {
  const s = useSession();
  const search = useSearch();
  const [list, setList] = useState<NamedSummary[] | null>(null);
  const [templates, setTemplates] = useState<Template[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [template, setTemplate] = useState('');
  const [scope, setScope] = useState<Share['scope']>('private');
  const [dept, setDept] = useState(s.me.departments[0]?.id ?? '');
  const [access, setAccess] = useState<Share['access']>('view');
  const [target, setTarget] = useState('');
  const [busy, setBusy] = useState(false);
  const fmt = useMemo(() => formatters(s.prefs.locale, s.prefs.tz), [s.prefs.locale, s.prefs.tz]);
  const deptName = (id: string) => s.me.departments.find((d) => d.id === id)?.name ?? 'a department';

  const add = search.get('add');
  const sent = useMemo(() => {
    if (!add) return null;
    try {
      return { ref: add, options: JSON.parse(search.get('options') ?? '{}') as Record<string, unknown>, title: search.get('title') };
    } catch {
      return { ref: add, options: {}, title: search.get('title') };
    }
  }, [add, search]);

  useEffect(() => {
    Promise.all([namedApi.list(), namedApi.templates()]).then(([l, t]) => { setList(l); setTemplates(t); }, (e: Error) => setError(e.message));
  }, []);

  const editable = (list ?? []).filter((d) => d.can_edit);
  const pluginVersion = sent ? s.catalogue.find((e) => e.ref === sent.ref)?.plugin.version : undefined;

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const share = scope === 'department' ? { scope, department_id: dept, access } : { scope, access };
      let d = await namedApi.create({ name: name.trim() || (sent?.title ?? 'Untitled dashboard'), ...(template ? { template } : {}), share });
      if (sent) d = await namedApi.update(d.id, { doc: { ...d.doc, items: [...d.doc.items, cellFor(sent.ref, sent.options, sent.title, d.doc, pluginVersion)] } });
      navigate(`/d/${encodeURIComponent(d.id)}`);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };

  const addToExisting = async () => {
    if (!sent || !target) return;
    setBusy(true);
    try {
      const d = await namedApi.get(target);
      await namedApi.update(d.id, { doc: { ...d.doc, items: [...d.doc.items, cellFor(sent.ref, sent.options, sent.title, d.doc, pluginVersion)] } });
      navigate(`/d/${encodeURIComponent(d.id)}`);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };

  return (
    <div className="page">
      <div className="page__head">
        <div>
          <h1>Dashboards</h1>
          <p className="muted small">Yours, your departments’ and your organization’s. <Link to="/">Your personal dashboard</Link> stays as it was.</p>
        </div>
      </div>
      {error && <p className="notice" role="alert">{error}</p>}

      {sent && (
        <section className="card" aria-labelledby="send-title" style={{ marginBottom: 24 }}>
          <h2 id="send-title">Add “{sent.title || 'chart'}” to a dashboard</h2>
          {editable.length > 0 ? (
            <div className="toolbar" style={{ marginBottom: 12 }}>
              <label>
                Dashboard{' '}
                <select value={target} onChange={(e) => setTarget(e.target.value)}>
                  <option value="">Choose…</option>
                  {editable.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
                </select>
              </label>
              <button type="button" className="btn btn--primary" disabled={!target || busy} onClick={() => void addToExisting()}>Add to this dashboard</button>
            </div>
          ) : <p className="muted small">You have no dashboard you may edit yet: make a new one below.</p>}
        </section>
      )}

      <section className="card" aria-labelledby="new-title" style={{ marginBottom: 24 }}>
        <h2 id="new-title">{sent ? 'Or put it on a new dashboard' : 'New dashboard'}</h2>
        <form onSubmit={(e) => void create(e)} style={{ display: 'grid', gap: 12, gridTemplateColumns: 'repeat(auto-fit, minmax(200px, 1fr))', alignItems: 'start' }}>
          <label style={{ display: 'grid', gap: 4 }}>
            Name
            <input name="name" value={name} onChange={(e) => setName(e.target.value)} placeholder={sent?.title ?? 'e.g. Team health'} maxLength={120} required={!sent} />
          </label>
          {!sent && (
            <label style={{ display: 'grid', gap: 4 }}>
              Start from
              <select name="template" value={template} onChange={(e) => setTemplate(e.target.value)} aria-describedby="template-desc">
                <option value="">An empty dashboard</option>
                {templates.map((t) => <option key={t.id} value={t.id}>{t.name}{t.kind === 'role' ? ' (role default)' : ''}</option>)}
              </select>
              <span id="template-desc" className="small muted">{templates.find((t) => t.id === template)?.description ?? 'Add widgets yourself.'}</span>
            </label>
          )}
          <fieldset style={{ display: 'grid', gap: 4, border: 0, padding: 0, margin: 0 }}>
            <legend style={{ padding: 0, marginBottom: 4 }}>Sharing</legend>
            <select aria-label="Shared with" name="scope" value={scope} onChange={(e) => setScope(e.target.value as Share['scope'])}>
              <option value="private">Only me</option>
              {s.me.departments.length > 0 && <option value="department">A department</option>}
              <option value="org">Everyone in {s.me.org.name}</option>
            </select>
            {scope === 'department' && (
              <select aria-label="Department" name="department" value={dept} onChange={(e) => setDept(e.target.value)}>
                {s.me.departments.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
              </select>
            )}
            {scope !== 'private' && (
              <select aria-label="They may" name="access" value={access} onChange={(e) => setAccess(e.target.value as Share['access'])}>
                <option value="view">They may view</option>
                <option value="edit">They may edit</option>
              </select>
            )}
          </fieldset>
          {/* a blank line where the other fields have their label, so the button sits level with their inputs */}
          <div style={{ display: 'grid', gap: 4 }}>
            <span aria-hidden="true">&nbsp;</span>
            <button type="submit" className="btn btn--primary" disabled={busy}>{sent ? 'Create and add' : 'Create'}</button>
          </div>
        </form>
      </section>

      <section aria-labelledby="list-title">
        <h2 id="list-title">All dashboards you can see</h2>
        {list === null ? (
          <div className="orrery-state orrery-state--loading" role="status"><span className="orrery-spinner" aria-hidden="true" />Loading dashboards…</div>
        ) : list.length === 0 ? (
          <div className="orrery-state"><p>No named dashboards yet. Make one above, from a template or empty; share it with your department or everyone.</p></div>
        ) : (
          <table className="table">
            <thead><tr><th scope="col">Name</th><th scope="col">Shared with</th><th scope="col">Widgets</th><th scope="col">Changed</th><th scope="col"><span className="sr-only">You may</span></th></tr></thead>
            <tbody>
              {list.map((d) => (
                <tr key={d.id}>
                  <td><Link to={`/d/${encodeURIComponent(d.id)}`}>{d.name}</Link>{d.is_owner ? '' : <span className="small muted"> · shared with you</span>}</td>
                  <td>{scopeLabel(d.share, deptName)}</td>
                  <td>{d.widgets}</td>
                  <td><time dateTime={d.updated_at}>{fmt.dateTime(d.updated_at)}</time></td>
                  <td className="small muted">{d.can_edit ? 'edit' : 'view'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
