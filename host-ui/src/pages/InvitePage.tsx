/**
 * Where an invitation link lands (`/invite#token=…`). The token rides in the fragment so
 * it never reaches a server log; it is read once, removed from the address bar, and sent
 * in request bodies only.
 */
import { useEffect, useId, useState, type FormEvent } from 'react';
import { api, ApiError } from '../lib/api.ts';
import { navigate } from '../lib/router.tsx';
import { Logo } from '../shell/Logo.tsx';

interface Lookup { org: { slug: string; name: string }; email: string; role: string; expires_at: string; has_account: boolean }

function takeToken(): string | null {
  const t = new URLSearchParams(location.hash.slice(1)).get('token');
  if (t) {
    sessionStorage.setItem('orrery.invite', t); // survives a reload of this page
    history.replaceState(null, '', location.pathname);
  }
  return t ?? sessionStorage.getItem('orrery.invite');
}

export function InvitePage() {
  const [token] = useState(takeToken);
  const [info, setInfo] = useState<Lookup | null>(null);
  const [error, setError] = useState<string | null>(token ? null : 'This link has no invitation in it. Open the link from your invitation email again.');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const errId = useId();

  useEffect(() => {
    if (!token) return;
    api.post<Lookup>('/api/v1/invitations/lookup', { token }).then(setInfo, (e: unknown) => setError(e instanceof ApiError && e.status === 404
      ? 'This invitation link is not valid any more: it may have expired, been revoked or already been used. Ask the person who invited you for a new one.'
      : (e as Error).message));
  }, [token]);

  const accept = async (e: FormEvent) => {
    e.preventDefault();
    if (!token || !info) return;
    setBusy(true);
    setError(null);
    try {
      const pair = await api.post<{ access_token: string; refresh_token: string; expires_in: number }>('/api/v1/invitations/accept', {
        token, ...(info.has_account ? (password ? { password } : {}) : { password, ...(name.trim() ? { display_name: name.trim() } : {}) }),
      });
      sessionStorage.removeItem('orrery.invite');
      api.setTokens(pair);
      navigate('/', { replace: true });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <div className="login__card">
        <div className="login__brand"><Logo /> <span>Orrery</span></div>
        {info ? (
          <>
            <h1>Join {info.org.name}</h1>
            <p className="muted">You were invited as <strong>{info.role}</strong> with <span className="break">{info.email}</span>.</p>
            <form onSubmit={accept} aria-describedby={error ? errId : undefined}>
              {!info.has_account && (
                <>
                  <label className="field"><span>Your name</span><input value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" maxLength={200} /></label>
                  <label className="field"><span>Choose a password</span>
                    <input type="password" required minLength={12} value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" aria-describedby={`${errId}-pw`} />
                    <small id={`${errId}-pw`} className="muted">At least 12 characters.</small>
                  </label>
                </>
              )}
              {info.has_account && (
                <>
                  <p className="small">You already have an Orrery account: accepting adds {info.org.name} to it. Confirm it is yours with its password.</p>
                  <label className="field"><span>Your Orrery password</span>
                    <input type="password" required value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" />
                  </label>
                </>
              )}
              {error && <p id={errId} role="alert" className="form-error">{error}</p>}
              <button type="submit" className="btn btn--primary btn--block" disabled={busy || (info.has_account ? password.length === 0 : password.length < 12)}>{busy ? 'Joining…' : `Join ${info.org.name}`}</button>
            </form>
          </>
        ) : (
          <>
            <h1>Invitation</h1>
            {error ? <p id={errId} role="alert" className="form-error">{error}</p> : <p className="muted" role="status">Checking your invitation…</p>}
            <p className="small"><a href="/login">Go to sign in</a></p>
          </>
        )}
      </div>
    </main>
  );
}
