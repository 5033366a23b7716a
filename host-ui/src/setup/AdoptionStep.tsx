/**
 * Adoption thresholds and support triggers belong to the adoption plugin, whose routes
 * and settings shapes are its own. The step reads them from the server's API description:
 * every adoption route that can be read and written with a declared JSON body becomes a
 * form rendered from that schema, so the wizard never has to guess field names.
 */
import { useEffect, useState } from 'react';
import { api } from '../lib/api.ts';
import { Link } from '../lib/router.tsx';
import type { JsonSchema } from '../lib/plugins.ts';
import type { RouteCatalogue } from '../lib/routes.ts';
import { useSession } from '../lib/session.tsx';
import { humanize, OptionsForm } from '../dashboard/OptionsForm.tsx';
import { Loading, Missing, problem, useLoad } from './common.tsx';

/**
 * `preview`: the route's `POST <path>/preview`, when it has one. It takes the same body and
 * answers `{summary, rows?: [{label, current, next}]}` without saving: the form shows it as
 * the Admin types, so thresholds can be tuned before anyone is told.
 */
interface SettingsRoute { path: string; write: 'put' | 'patch' | 'post'; schema: JsonSchema; title: string; preview: string | null }

/** The settings-preview convention's answer (see SettingsRoute). */
interface PreviewAnswer { summary: string; rows?: Array<{ label: string; current: number; next: number }> }
/** A save's answer may say what to do next (`follow_up`): a message and a portal link. */
interface FollowUp { message: string; href: string; label: string }

const SETTINGS = /(threshold|trigger|setting|config|rule)/i;

export function settingsRoutes(routes: RouteCatalogue, prefix: string): SettingsRoute[] {
  return routes
    .find((p) => p.startsWith(prefix) && SETTINGS.test(p) && !p.includes('{') && !p.endsWith('/preview'))
    .flatMap(({ path, methods }) => {
      const write = (['put', 'patch', 'post'] as const).find((m) => methods.includes(m) && routes.bodySchema(m, path)?.properties);
      if (!write || !methods.includes('get')) return [];
      const schema = routes.bodySchema(write, path)!;
      const last = path.split('/').filter(Boolean).pop() ?? path;
      // "Settings" alone says nothing on a page of several forms: name the owner
      const title = schema.title ?? (/^(settings|config)$/i.test(last) ? `Adoption ${last.toLowerCase()}` : humanize(last));
      return [{ path, write, schema, title, preview: routes.has('post', `${path}/preview`) ? `${path}/preview` : null }];
    });
}

export function AdoptionStep({ routes, onDone }: { routes: RouteCatalogue; onDone(): void }) {
  const s = useSession();
  const plugin = s.plugins.find((p) => p.id === 'adoption');
  const prefix = `/api/v1/${(plugin?.routePrefix ?? 'adoption').replace(/^\/+|\/+$/g, '')}`;
  const forms = settingsRoutes(routes, prefix);

  if (!plugin && !forms.length) {
    return (
      <Missing what="The adoption plugin" routes={[`${prefix}/… (thresholds and support triggers)`]}>
        <p className="small">Adoption scores, support flags and their thresholds come from the adoption plugin. Once it is installed and turned on in <Link to="/settings">Settings</Link>, its settings appear here.</p>
      </Missing>
    );
  }
  if (plugin && plugin.enabled === false) {
    return <p className="notice">The adoption plugin is turned off for {s.me.org.name}. Turn it on in <Link to="/settings">Settings</Link> to set its thresholds.</p>;
  }
  if (!forms.length) {
    return (
      <Missing what="Editing adoption thresholds" routes={[`GET and PUT ${prefix}/thresholds (or another settings route with a JSON body)`]}>
        <p className="small">The adoption plugin is on, but it offers no settings route this wizard can edit.</p>
      </Missing>
    );
  }
  return <>{forms.map((f) => <SettingsForm key={f.path} route={f} onSaved={onDone} />)}</>;
}

/** The answer may be the settings object itself or wrap it in one key (`{thresholds: {...}}`). */
function unwrap(answer: unknown, schema: JsonSchema): Record<string, unknown> {
  if (!answer || typeof answer !== 'object') return {};
  const a = answer as Record<string, unknown>;
  const keys = Object.keys(schema.properties ?? {});
  if (keys.some((k) => k in a)) return a;
  const inner = Object.values(a).filter((v) => v && typeof v === 'object' && !Array.isArray(v));
  return inner.length === 1 ? (inner[0] as Record<string, unknown>) : a;
}

function SettingsForm({ route, onSaved }: { route: SettingsRoute; onSaved(): void }) {
  const current = useLoad(() => api.get<unknown>(route.path));
  const [draft, setDraft] = useState<Record<string, unknown> | null>(null);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const value = draft ?? (current.data !== undefined ? unwrap(current.data, route.schema) : {});
  // only the fields the route accepts go back: answers often carry ids and timestamps too
  const body = Object.fromEntries(Object.entries(value).filter(([k]) => k in (route.schema.properties ?? {})));

  const [followUp, setFollowUp] = useState<FollowUp | null>(null);
  const preview = usePreview(route, draft ? body : null);

  const save = async () => {
    setBusy(true);
    setMsg(null);
    setFollowUp(null);
    try {
      const answer = await api.request<{ follow_up?: FollowUp } | null>(route.write.toUpperCase(), route.path, { body });
      setMsg({ ok: true, text: `${route.title} saved.` });
      if (answer && typeof answer === 'object' && answer.follow_up) setFollowUp(answer.follow_up);
      setDraft(null);
      current.reload();
      onSaved();
    } catch (e) {
      setMsg({ ok: false, text: problem(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="subcard" onSubmit={(e) => { e.preventDefault(); void save(); }}>
      {current.loading && current.data === undefined ? <Loading what={route.title.toLowerCase()} /> : (
        <>
          {current.error && <p className="notice small">Could not read the current values ({current.error}); the form starts empty.</p>}
          <OptionsForm legend={route.title} schema={route.schema} value={value} onChange={setDraft} />
          {route.schema.description && <p className="muted small">{route.schema.description}</p>}
          {route.preview && <PreviewPanel state={preview} />}
          {followUp && (
            <p className="notice" role="status">
              {followUp.message} <Link to={followUp.href}>{followUp.label}</Link>
            </p>
          )}
          <div className="row-end">
            {msg && <p role={msg.ok ? 'status' : 'alert'} className={msg.ok ? 'ok-text small' : 'form-error'}>{msg.text}</p>}
            <button type="submit" className="btn btn--primary" disabled={busy || !draft}>Save {route.title.toLowerCase()}</button>
          </div>
        </>
      )}
    </form>
  );
}

type PreviewState = { status: 'idle' } | { status: 'loading' } | { status: 'ok'; answer: PreviewAnswer } | { status: 'error'; message: string };

/** Asks the route's preview for the edited values, 400 ms after the last change (stale answers dropped). */
function usePreview(route: SettingsRoute, body: Record<string, unknown> | null): PreviewState {
  const [state, setState] = useState<PreviewState>({ status: 'idle' });
  const key = body ? JSON.stringify(body) : '';
  useEffect(() => {
    if (!route.preview) return;
    let alive = true;
    setState((s) => (s.status === 'ok' ? s : { status: 'loading' }));
    const t = setTimeout(() => {
      api.request<PreviewAnswer>('POST', route.preview!, { body: body ?? {} }).then(
        (answer) => alive && setState({ status: 'ok', answer }),
        (e: unknown) => alive && setState({ status: 'error', message: problem(e) }),
      );
    }, body ? 400 : 0);
    return () => { alive = false; clearTimeout(t); };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [route.preview, key]);
  return state;
}

function PreviewPanel({ state }: { state: PreviewState }) {
  return (
    <section className="preview subcard" aria-labelledby="preview-title">
      <h4 id="preview-title">Preview: nothing is saved or sent yet</h4>
      <div aria-live="polite" aria-atomic="true">
        {state.status === 'error' ? (
          <p className="form-error">{state.message}</p>
        ) : state.status === 'ok' ? (
          <>
            <p className="preview__summary">{state.answer.summary}</p>
            {state.answer.rows?.length ? (
              <table className="preview__table">
                <thead><tr><th scope="col"></th><th scope="col">Now</th><th scope="col">With these settings</th></tr></thead>
                <tbody>
                  {state.answer.rows.map((r) => (
                    <tr key={r.label}>
                      <th scope="row">{r.label}</th>
                      <td>{r.current}</td>
                      <td>{r.next}{r.next !== r.current ? <span className="muted small"> ({r.next > r.current ? '+' : ''}{r.next - r.current})</span> : null}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : null}
          </>
        ) : (
          <p className="muted small">Working out what these settings would do…</p>
        )}
      </div>
    </section>
  );
}
