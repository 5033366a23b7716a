/**
 * Form pieces that plugin pages share: links inside the portal, labelled fields, a list typed
 * as text, and an action's busy / error / done state. Accessible by construction: every control
 * has a label, hints are descriptions, results are announced politely and errors as alerts.
 */
import { cloneElement, useId, useState, type ReactElement, type ReactNode } from 'react';
import type { WidgetContext } from './types.ts';

/** A responsive grid of fields: as many 200 px columns as fit. */
export const formGrid = { display: 'grid', gap: 12, gridTemplateColumns: 'repeat(auto-fit, minmax(200px, 1fr))' } as const;

/** A link to another portal path: moves without a reload where the host can, a plain link otherwise. */
export function PortalLink({ context, to, children }: { context: WidgetContext<any>; to: string; children: ReactNode }) {
  return (
    <a
      href={to}
      onClick={(e) => {
        if (!context.navigate || e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        context.navigate(to);
      }}
    >
      {children}
    </a>
  );
}

/** A labelled control; the hint is its description (not part of its name), so screen readers read both. */
export function Field({ label, hint, children }: { label: string; hint?: string; children: ReactElement<any> }) {
  const id = useId();
  return (
    <div style={{ display: 'grid', gap: 4, alignContent: 'start', minWidth: 0 }}>
      <label htmlFor={id}>{label}</label>
      {cloneElement(children, {
        id,
        ...(hint ? { 'aria-describedby': `${id}-hint` } : {}),
        // a select's intrinsic width would otherwise push it over the next column
        style: { width: '100%', maxWidth: '100%', boxSizing: 'border-box', ...(children.props.style ?? {}) },
      })}
      {hint && <span id={`${id}-hint`} className="small">{hint}</span>}
    </div>
  );
}

/** Runs an async action with a busy flag and a readable error (the API's message names the field). */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const run = async (f: () => Promise<string | void>) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const msg = await f();
      if (msg) setDone(msg);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, done, run };
}

/** Where an action's error or result is shown and announced. */
export function ActionStatus({ error, done }: { error: string | null; done: string | null }) {
  return (
    <div aria-live="polite">
      {error && <p role="alert" className="orrery-state--error" style={{ margin: 0 }}>{error}</p>}
      {done && <p style={{ margin: 0 }}>{done}</p>}
    </div>
  );
}

/**
 * A comma-separated list typed as text: the text is kept as typed (a trailing comma included,
 * so the next item can be typed) and the parsed list goes up; empty is undefined (inherited).
 */
export function ListInput({ value, onChange, ...rest }: { value: string[] | undefined; onChange: (v: string[] | undefined) => void; id?: string; style?: object; 'aria-describedby'?: string }) {
  const [text, setText] = useState((value ?? []).join(', '));
  const parse = (t: string) => t.split(',').map((s) => s.trim()).filter(Boolean);
  // a value changed from outside (loaded, reset) replaces the text; one that only reparses it does not
  const shown = JSON.stringify(parse(text)) === JSON.stringify(value ?? []) ? text : (value ?? []).join(', ');
  return (
    <input
      {...rest}
      value={shown}
      onChange={(e) => {
        setText(e.target.value);
        const list = parse(e.target.value);
        onChange(list.length ? list : undefined);
      }}
    />
  );
}
