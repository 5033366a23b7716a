import { useMemo, useState } from 'react';
import type { CatalogueEntry } from '../lib/plugins.ts';
import { SIZES } from './layout.ts';

/** `present`: refs of widgets already on the dashboard being added to (marked, still addable: a second copy can show other options) */
export function CatalogueList({ entries, onAdd, addLabel = 'Add', present, presentLabel = 'On your dashboard' }: { entries: CatalogueEntry[]; onAdd(e: CatalogueEntry): void; addLabel?: string; present?: Set<string> | null; presentLabel?: string }) {
  const [q, setQ] = useState('');
  const shown = useMemo(() => {
    const needle = q.trim().toLowerCase();
    return needle ? entries.filter((e) => `${e.widget.title} ${e.widget.description} ${e.plugin.title}`.toLowerCase().includes(needle)) : entries;
  }, [entries, q]);
  const byPlugin = useMemo(() => {
    const m = new Map<string, CatalogueEntry[]>();
    for (const e of shown) m.set(e.plugin.title, [...(m.get(e.plugin.title) ?? []), e]);
    return [...m.entries()];
  }, [shown]);
  return (
    <div className="catalogue">
      <label className="field">
        <span>Search widgets</span>
        <input type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="e.g. latency, adoption" />
      </label>
      {byPlugin.length === 0 && <p className="muted">{entries.length ? 'No widget matches.' : 'No widgets are available to you yet.'}</p>}
      {byPlugin.map(([plugin, list]) => (
        <section key={plugin} className="catalogue__group" aria-label={plugin}>
          <h3>{plugin}</h3>
          <ul className="catalogue__grid">
            {list.map((e) => (
              <li key={e.ref} className="catalogue__card">
                <div>
                  <h4>{e.widget.title}</h4>
                  <p className="muted small">{e.widget.description}</p>
                </div>
                <div className="catalogue__foot">
                  <span className="chips">
                    <span className="chip" title={`${SIZES[e.widget.defaultSize].w} × ${SIZES[e.widget.defaultSize].h}`}>{SIZES[e.widget.defaultSize].label}</span>
                    {present?.has(e.ref) && <span className="chip chip--ok">{presentLabel}</span>}
                  </span>
                  <button type="button" className="btn btn--small btn--primary" onClick={() => onAdd(e)} aria-label={`${addLabel} ${e.widget.title}`}>{addLabel}</button>
                </div>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}
