import { useEffect, useState } from 'react';
import { api } from '../lib/api.ts';
import type { PluginManifest } from '../lib/plugins.ts';
import { useSession } from '../lib/session.tsx';
import { Link } from '../lib/router.tsx';
import { readProgress } from '../setup/progress.ts';
import { stepState } from '../setup/facts.ts';
import { useStepsDoneOnServer } from '../setup/serverState.ts';
import { STEPS } from '../setup/steps.ts';

export function SettingsPage() {
  const s = useSession();
  const isAdmin = s.me.role === 'Admin';
  const [busy, setBusy] = useState<string | null>(null);
  const [msg, setMsg] = useState<string | null>(null);
  // Admins see disabled plugins too, so they can turn them back on
  const [all, setAll] = useState<PluginManifest[] | null>(null);
  const loadAll = () => api.get<{ plugins: PluginManifest[] }>('/api/v1/plugins', { all: true }).then((r) => setAll(r.plugins), () => setAll(null));
  useEffect(() => { if (isAdmin) void loadAll(); }, [isAdmin]);
  const list = isAdmin && all ? all : s.plugins;

  const toggle = async (id: string, title: string, enabled: boolean) => {
    setBusy(id);
    setMsg(null);
    try {
      await api.put(`/api/v1/admin/plugins/${encodeURIComponent(id)}`, { enabled });
      await Promise.all([s.reloadPlugins(), loadAll()]);
      setMsg(`${title} is now ${enabled ? 'on' : 'off'} for ${s.me.org.name}.`);
    } catch (e) {
      setMsg(`Could not change ${title}: ${(e as Error).message}`);
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="page">
      <div className="page__head"><div><h1>Settings</h1><p className="muted">{s.me.org.name} · platform SDK {s.sdkVersion ?? 'unknown'}</p></div></div>
      {isAdmin && <SetupCard />}
      <section className="card" aria-labelledby="plugins-h">
        <h2 id="plugins-h">Plugins</h2>
        {!isAdmin && <p className="muted">Only Admins can turn plugins on and off. These are the plugins enabled for your organization.</p>}
        <p role="status" aria-live="polite" className="small">{msg}</p>
        <ul className="plugin-list">
          {list.map((p) => (
            <li key={p.id} className="plugin-row">
              <div className="plugin-row__text">
                <h3>{p.title} <span className="muted small">{p.version}</span></h3>
                <p className="muted small">{p.description}</p>
                <p className="small muted">{p.widgets.length} widget{p.widgets.length === 1 ? '' : 's'} · /api/v1/{p.routePrefix}</p>
              </div>
              {isAdmin && p.id === 'dashboards' ? (
                // the portal keeps its layouts in this plugin: a disabled switch alone did not say why
                <span className="chip chip--muted" title="The portal stores dashboards with this plugin, so it cannot be turned off">Always on</span>
              ) : isAdmin ? (
                <label className="switch">
                  <input type="checkbox" role="switch" checked={p.enabled !== false} disabled={busy === p.id}
                    onChange={(e) => void toggle(p.id, p.title, e.target.checked)} />
                  <span className="switch__track" aria-hidden="true" />
                  <span className="sr-only">{p.title} enabled</span>
                </label>
              ) : (
                <span className="chip">{p.enabled !== false ? 'On' : 'Off'}</span>
              )}
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

function SetupCard() {
  const s = useSession();
  const p = readProgress(s.me.org.id, s.me.user.id);
  const onServer = useStepsDoneOnServer() ?? new Set();
  const done = STEPS.filter((x) => stepState(x.id, p, onServer) === 'done').length;
  const firstOpen = STEPS.find((x) => stepState(x.id, p, onServer) !== 'done');
  return (
    <section className="card card--row" aria-labelledby="setup-h">
      <div>
        <h2 id="setup-h">Set up the organization</h2>
        <p className="muted small">Departments, adoption thresholds, single sign-on, a hook with a test event, and people. {done} of {STEPS.length} steps done.</p>
      </div>
      <Link to={`/setup${firstOpen ? `?step=${firstOpen.id}` : ''}`} className="btn btn--primary">{done ? 'Continue setup' : 'Start setup'}</Link>
    </section>
  );
}
