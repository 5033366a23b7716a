/**
 * Hook install and a test event. The token is created through the real token route and
 * shown once; the test event goes through the real ingestion route with that token, and
 * the step shows it arriving the way every widget does: on the `events.committed` bus
 * topic of the org, through this tab's socket. Ingestion answers 202 only after the
 * commit, and the bus message follows it, so "arrived" here means "stored".
 */
import { useEffect, useId, useRef, useState } from 'react';
import { formatters } from '@orrery/plugin-sdk/frontend';
import { api } from '../lib/api.ts';
import type { BusMessage } from '../lib/realtime.ts';
import type { RouteCatalogue } from '../lib/routes.ts';
import { useRealtimeStatus, useSession } from '../lib/session.tsx';
import { CopyButton } from '../shell/CopyButton.tsx';
import { problem } from './common.tsx';

interface Committed { count: number; types: Record<string, number>; last_at: string; committed_at: string }
interface Arrival { at: string; count: number; types: Record<string, number>; afterSendMs: number | null }

const TOPIC = 'events.committed';

export function testEvent(userId: string) {
  return {
    event_id: crypto.randomUUID(),
    event_type: 'feature_use',
    timestamp: new Date().toISOString(),
    user_id: userId,
    session_id: `setup-${Date.now().toString(36)}`,
    feature_name: 'orrery-setup-test',
    surface: 'web',
  };
}

/** A one-off command: a resend of the same event_id is answered 409 (duplicate), by design. */
export function curlSnippet(origin: string, token: string, event: object) {
  return `curl -sS -X POST ${origin}/api/v1/events \\
  -H 'Authorization: Bearer ${token}' \\
  -H 'Content-Type: application/json' \\
  -d '${JSON.stringify(event, null, 2)}'`;
}

export function clientSnippet(origin: string, userId: string) {
  return `import { createEventClient } from '@orrery/plugin-sdk/client';

// batches, retries with backoff, and keeps unsent events on disk across restarts
const orrery = createEventClient({
  url: '${origin}',
  token: process.env.ORRERY_HOOK_TOKEN!,
  bufferDir: '.orrery-events',
});

orrery.track({
  event_type: 'agent_invocation',
  user_id: '${userId}',
  agent_name: 'code-reviewer',
  model_used: 'claude-sonnet-4-5',
  input_tokens: 1200,
  output_tokens: 300,
  execution_time_ms: 2100,
  status: 'success',
});

await orrery.close(); // flush before the process exits`;
}

export function HookStep({ routes, onDone }: { routes: RouteCatalogue; onDone(): void }) {
  const s = useSession();
  const realtime = useRealtimeStatus();
  const fmt = formatters(s.prefs.locale, s.prefs.tz);
  const canToken = routes.has('post', '/api/v1/tokens');
  const canIngest = routes.has('post', '/api/v1/events');
  const [token, setToken] = useState<string | null>(null);
  const [name, setName] = useState('Setup test hook');
  const [error, setError] = useState<string | null>(null);
  const [send, setSend] = useState<{ state: 'idle' | 'sending' | 'accepted' | 'failed'; text?: string; at?: number }>({ state: 'idle' });
  const [arrivals, setArrivals] = useState<Arrival[]>([]);
  const [tab, setTab] = useState<'curl' | 'client'>('curl');
  const sentAt = useRef<number | null>(null);
  // a fresh event id per token, so the copied command works the first time it is run
  const [curlEvent, setCurlEvent] = useState(() => testEvent(s.me.user.id));
  const tokenId = useId();
  const snippetId = useId();

  // listen from the moment the step opens: events sent from a terminal count too
  useEffect(() => s.hub.subscribe(TOPIC, (m: BusMessage) => {
    if (m.scope.kind !== 'org') return; // each event is published per scope; the org scope counts it once
    const p = m.payload as Committed;
    const afterSendMs = sentAt.current ? Date.now() - sentAt.current : null;
    setArrivals((a) => [{ at: m.at, count: p.count, types: p.types, afterSendMs }, ...a].slice(0, 8));
    onDone();
  }), [s.hub, onDone]);

  const create = async () => {
    setError(null);
    try {
      const r = await api.post<{ id: string; token: string }>('/api/v1/tokens', { name: name.trim() || 'Setup test hook', kind: 'hook' });
      setToken(r.token);
      setCurlEvent(testEvent(s.me.user.id));
    } catch (e) {
      setError(problem(e));
    }
  };

  const sendTest = async () => {
    if (!token) return;
    setSend({ state: 'sending' });
    sentAt.current = Date.now();
    try {
      // the hook token, not the session: exactly what an agent host sends
      const res = await fetch('/api/v1/events', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(testEvent(s.me.user.id)) });
      const answer = (await res.json().catch(() => null)) as { event_id?: string; error?: { message?: string } } | null;
      if (res.ok) setSend({ state: 'accepted', text: `Accepted (${res.status}) in ${Date.now() - sentAt.current} ms: event ${answer?.event_id ?? ''}`, at: sentAt.current });
      else setSend({ state: 'failed', text: `${res.status}: ${answer?.error?.message ?? res.statusText}` });
    } catch (e) {
      setSend({ state: 'failed', text: problem(e) });
    }
  };

  const origin = location.origin;
  const snippet = tab === 'curl' ? curlSnippet(origin, token ?? '<hook token>', curlEvent) : clientSnippet(origin, s.me.user.id);
  const arrived = arrivals.some((a) => a.afterSendMs !== null);

  return (
    <>
      <ol className="steps-inline">
        <li>
          <h3 className="subhead">1. Create a hook token</h3>
          {!canToken ? <p className="form-error">This server has no <code>POST /api/v1/tokens</code>; hook tokens cannot be created here.</p> : token ? (
            <div className="token-once" role="region" aria-label="New hook token">
              <p><strong>Copy this token now.</strong> It is stored hashed and will not be shown again; revoke it on the Tokens page.</p>
              <div className="token-once__row">
                <input id={tokenId} className="mono" readOnly value={token} aria-label="Hook token value" onFocus={(e) => e.target.select()} />
                <CopyButton text={token} fallbackId={tokenId} label="Copy token" />
              </div>
            </div>
          ) : (
            <form className="form-row" onSubmit={(e) => { e.preventDefault(); void create(); }}>
              <label className="field field--grow"><span>Token name</span><input value={name} onChange={(e) => setName(e.target.value)} maxLength={100} /></label>
              <button type="submit" className="btn btn--primary">Create hook token</button>
            </form>
          )}
          {error && <p role="alert" className="form-error">{error}</p>}
        </li>
        <li>
          <h3 className="subhead">2. Send events from your agents</h3>
          <div className="tabs" role="tablist" aria-label="Snippet">
            <button type="button" role="tab" id={`${snippetId}-curl`} aria-selected={tab === 'curl'} aria-controls={snippetId} tabIndex={tab === 'curl' ? 0 : -1} onClick={() => setTab('curl')}
              onKeyDown={(e) => { if (e.key === 'ArrowRight') { setTab('client'); document.getElementById(`${snippetId}-client`)?.focus(); } }}>curl</button>
            <button type="button" role="tab" id={`${snippetId}-client`} aria-selected={tab === 'client'} aria-controls={snippetId} tabIndex={tab === 'client' ? 0 : -1} onClick={() => setTab('client')}
              onKeyDown={(e) => { if (e.key === 'ArrowLeft') { setTab('curl'); document.getElementById(`${snippetId}-curl`)?.focus(); } }}>Event client (Node)</button>
          </div>
          <div className="code-block" role="tabpanel" aria-labelledby={`${snippetId}-${tab}`}>
            <div className="code-block__head"><span>{tab === 'curl' ? 'Shell' : 'TypeScript'}</span><CopyButton text={snippet} fallbackId={snippetId} label="Copy snippet" /></div>
            <textarea id={snippetId} className="mono" readOnly value={snippet} rows={Math.min(22, snippet.split('\n').length)} aria-label={tab === 'curl' ? 'curl command' : 'Event client example'} />
          </div>
        </li>
        <li>
          <h3 className="subhead">3. Send a test event and watch it arrive</h3>
          {!canIngest && <p className="notice small">This server does not accept events yet (no <code>POST /api/v1/events</code>). The panel below still shows events that arrive from elsewhere.</p>}
          <div className="row-start">
            <button type="button" className="btn btn--primary" disabled={!token || !canIngest || send.state === 'sending'} onClick={() => void sendTest()}>
              {send.state === 'sending' ? 'Sending…' : 'Send a test event'}
            </button>
            {!token && canIngest && <span className="muted small">Create the token first.</span>}
            {send.text && <span role={send.state === 'failed' ? 'alert' : 'status'} className={send.state === 'failed' ? 'form-error' : 'small'}>{send.text}</span>}
          </div>
          <div className={`livefeed${arrived ? ' livefeed--ok' : ''}`} aria-live="polite" aria-label="Events arriving live">
            <div className="livefeed__head">
              <span className={`live live--${realtime}`}><span className="live__dot" aria-hidden="true" /> {realtime === 'live' ? 'Listening on events.committed' : `Realtime: ${realtime}`}</span>
            </div>
            {arrivals.length === 0 ? (
              <p className="muted small">{send.state === 'accepted' ? 'Accepted; waiting for the realtime notice…' : 'Waiting for events…'}</p>
            ) : (
              <ul className="livefeed__list">
                {arrivals.map((a, i) => (
                  <li key={`${a.at}-${i}`}>
                    <strong>{a.count} event{a.count === 1 ? '' : 's'}</strong> committed at {fmt.dateTime(a.at)}
                    <span className="muted small"> · {Object.entries(a.types).map(([t, n]) => `${t} × ${n}`).join(', ')}</span>
                    {a.afterSendMs !== null && <span className="chip chip--ok">{fmt.number(a.afterSendMs)} ms after sending</span>}
                  </li>
                ))}
              </ul>
            )}
          </div>
          {arrived && <p className="ok-text" role="status">Your test event arrived. Hooks are working.</p>}
        </li>
      </ol>
    </>
  );
}
