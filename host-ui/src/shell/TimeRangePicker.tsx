import { useEffect, useId, useRef, useState } from 'react';
import { formatters } from '@orrery/plugin-sdk/frontend';
import { useSession } from '../lib/session.tsx';
import { PRESETS, fromLocalInput, presetLabel, toLocalInput } from '../lib/time.ts';

export function TimeRangePicker() {
  const s = useSession();
  const [open, setOpen] = useState(false);
  const id = useId();
  const box = useRef<HTMLDivElement>(null);
  const current = s.resolveRange();
  const fmt = formatters(s.prefs.locale, s.prefs.tz);
  const label = 'preset' in s.range ? presetLabel(s.range.preset) ?? s.range.preset : `${fmt.dateTime(current.from)} – ${fmt.dateTime(current.to)}`;
  const [from, setFrom] = useState(toLocalInput(current.from, s.prefs.tz));
  const [to, setTo] = useState(toLocalInput(current.to, s.prefs.tz));
  const [err, setErr] = useState<string | null>(null);

  useEffect(() => {
    if (!open) return;
    setFrom(toLocalInput(current.from, s.prefs.tz));
    setTo(toLocalInput(current.to, s.prefs.tz));
    const close = (e: MouseEvent) => { if (!box.current?.contains(e.target as Node)) setOpen(false); };
    const esc = (e: KeyboardEvent) => { if (e.key === 'Escape') setOpen(false); };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', esc);
    return () => { document.removeEventListener('mousedown', close); document.removeEventListener('keydown', esc); };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [open]);

  const apply = () => {
    try {
      const f = fromLocalInput(from, s.prefs.tz);
      const t = fromLocalInput(to, s.prefs.tz);
      if (f >= t) return setErr('The start must be before the end.');
      s.setRange({ from: f, to: t });
      setErr(null);
      setOpen(false);
    } catch {
      setErr('Enter both dates.');
    }
  };

  return (
    <div className="trp" ref={box} data-tour="time">
      <button type="button" className="ctl-btn" aria-haspopup="dialog" aria-expanded={open} aria-controls={id} onClick={() => setOpen((o) => !o)}>
        <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true"><path fill="currentColor" d="M8 1.5a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13Zm0 1.2a5.3 5.3 0 1 1 0 10.6A5.3 5.3 0 0 1 8 2.7Zm-.6 1.8v4l3.2 1.9.6-1-2.6-1.6V4.5H7.4Z" /></svg>
        <span><span className="sr-only">Time range: </span>{label}</span>
      </button>
      {open && (
        <div className="trp__panel" id={id} role="dialog" aria-label="Time range">
          <div className="trp__presets" role="group" aria-label="Quick ranges">
            {PRESETS.map((p) => (
              <button key={p.id} type="button" aria-pressed={'preset' in s.range && s.range.preset === p.id}
                onClick={() => { s.setRange({ preset: p.id }); setOpen(false); }}>{p.label}</button>
            ))}
          </div>
          <div className="trp__custom">
            <p className="muted small">Custom range ({s.prefs.tz})</p>
            <label className="field"><span>From</span><input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} /></label>
            <label className="field"><span>To</span><input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} /></label>
            {err && <p role="alert" className="form-error">{err}</p>}
            <button type="button" className="btn btn--primary btn--block" onClick={apply}>Apply</button>
          </div>
        </div>
      )}
    </div>
  );
}
