import { useEffect, useId, useState, type FormEvent } from 'react';
import { formatters } from '@orrery/plugin-sdk/frontend';
import { api } from '../lib/api.ts';
import { useSession } from '../lib/session.tsx';
import { Icon } from '../shell/Icon.tsx';

interface TokenRow {
  id: string;
  name: string;
  kind: 'hook' | 'api';
  created_at?: string;
  expires_at?: string | null;
  last_used_at?: string | null;
  prefix?: string;
}

export function TokensPage() {
  const s = useSession();
  const fmt = formatters(s.prefs.locale, s.prefs.tz);
  const [rows, setRows] = useState<TokenRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [kind, setKind] = useState<'hook' | 'api'>('hook');
  const [expires, setExpires] = useState('');
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [status, setStatus] = useState('');
  const tokId = useId();

  const load = () =>
    api.get<{ tokens: TokenRow[] } | TokenRow[]>('/api/v1/tokens').then(
      (r) => setRows(Array.isArray(r) ? r : r.tokens ?? []),
      (e: Error) => setError(e.message),
    );
  useEffect(() => { void load(); }, []);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const body: Record<string, unknown> = { name: name.trim(), kind };
      if (expires) body.expires_at = new Date(`${expires}T23:59:59`).toISOString();
      const r = await api.post<{ id: string; token: string }>('/api/v1/tokens', body);
      setCreated({ name: name.trim(), token: r.token });
      setCopied(false);
      setName('');
      setExpires('');
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const revoke = async (t: TokenRow) => {
    if (!confirm(`Revoke "${t.name}"? Anything using it stops working immediately.`)) return;
    try {
      await api.del(`/api/v1/tokens/${encodeURIComponent(t.id)}`);
      setStatus(`Revoked ${t.name}.`);
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const copy = async () => {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.token);
    } catch {
      // clipboard API needs a secure context: select the text so Ctrl+C works
      (document.getElementById(tokId) as HTMLInputElement | null)?.select();
      document.execCommand?.('copy');
    }
    setCopied(true);
  };

  return (
    <div className="page">
      <div className="page__head"><div><h1>Tokens</h1><p className="muted">Hook tokens send events from agents and editors; API tokens call the Orrery API as you.</p></div></div>
      <section className="card" aria-labelledby="new-token-h">
        <h2 id="new-token-h">Create a token</h2>
        <form className="form-row" onSubmit={create}>
          <label className="field"><span>Name</span><input required value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. laptop hooks" /></label>
          <label className="field"><span>Kind</span>
            <select value={kind} onChange={(e) => setKind(e.target.value as 'hook' | 'api')}>
              <option value="hook">Hook (send events)</option>
              <option value="api">API (read as me)</option>
            </select>
          </label>
          <label className="field"><span>Expires (optional)</span><input type="date" value={expires} onChange={(e) => setExpires(e.target.value)} /></label>
          <button type="submit" className="btn btn--primary" disabled={!name.trim()}>Create token</button>
        </form>
        {created && (
          <div className="token-once" role="region" aria-label="New token">
            <p><strong>{created.name}</strong>: copy this token now. It will not be shown again.</p>
            <div className="token-once__row">
              <input id={tokId} className="mono" readOnly value={created.token} aria-label="New token value" onFocus={(e) => e.target.select()} />
              <button type="button" className="btn" onClick={() => void copy()}><Icon name="copy" /> {copied ? 'Copied' : 'Copy'}</button>
              <button type="button" className="btn btn--ghost" onClick={() => setCreated(null)}>Done</button>
            </div>
          </div>
        )}
        {error && <p role="alert" className="form-error">{error}</p>}
      </section>
      <section className="card" aria-labelledby="tokens-h">
        <h2 id="tokens-h">Your tokens</h2>
        <p role="status" className="sr-only">{status}</p>
        {rows === null ? <p className="muted" role="status">Loading…</p> : rows.length === 0 ? <p className="muted">No tokens yet.</p> : (
          <div className="table-wrap">
            <table className="table">
              <thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {rows.map((t) => (
                  <tr key={t.id}>
                    <th scope="row">{t.name}{t.prefix && <span className="mono muted small"> {t.prefix}…</span>}</th>
                    <td><span className="chip">{t.kind}</span></td>
                    <td>{t.created_at ? fmt.dateTime(t.created_at) : '—'}</td>
                    <td>{t.expires_at ? fmt.dateTime(t.expires_at) : 'Never'}</td>
                    <td>{t.last_used_at ? fmt.relative(t.last_used_at) : 'Never'}</td>
                    <td><button type="button" className="btn btn--small btn--danger" onClick={() => void revoke(t)} aria-label={`Revoke ${t.name}`}>Revoke</button></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
