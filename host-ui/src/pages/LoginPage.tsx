import { useEffect, useId, useState, type FormEvent } from 'react';
import { api, ApiError } from '../lib/api.ts';
import { Logo } from '../shell/Logo.tsx';

interface Provider { id: string; name: string; url?: string }

export function LoginPage({ onLoggedIn }: { onLoggedIn(): Promise<void> }) {
  const params = new URLSearchParams(location.search);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [org, setOrg] = useState(params.get('org') ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [providers, setProviders] = useState<Provider[]>([]);
  const errId = useId();

  useEffect(() => {
    // OIDC is optional: a platform without providers answers 404 or an empty list
    api.get<Provider[] | { providers: Provider[] }>('/api/v1/auth/providers')
      .then((r) => setProviders(Array.isArray(r) ? r : r.providers ?? []))
      .catch(() => setProviders([]));
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.login(email.trim(), password, org.trim() || undefined);
      await onLoggedIn();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'That email and password do not match an account.' : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <div className="login__card">
        <div className="login__brand"><Logo /> <span>Orrery</span></div>
        <h1>Sign in</h1>
        <p className="muted">Agent analytics and AI adoption for your organization.</p>
        {providers.length > 0 && (
          <div className="login__providers">
            {providers.map((p) => (
              <a key={p.id} className="btn btn--outline btn--block" href={p.url ?? `/api/v1/auth/oidc/${encodeURIComponent(p.id)}/start`}>
                Continue with {p.name}
              </a>
            ))}
            <div className="login__or"><span>or</span></div>
          </div>
        )}
        <form onSubmit={submit} aria-describedby={error ? errId : undefined} noValidate>
          <label className="field">
            <span>Email</span>
            <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
          </label>
          <label className="field">
            <span>Password</span>
            <input type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          </label>
          <details className="login__more" open={!!org}>
            <summary>Organization</summary>
            <label className="field">
              <span>Organization (slug, if you belong to several)</span>
              <input name="org" value={org} onChange={(e) => setOrg(e.target.value)} placeholder="demo" />
            </label>
          </details>
          {error && <p id={errId} role="alert" className="form-error">{error}</p>}
          <button type="submit" className="btn btn--primary btn--block" disabled={busy || !email || !password}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  );
}
