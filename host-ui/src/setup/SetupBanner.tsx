import { useState } from 'react';
import { Link } from '../lib/router.tsx';
import { useSession } from '../lib/session.tsx';
import { readProgress, writeProgress } from './progress.ts';

/** Points a new org's Admin at the setup wizard until they finish it or say "not now". */
export function SetupBanner() {
  const s = useSession();
  const [p, setP] = useState(() => readProgress(s.me.org.id, s.me.user.id));
  if (s.me.role !== 'Admin' || p.finished || p.dismissed) return null;
  const dismiss = () => {
    const next = { ...p, dismissed: true };
    writeProgress(s.me.org.id, s.me.user.id, next);
    setP(next);
  };
  return (
    <section className="banner" aria-labelledby="setup-banner-h">
      <div>
        <h2 id="setup-banner-h">Finish setting up {s.me.org.name}</h2>
        <p className="muted small">Add departments, set adoption thresholds, connect sign-in, install a hook and invite your team. It takes a few minutes.</p>
      </div>
      <div className="toolbar">
        <button type="button" className="btn btn--ghost" onClick={dismiss}>Not now</button>
        <Link to="/setup" className="btn btn--primary">Open setup</Link>
      </div>
    </section>
  );
}
