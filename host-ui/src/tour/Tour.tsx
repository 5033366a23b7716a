/**
 * The first-run tour: a few steps, each pointing at one part of the portal. It is a
 * non-modal dialog (the page stays usable behind it), takes focus so keyboard and screen
 * reader users meet it first, and goes with Escape. Finished or dismissed, it stays gone
 * for that user in this browser; the account page can bring it back.
 */
import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import { usePath } from '../lib/router.tsx';
import { useSession } from '../lib/session.tsx';

export interface TourStep { target: string; title: string; body: string }

export const TOUR_STEPS: TourStep[] = [
  { target: 'time', title: 'One time range for every widget', body: 'Pick a preset or a custom range here. Every widget follows it, unless you give a widget its own range in its settings.' },
  { target: 'catalogue', title: 'Find widgets in the catalogue', body: 'The catalogue lists the widgets of the plugins your organization has turned on and your role may use.' },
  { target: 'grid', title: 'Your dashboard, your layout', body: 'Drag a widget by its handle, resize it from an edge or corner, and open its menu to refresh, go full screen or change its settings. Your layout follows you to any device.' },
  { target: 'settings', title: 'Settings', body: 'Admins turn plugins on and off and set up the organization here. Your own time zone and formats are on your account page.' },
];

export const tourKey = (userId: string) => `orrery.tour.${userId}`;
export const TOUR_EVENT = 'orrery:tour';

/** Starts the tour again (from the account page); the dashboard shows it. */
export function restartTour(userId: string) {
  localStorage.removeItem(tourKey(userId));
  window.dispatchEvent(new Event(TOUR_EVENT));
}

interface Box { top: number; left: number; width: number; height: number }

export function Tour() {
  const s = useSession();
  const path = usePath();
  const key = tourKey(s.me.user.id);
  const [seen, setSeen] = useState(() => localStorage.getItem(key) !== null);
  const [i, setI] = useState(0);
  const [box, setBox] = useState<Box | null>(null);
  const [pos, setPos] = useState<{ top: number; left: number; placement: 'below' | 'above' | 'center' }>({ top: 0, left: 0, placement: 'center' });
  const card = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const bodyId = useId();
  const active = !seen && path === '/';
  const step = TOUR_STEPS[i]!;

  useEffect(() => {
    const again = () => { setSeen(localStorage.getItem(key) !== null); setI(0); };
    window.addEventListener(TOUR_EVENT, again);
    window.addEventListener('storage', again); // dismissed in another tab
    return () => { window.removeEventListener(TOUR_EVENT, again); window.removeEventListener('storage', again); };
  }, [key]);

  const end = useCallback((how: 'done' | 'dismissed') => {
    localStorage.setItem(key, JSON.stringify({ how, at: new Date().toISOString() }));
    setSeen(true);
  }, [key]);

  // follow the target as the page lays out, scrolls and resizes
  useLayoutEffect(() => {
    if (!active) return;
    let frame = 0;
    const measure = () => {
      const el = document.querySelector<HTMLElement>(`[data-tour="${step.target}"]`);
      const r = el?.getBoundingClientRect();
      const visible = r && r.width > 0 && r.height > 0;
      const b = visible ? { top: r.top, left: r.left, width: r.width, height: Math.min(r.height, window.innerHeight - r.top - 8) } : null;
      setBox((old) => (old && b && old.top === b.top && old.left === b.left && old.width === b.width && old.height === b.height ? old : b));
      const cw = card.current?.offsetWidth ?? 320;
      const ch = card.current?.offsetHeight ?? 180;
      const vw = window.innerWidth;
      const vh = window.innerHeight;
      if (!b) setPos({ top: Math.max(16, (vh - ch) / 2), left: Math.max(8, (vw - cw) / 2), placement: 'center' });
      else {
        const below = b.top + b.height + 12;
        const placement = below + ch < vh - 8 ? 'below' : b.top - ch - 12 > 8 ? 'above' : 'center';
        const top = placement === 'below' ? below : placement === 'above' ? b.top - ch - 12 : Math.max(16, (vh - ch) / 2);
        const left = Math.min(Math.max(8, b.left + b.width / 2 - cw / 2), vw - cw - 8);
        setPos((old) => (old.top === top && old.left === left && old.placement === placement ? old : { top, left, placement }));
      }
    };
    const loop = () => { measure(); frame = requestAnimationFrame(loop); };
    // the grid arrives after the plugin manifest and the layout: keep measuring while shown
    loop();
    return () => cancelAnimationFrame(frame);
  }, [active, step.target]);

  // after the shell's own move of focus to <main> on a route change, which runs later in
  // the same commit (parents' effects follow their children's)
  useEffect(() => {
    if (!active) return;
    const t = setTimeout(() => card.current?.focus(), 0);
    return () => clearTimeout(t);
  }, [active, i]);

  useEffect(() => {
    if (!active) return;
    const onKey = (e: KeyboardEvent) => { if (e.key === 'Escape') end('dismissed'); };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [active, end]);

  if (!active) return null;
  const last = i === TOUR_STEPS.length - 1;
  return (
    <>
      {box && <div className="tour__ring" aria-hidden="true" style={{ top: box.top - 4, left: box.left - 4, width: box.width + 8, height: box.height + 8 }} />}
      <div ref={card} className={`tour tour--${pos.placement}`} role="dialog" aria-modal="false" aria-labelledby={titleId} aria-describedby={bodyId} tabIndex={-1}
        style={{ top: pos.top, left: pos.left }}
        onKeyDown={(e) => {
          if (e.key === 'ArrowRight' && !last) { e.preventDefault(); setI(i + 1); }
          if (e.key === 'ArrowLeft' && i > 0) { e.preventDefault(); setI(i - 1); }
        }}>
        <p className="tour__count small">Tour · {i + 1} of {TOUR_STEPS.length}</p>
        <h2 id={titleId} className="tour__title">{step.title}</h2>
        <p id={bodyId} className="tour__body">{step.body}</p>
        <div className="tour__foot">
          <button type="button" className="btn btn--small btn--ghost" onClick={() => end('dismissed')}>Skip tour</button>
          <span className="setup__spacer" />
          {i > 0 && <button type="button" className="btn btn--small" onClick={() => setI(i - 1)}>Back</button>}
          <button type="button" className="btn btn--small btn--primary" onClick={() => (last ? end('done') : setI(i + 1))}>{last ? 'Done' : 'Next'}</button>
        </div>
      </div>
    </>
  );
}
