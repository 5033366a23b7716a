import { useEffect, useRef, useState } from 'react';
import { api } from './lib/api.ts';
import { navigate, usePath } from './lib/router.tsx';
import { SessionProvider, fetchMe, type Me } from './lib/session.tsx';
import { LoginPage } from './pages/LoginPage.tsx';
import { InvitePage } from './pages/InvitePage.tsx';
import { Shell } from './shell/Shell.tsx';

/** Tokens handed back in the URL fragment by an OIDC login redirect. */
function adoptTokensFromHash() {
  if (!location.hash.includes('access_token=')) return;
  const h = new URLSearchParams(location.hash.slice(1));
  const access = h.get('access_token');
  const refresh = h.get('refresh_token');
  if (access && refresh) api.setTokens({ access_token: access, refresh_token: refresh, expires_in: Number(h.get('expires_in') ?? 900) });
  history.replaceState(null, '', location.pathname + location.search);
}

export function App() {
  const [state, setState] = useState<{ status: 'loading' } | { status: 'anon' } | { status: 'in'; me: Me } | { status: 'error'; message: string }>({ status: 'loading' });
  const path = usePath();
  // the listener below outlives renders: it reads the status of now, not of the first render
  const status = useRef(state.status);
  status.current = state.status;

  useEffect(() => {
    adoptTokensFromHash();
    let alive = true;
    const load = async () => {
      if (!api.tokens) return setState({ status: 'anon' });
      try {
        const me = await fetchMe();
        if (alive) setState(me ? { status: 'in', me } : { status: 'anon' });
      } catch (e) {
        // signed in already (a token refresh, another tab): a failed re-read keeps the portal
        // as it is rather than trading it for "not reachable"; the next request tells the truth
        if (alive && status.current !== 'in') setState({ status: 'error', message: (e as Error).message });
      }
    };
    void load();
    // logged in, refreshed or logged out in this or another tab (another tab may be another user)
    const off = api.onChange((pair) => {
      if (!pair) setState({ status: 'anon' });
      else void load();
    });
    return () => { alive = false; off(); };
  }, []);

  useEffect(() => {
    if (path === '/invite') return; // an invitation link works signed in or not
    if (state.status === 'anon' && path !== '/login') navigate(`/login${path && path !== '/' ? `?next=${encodeURIComponent(path)}` : ''}`, { replace: true });
    if (state.status === 'in' && path === '/login') navigate('/', { replace: true });
  }, [state.status, path]);

  // before the session checks: the person following an invitation usually has no session yet
  if (path === '/invite') return <InvitePage />;
  if (state.status === 'loading') return <div className="boot" role="status">Loading Orrery…</div>;
  if (state.status === 'error') {
    return (
      <main className="boot">
        <h1>Orrery is not reachable</h1>
        <p>{state.message}</p>
        <button className="btn" onClick={() => location.reload()}>Retry</button>
      </main>
    );
  }
  if (state.status === 'anon') {
    return <LoginPage onLoggedIn={async () => {
      const me = await fetchMe();
      if (me) {
        setState({ status: 'in', me });
        const next = new URLSearchParams(location.search).get('next');
        navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
      }
    }} />;
  }
  return (
    <SessionProvider key={state.me.org.id + state.me.user.id} me={state.me}>
      <Shell />
    </SessionProvider>
  );
}
