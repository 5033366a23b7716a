import { useEffect, useMemo, useRef, useState } from 'react';
import type { DrillDown } from '@orrery/plugin-sdk/frontend';
import { createWidgetExports, formatters, WidgetExportsProvider } from '@orrery/plugin-sdk/frontend';
import type { CatalogueEntry, SizeName } from '../lib/plugins.ts';
import { useSession } from '../lib/session.tsx';
import { PRESETS, presetLabel } from '../lib/time.ts';
import { SIZES, sizeName, type DashboardItem } from './layout.ts';
import { OptionsForm } from './OptionsForm.tsx';
import { WidgetHost } from './WidgetHost.tsx';
import { Icon } from '../shell/Icon.tsx';
import { ExportMenu } from './ExportMenu.tsx';

export function WidgetCell({ item, entry, onChange, onRemove, editable }: {
  item: DashboardItem;
  entry: CatalogueEntry;
  onChange(next: DashboardItem): void;
  onRemove(): void;
  editable: boolean;
}) {
  const [refreshKey, setRefreshKey] = useState(0);
  const [full, setFull] = useState<null | { drill?: DrillDown }>(null);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const title = item.title || entry.widget.title;
  const current = sizeName(item.w, item.h);
  // what the widget's charts and stats show, for the export menu
  const exports = useMemo(() => createWidgetExports(), []);
  const body = useRef<HTMLDivElement>(null);
  const s = useSession();
  const range = s.resolveRange(item.timeRange ?? s.range);

  const drill = (d: DrillDown) => setFull({ drill: d });

  return (
    <section className="cell" aria-label={title} data-widget={entry.ref}>
      <header className="cell__head">
        {editable && (
          <span className="cell__drag" title="Drag to move" aria-hidden="true"><Icon name="grip" /></span>
        )}
        <h2 className="cell__title" title={entry.widget.description}>{title}</h2>
        {item.timeRange && <span className="chip" title="This widget uses its own time range">{presetLabel(item.timeRange)}</span>}
        <div className="cell__actions">
          <button type="button" className="icon-btn" onClick={() => setRefreshKey((k) => k + 1)} aria-label={`Refresh ${title}`} title="Refresh"><Icon name="refresh" /></button>
          <ExportMenu title={title} exports={exports} body={body} range={{ from: range.from, to: range.to }} />
          <button type="button" className="icon-btn" onClick={() => setFull({})} aria-label={`Full screen ${title}`} title="Full screen"><Icon name="expand" /></button>
          {editable && <>
            <SizeMenu title={title} current={current} onPick={(s) => onChange({ ...item, w: Math.max(SIZES[s].w, entry.widget.minSize?.w ?? 0), h: Math.max(SIZES[s].h, entry.widget.minSize?.h ?? 0) })} />
            <button type="button" className="icon-btn" onClick={() => setSettingsOpen(true)} aria-label={`Settings for ${title}`} title="Settings"><Icon name="gear" /></button>
            <button type="button" className="icon-btn icon-btn--danger" onClick={onRemove} aria-label={`Remove ${title}`} title="Remove"><Icon name="close" /></button>
          </>}
        </div>
      </header>
      <div className="cell__body" ref={body}>
        <WidgetExportsProvider value={exports}>
        <WidgetHost item={item} entry={entry} refreshKey={refreshKey} onDrillDown={drill}
          onOptions={(options) => onChange({ ...item, options, optionsVersion: entry.widget.optionsVersion ?? 1, pluginVersion: entry.plugin.version })}
          onMigrated={(options, optionsVersion, pluginVersion) => onChange({ ...item, options, optionsVersion, pluginVersion })} />
        </WidgetExportsProvider>
      </div>
      {full && <FullScreen item={item} entry={entry} title={title} drill={full.drill} onClose={() => setFull(null)} />}
      {settingsOpen && <SettingsDialog item={item} entry={entry} onClose={() => setSettingsOpen(false)} onSave={(n) => { onChange(n); setSettingsOpen(false); }} />}
    </section>
  );
}

function SizeMenu({ title, current, onPick }: { title: string; current: SizeName | null; onPick(s: SizeName): void }) {
  return (
    <label className="size-menu" title="Size">
      <span className="sr-only">Size of {title}</span>
      <select value={current ?? ''} onChange={(e) => e.target.value && onPick(e.target.value as SizeName)}>
        {!current && <option value="">Custom</option>}
        {(Object.keys(SIZES) as SizeName[]).map((k) => <option key={k} value={k}>{k}</option>)}
      </select>
    </label>
  );
}

/** A modal the browser manages: focus is trapped, Escape closes, focus returns on close. */
function Modal({ label, onClose, children, wide }: { label: string; onClose(): void; children: React.ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog ref={ref} className={`modal${wide ? ' modal--wide' : ''}`} aria-label={label} onClose={onClose}
      onClick={(e) => { if (e.target === ref.current) onClose(); }}>
      {children}
    </dialog>
  );
}

function FullScreen({ item, entry, title, drill, onClose }: { item: DashboardItem; entry: CatalogueEntry; title: string; drill?: DrillDown; onClose(): void }) {
  const [d, setD] = useState(drill);
  const [key, setKey] = useState(0);
  const s = useSession();
  const fmt = formatters(s.prefs.locale, s.prefs.tz);
  const show = (k: string, v: string | number) => (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? fmt.dateTime(v) : String(v)) + (k ? '' : '');
  return (
    <Modal label={`${title} full screen`} onClose={onClose} wide>
      <div className="modal__head">
        <h2>{title}</h2>
        {d && (
          <div className="chips" aria-label="Filters">
            {Object.entries(d.filters).map(([k, v]) => <span key={k} className="chip">{k}: {show(k, v)}</span>)}
            <button type="button" className="btn btn--small btn--ghost" onClick={() => setD(undefined)}>Clear filters</button>
          </div>
        )}
        <button type="button" className="icon-btn" onClick={() => setKey((k) => k + 1)} aria-label="Refresh"><Icon name="refresh" /></button>
        <button type="button" className="icon-btn" onClick={onClose} aria-label="Close full screen"><Icon name="close" /></button>
      </div>
      <div className="modal__body modal__body--full">
        <WidgetHost item={item} entry={entry} refreshKey={key} onDrillDown={setD} onOptions={() => undefined}
          extraFilters={d?.filters} rangeOverride={d?.timeRange} />
      </div>
    </Modal>
  );
}

function SettingsDialog({ item, entry, onClose, onSave }: { item: DashboardItem; entry: CatalogueEntry; onClose(): void; onSave(next: DashboardItem): void }) {
  const [draft, setDraft] = useState(item);
  return (
    <Modal label={`Settings for ${entry.widget.title}`} onClose={onClose}>
      <form method="dialog" className="settings-form" onSubmit={(e) => { e.preventDefault(); onSave({ ...draft, optionsVersion: entry.widget.optionsVersion ?? 1, pluginVersion: entry.plugin.version }); }}>
        <div className="modal__head"><h2>Settings · {entry.widget.title}</h2></div>
        <div className="modal__body">
          <div className="field">
            <label htmlFor={`t-${item.i}`}>Title</label>
            <input id={`t-${item.i}`} value={draft.title ?? ''} placeholder={entry.widget.title} onChange={(e) => setDraft({ ...draft, title: e.target.value || undefined })} />
          </div>
          <div className="field">
            <label htmlFor={`r-${item.i}`}>Time range</label>
            <select id={`r-${item.i}`} value={draft.timeRange ?? ''} onChange={(e) => setDraft({ ...draft, timeRange: e.target.value || undefined })}>
              <option value="">Same as the dashboard</option>
              {PRESETS.map((p) => <option key={p.id} value={p.id}>{p.label}</option>)}
            </select>
          </div>
          <OptionsForm schema={entry.widget.optionsSchema} value={draft.options} onChange={(options) => setDraft({ ...draft, options })} />
          <p className="muted small">{entry.plugin.title} {entry.plugin.version} · {entry.widget.description}</p>
        </div>
        <div className="modal__foot">
          <button type="button" className="btn btn--ghost" onClick={onClose}>Cancel</button>
          <button type="submit" className="btn btn--primary">Save</button>
        </div>
      </form>
    </Modal>
  );
}

export { Modal };
