/**
 * `/d/<id>`: one named dashboard — its grid (as the personal dashboard's), a switcher to the
 * others, a filters bar (department, agent) every widget follows, an auto-refresh interval on
 * top of live updates, and a share dialog for the owner. Members it is shared with to view
 * see the same grid without the editing controls.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import ReactGridLayout, { type Layout } from 'react-grid-layout';
import { preloadCharts } from '@orrery/plugin-sdk/frontend';
import { Link, navigate } from '../lib/router.tsx';
import { useSession } from '../lib/session.tsx';
import { newId } from '../lib/ids.ts';
import type { CatalogueEntry } from '../lib/plugins.ts';
import { Icon } from '../shell/Icon.tsx';
import { applyGrid, COLS, newItem, partition, stacked, toGrid, type DashboardDoc, type DashboardItem } from '../dashboard/layout.ts';
import { CatalogueList } from '../dashboard/CatalogueList.tsx';
import { afterDashboardLoad, startDashboardLoad } from '../dashboard/loadTimer.ts';
import { Modal, WidgetCell } from '../dashboard/WidgetCell.tsx';
import { useElementWidth } from '../dashboard/useElementWidth.ts';
import { namedApi, type FilterOptions, type Filters, type Named, type NamedSummary, type Share } from './api.ts';
import { DashboardScopeProvider, REFRESH_CHOICES, type DashboardScope } from './scope.tsx';

const PHONE = 640;
const ROW_HEIGHT = 64;

export function NamedDashboardPage({ id }: { id: string }) {
  const s = useSession();
  const [d, setD] = useState<Named | null>(null);
  const [others, setOthers] = useState<NamedSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [sharing, setSharing] = useState(false);
  const [tick, setTick] = useState(0);
  const [options, setOptions] = useState<FilterOptions | null>(null);
  const saveTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const pending = useRef<Parameters<typeof namedApi.update>[1]>({});
  // measured once the grid's container exists, after the dashboard has loaded
  const { ref: containerRef, width, mounted } = useElementWidth();
  const catalogue = useMemo(() => new Map(s.catalogue.map((e) => [e.ref, e])), [s.catalogue]);

  useEffect(() => {
    setD(null);
    setError(null);
    namedApi.get(id).then((x) => { setD(x); document.title = `${x.name} · ${s.me.org.name} · Orrery`; }, (e: Error) => setError(e.message));
    namedApi.list().then(setOthers, () => undefined);
  }, [id, s.me.org.name]);

  // the pickers: departments the caller may pick (by role, from the directory) and the agents seen in
  // the department filtered on (a scan of 90 days of events); asked once the widgets have their
  // data, or as soon as the filters bar is used, so it never competes with the widgets' requests
  const filterDept = d?.filters.department_id;
  const loaded = !!d;
  const [wantOptions, setWantOptions] = useState(false);
  useEffect(() => {
    if (!loaded) return;
    let live = true;
    afterDashboardLoad().then(() => { if (live) setWantOptions(true); }, () => undefined);
    return () => { live = false; };
  }, [loaded]);
  useEffect(() => {
    if (!loaded || !wantOptions) return;
    let live = true;
    namedApi.filterOptions(filterDept).then((o) => { if (live) setOptions(o); }, () => undefined);
    return () => { live = false; };
  }, [loaded, wantOptions, filterDept]);

  // auto-refresh: every widget refetches on the interval (live updates keep arriving meanwhile)
  useEffect(() => {
    if (!d?.refresh_seconds) return;
    const t = setInterval(() => setTick((k) => k + 1), d.refresh_seconds * 1000);
    return () => clearInterval(t);
  }, [d?.refresh_seconds]);

  const change = useCallback((patch: Partial<Pick<Named, 'doc' | 'filters' | 'refresh_seconds' | 'name'>> & { share?: Partial<Share> }, delay = 0) => {
    setD((cur) => (cur ? { ...cur, ...patch, share: patch.share ? { ...cur.share, ...patch.share } as Share : cur.share } : cur));
    // changes made while a save waits (a drag, then a filter) go out together
    pending.current = { ...pending.current, ...patch };
    if (saveTimer.current) clearTimeout(saveTimer.current);
    saveTimer.current = setTimeout(() => {
      const body = pending.current;
      pending.current = {};
      namedApi.update(id, body).then((x) => { setD(x); setNotice('All changes saved.'); }, (e: Error) => setNotice(`Could not save: ${e.message}`));
    }, delay);
  }, [id]);

  const departmentName = (id: string) => options?.departments.find((x) => x.id === id)?.name ?? s.me.departments.find((x) => x.id === id)?.name;
  const department = d?.filters.department_id ? { id: d.filters.department_id, name: departmentName(d.filters.department_id) ?? 'Department' } : null;
  // until the options come, the caller's own departments; a department the dashboard filters on stays listed
  const pickable = options?.departments ?? s.me.departments.map((x) => ({ id: x.id, name: x.name }));
  const departmentChoices = department && !pickable.some((x) => x.id === department.id) ? [...pickable, department] : pickable;
  const scope = useMemo<DashboardScope>(() => ({ department, filters: d?.filters.agent_name ? { agent_name: d.filters.agent_name } : {}, tick }),
    // the name too: it arrives with the filter options, after the dashboard (widgets say "in Engineering", not "in Department")
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [department?.id, department?.name, d?.filters.agent_name, tick]);

  const phone = mounted && width < PHONE;
  const editable = !!d?.can_edit && !phone;
  const { visible, hidden } = useMemo(() => (d ? partition(d.doc.items, catalogue) : { visible: [], hidden: [] }), [d, catalogue]);
  const grid = useMemo(() => (phone ? stacked(visible) : toGrid(visible, catalogue)), [phone, visible, catalogue]);
  useEffect(() => { if (visible.length) preloadCharts(); }, [visible.length]);
  // the load time until the widgets have data (platform health's dashboard SLA), once per visit
  // and filter: it also tells the filters bar when to ask for its pickers
  // eslint-disable-next-line react-hooks/exhaustive-deps
  useEffect(() => { if (d) startDashboardLoad(`named:${d.id}`.slice(0, 120), visible.length); }, [d?.id, d?.filters.department_id, d?.filters.agent_name]);

  if (error) return <div className="page"><div className="orrery-state orrery-state--error" role="alert"><p>Could not open this dashboard: {error}</p><Link to="/dashboards">All dashboards</Link></div></div>;
  if (!d) return <div className="page"><div className="orrery-state orrery-state--loading" role="status"><span className="orrery-spinner" aria-hidden="true" />Loading dashboard…</div></div>;

  // a member who may only view never writes (a widget's migrated options stay in the page)
  const setDoc = (doc: DashboardDoc, delay = 500) => (d.can_edit ? change({ doc }, delay) : setD({ ...d, doc }));
  const onLayoutChange = (layout: Layout) => {
    if (!editable) return;
    const moved = applyGrid(d.doc.items, layout);
    if (moved) setDoc({ ...d.doc, items: moved });
  };
  const updateItem = (next: DashboardItem) => setDoc({ ...d.doc, items: d.doc.items.map((it) => (it.i === next.i ? next : it)) }, 0);
  const removeItem = (it: DashboardItem) => setDoc({ ...d.doc, items: d.doc.items.filter((x) => x.i !== it.i) }, 0);
  const add = (entry: CatalogueEntry) => {
    setDoc({ ...d.doc, items: [...d.doc.items, newItem(entry, d.doc.items, newId())] }, 0);
    setAdding(false);
    setNotice(`Added ${entry.widget.title}.`);
  };
  const setFilters = (f: Filters) => change({ filters: f }, 400);

  return (
    <div className="page page--wide">
      <div className="page__head">
        <div>
          <h1>{d.name}</h1>
          <p className="muted small">
            {d.is_owner ? 'Yours' : 'Shared with you'} · {d.share.scope === 'private' ? 'only you' : d.share.scope === 'org' ? `everyone may ${d.share.access}` : `${s.me.departments.find((x) => x.id === d.share.department_id)?.name ?? 'a department'} may ${d.share.access}`}
            {!d.can_edit && ' · view only'}
          </p>
        </div>
        <div className="toolbar">
          <label>
            <span className="sr-only">Switch dashboard</span>
            <select aria-label="Switch dashboard" value={d.id} onChange={(e) => navigate(e.target.value === '' ? '/dashboards' : `/d/${encodeURIComponent(e.target.value)}`)}>
              {others.map((o) => <option key={o.id} value={o.id}>{o.name}</option>)}
              {!others.some((o) => o.id === d.id) && <option value={d.id}>{d.name}</option>}
              <option value="">All dashboards…</option>
            </select>
          </label>
          <label>
            <span className="sr-only">Auto-refresh</span>
            <select aria-label="Auto-refresh" value={d.refresh_seconds} disabled={!d.can_edit} onChange={(e) => change({ refresh_seconds: Number(e.target.value) })}>
              {REFRESH_CHOICES.map((c) => <option key={c.seconds} value={c.seconds}>Refresh: {c.label}</option>)}
            </select>
          </label>
          <button type="button" className="btn btn--ghost" onClick={() => setTick((k) => k + 1)}><Icon name="refresh" /> Refresh now</button>
          {d.can_edit && <button type="button" className="btn btn--primary" onClick={() => setAdding(true)}><Icon name="plus" /> Add widget</button>}
          {d.is_owner && <button type="button" className="btn" onClick={() => setSharing(true)}>Share</button>}
        </div>
      </div>

      <form className="toolbar filters-bar" aria-label="Dashboard filters" onSubmit={(e) => e.preventDefault()} onFocus={() => setWantOptions(true)} onPointerEnter={() => setWantOptions(true)} style={{ marginBottom: 16 }}>
        <label>
          Department{' '}
          <select name="filter-department" value={d.filters.department_id ?? ''} disabled={!d.can_edit} onChange={(e) => setFilters({ ...d.filters, department_id: e.target.value || undefined })}>
            <option value="">All departments</option>
            {departmentChoices.map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
          </select>
        </label>
        <label>
          Agent{' '}
          {/* a picker of the org's agents that still takes any name typed */}
          <input name="filter-agent" list="filter-agent-options" autoComplete="off" defaultValue={d.filters.agent_name ?? ''} disabled={!d.can_edit} placeholder="All agents"
            onBlur={(e) => e.target.value.trim() !== (d.filters.agent_name ?? '') && setFilters({ ...d.filters, agent_name: e.target.value.trim() || undefined })}
            onKeyDown={(e) => { if (e.key === 'Enter') (e.target as HTMLInputElement).blur(); }}
            onChange={(e) => {
              // picking from the list commits at once; typing commits on Enter or leaving the field
              const v = e.target.value.trim();
              if (options?.agents.some((a) => a.name === v) && v !== (d.filters.agent_name ?? '')) setFilters({ ...d.filters, agent_name: v });
            }} />
          <datalist id="filter-agent-options">
            {(options?.agents ?? []).map((a) => <option key={a.name} value={a.name}>{`${a.events.toLocaleString()} invocations`}</option>)}
          </datalist>
        </label>
        <span className="small muted">Every widget on this dashboard follows these filters.</span>
      </form>
      <p className="sr-only" role="status" aria-live="polite">{notice}</p>
      {hidden.length > 0 && <p className="notice small">{hidden.length} widget{hidden.length === 1 ? ' is' : 's are'} hidden: {hidden.length === 1 ? 'its plugin is' : 'their plugins are'} off or not available to you.</p>}

      <DashboardScopeProvider value={scope}>
        <div ref={containerRef} className="grid-wrap">
          {visible.length === 0 ? (
            <div className="empty-dash">
              <h2>This dashboard is empty</h2>
              <p className="muted">{d.can_edit ? 'Add widgets from the catalogue, or send a chart here from the metrics explorer.' : 'Its owner has not added widgets yet.'}</p>
              {d.can_edit && <button className="btn btn--primary" onClick={() => setAdding(true)}><Icon name="plus" /> Add widget</button>}
            </div>
          ) : mounted && (
            <ReactGridLayout
              width={width}
              layout={grid}
              gridConfig={{ cols: phone ? 1 : COLS, rowHeight: ROW_HEIGHT, margin: [16, 16], containerPadding: [0, 0] }}
              dragConfig={{ enabled: editable, handle: '.cell__drag', bounded: false }}
              resizeConfig={{ enabled: editable, handles: ['se', 'e', 's', 'sw', 'w'] }}
              onLayoutChange={onLayoutChange}
            >
              {visible.map((it) => (
                <div key={it.i} data-cell={it.i} className="grid-item">
                  <WidgetCell item={it} entry={catalogue.get(it.ref)!} editable={editable} onChange={updateItem} onRemove={() => removeItem(it)} />
                </div>
              ))}
            </ReactGridLayout>
          )}
        </div>
      </DashboardScopeProvider>

      {adding && (
        <Modal label="Add a widget" onClose={() => setAdding(false)} wide>
          <div className="modal__head">
            <h2>Add a widget</h2>
            <button type="button" className="icon-btn" onClick={() => setAdding(false)} aria-label="Close"><Icon name="close" /></button>
          </div>
          <div className="modal__body"><CatalogueList entries={s.catalogue} onAdd={add} present={d ? new Set(d.doc.items.map((i) => i.ref)) : null} presentLabel="On this dashboard" /></div>
        </Modal>
      )}
      {sharing && <ShareDialog d={d} onClose={() => setSharing(false)} onSaved={(x) => { setD(x); setSharing(false); setNotice('Sharing saved.'); }} onDeleted={() => navigate('/dashboards')} />}
    </div>
  );
}

function ShareDialog({ d, onClose, onSaved, onDeleted }: { d: Named; onClose(): void; onSaved(x: Named): void; onDeleted(): void }) {
  const s = useSession();
  const [scope, setScope] = useState(d.share.scope);
  const [dept, setDept] = useState(d.share.department_id ?? s.me.departments[0]?.id ?? '');
  const [access, setAccess] = useState(d.share.access);
  const [name, setName] = useState(d.name);
  const [error, setError] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const share = scope === 'department' ? { scope, department_id: dept, access } : { scope, access };
    namedApi.update(d.id, { share, name: name.trim() || d.name }).then(onSaved, (err: Error) => setError(err.message));
  };
  return (
    <Modal label="Share this dashboard" onClose={onClose}>
      <form onSubmit={submit}>
        <div className="modal__head">
          <h2>Share “{d.name}”</h2>
          <button type="button" className="icon-btn" onClick={onClose} aria-label="Close"><Icon name="close" /></button>
        </div>
        <div className="modal__body" style={{ display: 'grid', gap: 12 }}>
          {error && <p className="notice" role="alert">{error}</p>}
          <label style={{ display: 'grid', gap: 4 }}>Name<input value={name} onChange={(e) => setName(e.target.value)} maxLength={120} /></label>
          <fieldset style={{ display: 'grid', gap: 6 }}>
            <legend>Who may see it</legend>
            <label><input type="radio" name="scope" checked={scope === 'private'} onChange={() => setScope('private')} /> Only me</label>
            <label><input type="radio" name="scope" checked={scope === 'department'} disabled={!s.me.departments.length} onChange={() => setScope('department')} /> A department</label>
            {scope === 'department' && (
              <select aria-label="Department" value={dept} onChange={(e) => setDept(e.target.value)}>
                {s.me.departments.map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
              </select>
            )}
            <label><input type="radio" name="scope" checked={scope === 'org'} onChange={() => setScope('org')} /> Everyone in {s.me.org.name}</label>
          </fieldset>
          {scope !== 'private' && (
            <fieldset style={{ display: 'grid', gap: 6 }}>
              <legend>What they may do</legend>
              <label><input type="radio" name="access" checked={access === 'view'} onChange={() => setAccess('view')} /> View</label>
              <label><input type="radio" name="access" checked={access === 'edit'} onChange={() => setAccess('edit')} /> Edit (not sharing or deleting)</label>
            </fieldset>
          )}
        </div>
        <div className="modal__foot toolbar">
          <button type="submit" className="btn btn--primary">Save</button>
          <button type="button" className="btn btn--danger" onClick={() => { if (confirm(`Delete “${d.name}” for everyone it is shared with?`)) void namedApi.remove(d.id).then(onDeleted, (err: Error) => setError(err.message)); }}>Delete dashboard</button>
        </div>
      </form>
    </Modal>
  );
}
