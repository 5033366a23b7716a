import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import ReactGridLayout, { useContainerWidth, type Layout } from 'react-grid-layout';
import { preloadCharts, type Role } from '@orrery/plugin-sdk/frontend';
import { Link, navigate, useSearch } from '../lib/router.tsx';
import { useSession } from '../lib/session.tsx';
import { newId } from '../lib/ids.ts';
import type { CatalogueEntry } from '../lib/plugins.ts';
import { Icon } from '../shell/Icon.tsx';
import { dashboardsApi, type LayoutSource } from './api.ts';
import { applyGrid, builtinDefault, COLS, newItem, partition, stacked, toGrid, type DashboardDoc, type DashboardItem } from './layout.ts';
import { CatalogueList } from './CatalogueList.tsx';
import { SetupBanner } from '../setup/SetupBanner.tsx';
import { Modal, WidgetCell } from './WidgetCell.tsx';
import { afterDashboardLoad, startDashboardLoad } from './loadTimer.ts';
import { DashboardPdfButton } from './ExportMenu.tsx';

const PHONE = 640;
const ROW_HEIGHT = 64;
type SaveState = 'idle' | 'saving' | 'saved' | 'error';

export function DashboardPage() {
  const s = useSession();
  const search = useSearch();
  const [doc, setDoc] = useState<DashboardDoc | null>(null);
  const [source, setSource] = useState<LayoutSource>('none');
  const [loadError, setLoadError] = useState<string | null>(null);
  const [save, setSave] = useState<SaveState>('idle');
  const [adding, setAdding] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const saveTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const { width, containerRef, mounted } = useContainerWidth({ debounceTimeout: 50 });

  const catalogue = useMemo(() => new Map(s.catalogue.map((e) => [e.ref, e])), [s.catalogue]);

  const load = useCallback(async () => {
    setLoadError(null);
    try {
      const a = await dashboardsApi.mine(s.departmentId);
      setSource(a.source);
      setDoc(a.doc ?? builtinDefault(s.catalogue, newId, 8, s.me.role));
    } catch (e) {
      setLoadError((e as Error).message);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [s.departmentId, s.pluginsLoaded]);

  useEffect(() => { if (s.pluginsLoaded) void load(); }, [load, s.pluginsLoaded]);

  /** the layout waiting for the user to pause, saved at once if they leave the page first */
  const pending = useRef<DashboardDoc | null>(null);
  const persist = useCallback((next: DashboardDoc) => {
    setDoc(next);
    setSource('user');
    setSave('saving');
    if (saveTimer.current) clearTimeout(saveTimer.current);
    pending.current = next;
    // drags and resizes come in bursts: one save when the user pauses
    saveTimer.current = setTimeout(() => {
      saveTimer.current = null;
      pending.current = null;
      dashboardsApi.saveMine(next).then(() => setSave('saved'), () => setSave('error'));
    }, 500);
  }, []);

  // leaving the page within the pause: the pending save goes now (clearing the timer alone dropped it)
  useEffect(() => () => {
    if (saveTimer.current) clearTimeout(saveTimer.current);
    if (pending.current) void dashboardsApi.saveMine(pending.current).catch(() => undefined);
  }, []);

  const add = useCallback((entry: CatalogueEntry) => {
    if (!doc) return;
    const item = newItem(entry, doc.items, newId());
    persist({ ...doc, items: [...doc.items, item] });
    setAdding(false);
    setNotice(`Added ${entry.widget.title}.`);
    // bring the new cell into view once the grid has placed it
    setTimeout(() => document.querySelector(`[data-cell="${item.i}"]`)?.scrollIntoView({ block: 'nearest', behavior: 'smooth' }), 100);
  }, [doc, persist]);

  // `/?add=<pluginId>/<widgetId>` from the catalogue page
  useEffect(() => {
    const ref = search.get('add');
    if (!ref || !doc) return;
    const entry = catalogue.get(ref);
    navigate('/', { replace: true });
    if (entry) add(entry);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [search.get('add'), doc === null]);

  const phone = mounted && width < PHONE;
  const { visible, hidden } = useMemo(() => (doc ? partition(doc.items, catalogue) : { visible: [], hidden: [] }), [doc, catalogue]);
  const grid = useMemo(() => (phone ? stacked(visible) : toGrid(visible, catalogue)), [phone, visible, catalogue]);
  // most widgets draw charts: fetch the chart library alongside the widgets' code, not after it
  useEffect(() => { if (visible.length) preloadCharts(); }, [visible.length]);
  // the dashboard's load time (until its widgets have data) for the platform's dashboard SLA
  // (once per visit: when the layout arrives and when the department changes, not on every edit)
  const docLoaded = doc !== null;
  // the setup banner asks the server only after the widgets have their data: its questions
  // would otherwise queue beside theirs on the analytics store, which runs one at a time
  const [loadStarted, setLoadStarted] = useState(false);
  useEffect(() => {
    if (!docLoaded) return;
    startDashboardLoad(source === 'user' ? 'mine' : source, visible.length);
    setLoadStarted(true);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [docLoaded, s.departmentId]);

  const onLayoutChange = (layout: Layout) => {
    if (!doc || phone) return;
    const moved = applyGrid(doc.items, layout);
    if (moved) persist({ ...doc, items: moved });
  };

  const updateItem = (next: DashboardItem) => doc && persist({ ...doc, items: doc.items.map((it) => (it.i === next.i ? next : it)) });
  const removeItem = (it: DashboardItem) => {
    if (!doc) return;
    persist({ ...doc, items: doc.items.filter((x) => x.i !== it.i) });
    setNotice(`Removed ${it.title || catalogue.get(it.ref)?.widget.title || 'widget'}.`);
  };

  const reset = async () => {
    if (!confirm('Replace your dashboard with the default one? Your changes will be lost.')) return;
    const a = await dashboardsApi.resetMine(s.departmentId);
    setSource(a.source);
    setDoc(a.doc ?? builtinDefault(s.catalogue, newId, 8, s.me.role));
    setNotice('Dashboard reset to the default.');
  };

  const managedDept = s.me.departments.find((d) => d.id === s.departmentId && (d.manager || s.me.role === 'Admin'));
  const [roleTarget, setRoleTarget] = useState<Role>('Developer');

  if (loadError) {
    return <div className="page"><div className="orrery-state orrery-state--error" role="alert"><p>Could not load your dashboard: {loadError}</p><button className="btn" onClick={() => void load()}>Try again</button></div></div>;
  }

  return (
    <div className="page page--wide">
      <div className="page__head">
        <div>
          <h1>Dashboard</h1>
          <p className="muted small">
            {source === 'user' ? 'Your layout' : source === 'department' ? 'Your department’s default' : source === 'role' ? `The default for ${s.me.role}s` : 'Suggested layout'}
            <span aria-live="polite">{save === 'saving' ? ' · Saving…' : save === 'saved' ? ' · All changes saved' : save === 'error' ? ' · Could not save: changes will be retried on the next edit' : ''}</span>
          </p>
        </div>
        <div className="toolbar">
          <button type="button" className="btn btn--primary" onClick={() => setAdding(true)} disabled={!doc}><Icon name="plus" /> Add widget</button>
          <DashboardPdfButton />
          <details className="menu">
            <summary className="btn btn--ghost">Layout</summary>
            <div className="menu__panel">
              <button type="button" onClick={() => void reset()}>Reset to default</button>
              {managedDept && doc && (
                <button type="button" onClick={() => dashboardsApi.saveDepartmentDefault(managedDept.id, doc).then(() => setNotice(`Saved as the default for ${managedDept.name}.`), (e) => setNotice((e as Error).message))}>
                  Make default for {managedDept.name}
                </button>
              )}
              {s.me.role === 'Admin' && doc && (
                <div className="menu__row">
                  <label><span className="sr-only">Role</span>
                    <select value={roleTarget} onChange={(e) => setRoleTarget(e.target.value as Role)}>
                      {(['Admin', 'Manager', 'Developer'] as Role[]).map((r) => <option key={r}>{r}</option>)}
                    </select>
                  </label>
                  <button type="button" onClick={() => dashboardsApi.saveRoleDefault(roleTarget, doc).then(() => setNotice(`Saved as the default for ${roleTarget}s.`), (e) => setNotice((e as Error).message))}>
                    Make default for role
                  </button>
                </div>
              )}
            </div>
          </details>
        </div>
      </div>
      <p className="sr-only" role="status" aria-live="polite">{notice}</p>
      <SetupBanner after={loadStarted ? afterDashboardLoad : null} />
      {hidden.length > 0 && (
        <p className="notice small">
          {hidden.length === 1 ? 'One widget is' : `${hidden.length} widgets are`} hidden because {hidden.length === 1 ? 'its plugin is' : 'their plugins are'} turned off or not available to you.
          {hidden.length === 1 ? ' It comes back, where it was,' : ' They come back, where they were,'} when the plugin is on again{s.me.role === 'Admin' ? <>: <Link to="/settings">Settings</Link>.</> : '.'}
        </p>
      )}
      <div ref={containerRef} className="grid-wrap" data-tour="grid">
        {!doc || !s.pluginsLoaded ? (
          <div className="orrery-state orrery-state--loading" role="status"><span className="orrery-spinner" aria-hidden="true" />Loading dashboard…</div>
        ) : visible.length === 0 ? (
          <div className="empty-dash">
            <h2>Your dashboard is empty</h2>
            <p className="muted">{s.catalogue.length ? 'Add widgets from the catalogue to get started.' : 'No plugin with widgets is enabled for your organization yet.'}</p>
            {s.catalogue.length > 0 && <button className="btn btn--primary" onClick={() => setAdding(true)}><Icon name="plus" /> Add widget</button>}
          </div>
        ) : mounted && (
          <ReactGridLayout
            width={width}
            layout={grid}
            gridConfig={{ cols: phone ? 1 : COLS, rowHeight: ROW_HEIGHT, margin: [16, 16], containerPadding: [0, 0] }}
            dragConfig={{ enabled: !phone, handle: '.cell__drag', bounded: false }}
            resizeConfig={{ enabled: !phone, handles: ['se', 'e', 's', 'sw', 'w'] }}
            onLayoutChange={onLayoutChange}
          >
            {visible.map((it) => (
              <div key={it.i} data-cell={it.i} className="grid-item">
                <WidgetCell item={it} entry={catalogue.get(it.ref)!} editable={!phone} onChange={updateItem} onRemove={() => removeItem(it)} />
              </div>
            ))}
          </ReactGridLayout>
        )}
      </div>
      {adding && (
        <Modal label="Add a widget" onClose={() => setAdding(false)} wide>
          <div className="modal__head">
            <h2>Add a widget</h2>
            <button type="button" className="icon-btn" onClick={() => setAdding(false)} aria-label="Close"><Icon name="close" /></button>
          </div>
          <div className="modal__body">
            <CatalogueList entries={s.catalogue} onAdd={add} present={doc ? new Set(doc.items.map((i) => i.ref)) : null} />
          </div>
        </Modal>
      )}
    </div>
  );
}
