import { useState } from 'react';
import { Link } from '../lib/router.tsx';
import { useSession } from '../lib/session.tsx';
import { readProgress, writeProgress } from './progress.ts';
import { STEPS } from './steps.ts';
import { listOf, stepState } from './facts.ts';
import { useStepsDoneOnServer } from './serverState.ts';

/**
 * Points a new org's Admin at the setup wizard until every step is done (on the server or
 * in the wizard), they finish the wizard, or they say "not now". Names what is left.
 * `after`: what to wait for before asking the server (the page's widgets' data); null: not yet.
 */
export function SetupBanner({ after }: { after: (() => Promise<void>) | null }) {
  const s = useSession();
  const [p, setP] = useState(() => readProgress(s.me.org.id, s.me.user.id));
  const onServer = useStepsDoneOnServer({ defer: true, after });
  if (s.me.role !== 'Admin' || p.finished || p.dismissed || !onServer) return null;
  const left = STEPS.filter((x) => stepState(x.id, p, onServer) !== 'done');
  if (!left.length) return null;
  const dismiss = () => {
    const next = { ...p, dismissed: true };
    writeProgress(s.me.org.id, s.me.user.id, next);
    setP(next);
  };
  const done = STEPS.length - left.length;
  return (
    <section className="banner" aria-labelledby="setup-banner-h">
      <div>
        <h2 id="setup-banner-h">Finish setting up {s.me.org.name}</h2>
        <p className="muted small">
          {done ? `${done} of ${STEPS.length} steps done. Still to do: ${listOf(left.map((x) => x.short))}.` : 'Add departments, set adoption thresholds, connect sign-in, install a hook and invite your team. It takes a few minutes.'}
        </p>
      </div>
      <div className="toolbar">
        <button type="button" className="btn btn--ghost" onClick={dismiss}>Not now</button>
        <Link to={`/setup?step=${left[0]!.id}`} className="btn btn--primary">{done ? 'Continue setup' : 'Open setup'}</Link>
      </div>
    </section>
  );
}
