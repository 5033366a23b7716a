/**
 * Single sign-on. Providers are part of the platform's config (`auth.providers` in
 * app-config.yaml, secrets through env vars), so unless the server offers a route to
 * manage them at run time, the step helps write that config block and says that it needs
 * a restart, rather than pretending to save anything.
 */
import { useId, useState } from 'react';
import { api } from '../lib/api.ts';
import type { RouteCatalogue } from '../lib/routes.ts';
import { useSession } from '../lib/session.tsx';
import { CopyButton } from '../shell/CopyButton.tsx';
import { Loading, useLoad } from './common.tsx';

interface Provider { id: string; name: string; type?: string }

const TYPES = [
  { id: 'oidc', label: 'Any OIDC issuer (Okta, Auth0, Keycloak, …)' },
  { id: 'google', label: 'Google Workspace' },
  { id: 'microsoft', label: 'Microsoft 365 (Entra ID)' },
  { id: 'github', label: 'GitHub' },
] as const;

export function yamlFor(p: { id: string; type: string; name: string; issuer: string; tenant: string; clientId: string; org: string; role: string; domain: string }): string {
  const q = (v: string) => (/^[\w.@:/-]+$/.test(v) ? v : JSON.stringify(v));
  const lines = [
    'auth:',
    '  providers:',
    `    - id: ${q(p.id || 'sso')}`,
    `      type: ${p.type}`,
    `      name: ${q(p.name || 'Single sign-on')}`,
  ];
  if (p.type === 'oidc') lines.push(`      issuer: ${q(p.issuer || 'https://login.example.com')}`);
  if (p.type === 'microsoft') lines.push(`      tenant: ${q(p.tenant || '<your tenant id>')}`);
  lines.push(
    `      clientId: ${q(p.clientId || '<client id>')}`,
    '      clientSecret: ${ORRERY_SSO_CLIENT_SECRET}',
    `      autoJoinOrg: ${q(p.org)}`,
    `      autoJoinRole: ${p.role}`,
  );
  lines.push(p.domain.trim() ? `      allowedDomains: [${p.domain.split(/[\s,]+/).filter(Boolean).map(q).join(', ')}]` : '      allowedDomains: []');
  return `${lines.join('\n')}\n`;
}

export function SsoStep({ routes, onDone }: { routes: RouteCatalogue; onDone(): void }) {
  const s = useSession();
  const hasList = routes.has('get', '/api/v1/auth/providers');
  const providers = useLoad(hasList ? () => api.get<Provider[] | { providers: Provider[] }>('/api/v1/auth/providers').then((r) => (Array.isArray(r) ? r : r.providers ?? [])) : null);
  const callback = routes.find((p) => /\/auth\/(oidc|sso)\/\{[^}]+\}\/callback$/.test(p))[0]?.path;
  const [f, setF] = useState({ id: 'sso', type: 'oidc', name: '', issuer: '', tenant: '', clientId: '', org: s.me.org.slug, role: 'Developer', domain: '' });
  const yamlId = useId();
  const yaml = yamlFor(f);
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const redirect = callback ? `${location.origin}${callback.replace(/\{[^}]+\}/, encodeURIComponent(f.id || 'sso'))}` : null;

  return (
    <>
      <h3 className="subhead">Providers configured now</h3>
      {!hasList ? (
        <p className="muted small">This server cannot list its sign-in providers (no <code>GET /api/v1/auth/providers</code>); the sign-in page shows them when it can.</p>
      ) : providers.loading && !providers.data ? <Loading what="providers" /> : providers.data?.length ? (
        <ul className="rows">{providers.data.map((p) => <li key={p.id} className="rows__row"><span className="rows__main">{p.name || p.id}</span><span className="chip">{p.type ?? 'oidc'}</span></li>)}</ul>
      ) : <p className="muted empty-line">None yet: people sign in with an email and password.</p>}

      <div className="notice small" role="note">
        Sign-in providers are set in the platform’s config file, not in the database: this server has no route to add one while it runs. Fill in the form, put the block into <code>app-config.yaml</code>, set the secret as an environment variable, and restart Orrery.
      </div>
      <div className="form-grid">
        <label className="field"><span>Provider</span>
          <select value={f.type} onChange={set('type')}>{TYPES.map((t) => <option key={t.id} value={t.id}>{t.label}</option>)}</select>
        </label>
        <label className="field"><span>Button label</span><input value={f.name} onChange={set('name')} placeholder="e.g. Acme SSO" /></label>
        <label className="field"><span>Short id (in URLs)</span><input value={f.id} onChange={set('id')} pattern="[a-z0-9][a-z0-9-]{0,39}" /></label>
        {f.type === 'oidc' && <label className="field"><span>Issuer URL</span><input type="url" value={f.issuer} onChange={set('issuer')} placeholder="https://login.example.com" /></label>}
        {f.type === 'microsoft' && <label className="field"><span>Tenant id</span><input value={f.tenant} onChange={set('tenant')} /></label>}
        <label className="field"><span>Client id</span><input value={f.clientId} onChange={set('clientId')} /></label>
        <label className="field"><span>New users join as</span>
          <select value={f.role} onChange={set('role')}>{['Developer', 'Manager', 'Admin'].map((r) => <option key={r}>{r}</option>)}</select>
        </label>
        <label className="field"><span>Allowed email domains</span><input value={f.domain} onChange={set('domain')} placeholder="example.com (empty: any verified email)" /></label>
      </div>
      {redirect && <p className="small">Redirect URI to register with the provider: <code className="break">{redirect}</code></p>}
      <div className="code-block">
        <div className="code-block__head"><span>app-config.yaml</span><CopyButton text={yaml} fallbackId={yamlId} label="Copy config" /></div>
        <textarea id={yamlId} className="mono" readOnly value={yaml} rows={yaml.split('\n').length} aria-label="Config block for app-config.yaml" />
      </div>
      <p className="muted small">The client secret stays out of the file: set <code>ORRERY_SSO_CLIENT_SECRET</code> in the platform’s environment.</p>
      <button type="button" className="btn btn--small" onClick={onDone}>I have added this to the config</button>
    </>
  );
}
