/**
 * The export menu of a widget's frame: what the widget shows as CSV, JSON, PNG or PDF. The
 * widget's charts and stats register themselves with the frame's collector (the SDK's
 * `useExportable`); what registered nothing is read from the widget's tables or text.
 */
import { useEffect, useRef, useState, type KeyboardEvent, type RefObject } from 'react';
import { exportWidget, formatters, type WidgetExportFormat, type WidgetExports } from '@orrery/plugin-sdk/frontend';
import { downloadFile } from '../lib/api.ts';
import { useSession } from '../lib/session.tsx';
import { Icon } from '../shell/Icon.tsx';

const ITEMS: Array<{ format: WidgetExportFormat; label: string }> = [
  { format: 'csv', label: 'Data as CSV' },
  { format: 'json', label: 'Data as JSON' },
  { format: 'png', label: 'Picture as PNG' },
  { format: 'pdf', label: 'Picture as PDF' },
];

export function ExportMenu({ title, exports, body, range }: { title: string; exports: WidgetExports; body: RefObject<HTMLElement | null>; range: { from: string; to: string } }) {
  const [open, setOpen] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const s = useSession();
  const fmt = formatters(s.prefs.locale, s.prefs.tz);

  useEffect(() => {
    if (!open) return;
    panel.current?.querySelector<HTMLButtonElement>('[role="menuitem"]')?.focus();
    const away = (e: MouseEvent) => { if (!panel.current?.contains(e.target as Node) && e.target !== button.current) setOpen(false); };
    document.addEventListener('mousedown', away);
    return () => document.removeEventListener('mousedown', away);
  }, [open]);

  const close = () => { setOpen(false); button.current?.focus(); };
  const onKey = (e: KeyboardEvent) => {
    const items = [...(panel.current?.querySelectorAll<HTMLButtonElement>('[role="menuitem"]') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === 'Escape') { e.preventDefault(); close(); }
    else if (e.key === 'ArrowDown') { e.preventDefault(); items[(at + 1) % items.length]?.focus(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); items[(at - 1 + items.length) % items.length]?.focus(); }
    else if (e.key === 'Home') { e.preventDefault(); items[0]?.focus(); }
    else if (e.key === 'End') { e.preventDefault(); items.at(-1)?.focus(); }
    else if (e.key === 'Tab') setOpen(false);
  };

  const run = async (format: WidgetExportFormat) => {
    close();
    setStatus(`Exporting ${title}…`);
    try {
      const header = [title, `${fmt.dateTime(range.from)} – ${fmt.dateTime(range.to)} (${s.prefs.tz})`, `${s.me.org.name}`];
      const file = await exportWidget(format, { exports, root: body.current, title, header, meta: { from: range.from, to: range.to, tz: s.prefs.tz } });
      setStatus(`Saved ${file}`);
    } catch (e) {
      setStatus(`Could not export ${title}: ${(e as Error).message}`);
    }
  };

  return (
    <div className="menu export-menu">
      <button ref={button} type="button" className="icon-btn" aria-haspopup="menu" aria-expanded={open} aria-label={`Export ${title}`} title="Export"
        onClick={() => setOpen((o) => !o)}><Icon name="download" /></button>
      {open && (
        <div ref={panel} className="menu__panel" role="menu" aria-label={`Export ${title}`} onKeyDown={onKey}>
          {ITEMS.map((i) => <button key={i.format} type="button" role="menuitem" tabIndex={-1} onClick={() => void run(i.format)}>{i.label}</button>)}
        </div>
      )}
      <span className="sr-only" role="status" aria-live="polite">{status ?? ''}</span>
    </div>
  );
}

/**
 * The dashboard as a PDF, drawn by the exports plugin's renderer from this very portal (range,
 * zone and department as shown). Offered when the exports plugin is on for the org.
 */
export function DashboardPdfButton() {
  const s = useSession();
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  if (!s.catalogue.some((e) => e.plugin.id === 'exports')) return null;
  const download = async () => {
    setBusy(true);
    setStatus('Drawing the PDF…');
    try {
      const r = s.resolveRange(s.range);
      const query: Record<string, string> = { dashboard: 'mine', from: r.from, to: r.to, tz: s.prefs.tz, paper: 'A4', ...(s.departmentId ? { department_id: s.departmentId } : {}) };
      const name = await downloadFile('/api/v1/export/pdf', query, 'dashboard.pdf');
      setStatus(`Saved ${name}`);
    } catch (e) {
      setStatus(`Could not make the PDF: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="btn btn--ghost" onClick={() => void download()} disabled={busy} title="The dashboard as shown, as a PDF">
        <Icon name="download" /> PDF
      </button>
      <span className="sr-only" role="status" aria-live="polite">{status ?? ''}</span>
    </>
  );
}
