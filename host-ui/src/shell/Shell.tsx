import { useEffect, useRef } from 'react';
import { Link, navigate, usePath } from '../lib/router.tsx';
import { useRealtimeStatus, useSession } from '../lib/session.tsx';
import { DashboardPage } from '../dashboard/DashboardPage.tsx';
import { CataloguePage } from '../pages/CataloguePage.tsx';
import { SettingsPage } from '../pages/SettingsPage.tsx';
import { TokensPage } from '../pages/TokensPage.tsx';
import { ProfilePage } from '../pages/ProfilePage.tsx';
import { SetupPage } from '../setup/SetupPage.tsx';
import { PluginPage } from '../pages/PluginPage.tsx';
import { DashboardsPage } from '../dashboards/DashboardsPage.tsx';
import { NamedDashboardPage } from '../dashboards/NamedDashboardPage.tsx';
import { parsePagePath } from '../lib/pagePath.ts';
import { navPages } from '../lib/plugins.ts';
import { Tour } from '../tour/Tour.tsx';
import { Logo } from './Logo.tsx';
import { TimeRangePicker } from './TimeRangePicker.tsx';

const TITLES: Record<string, string> = {
  '/': 'Dashboard',
  '/dashboards': 'Dashboards',
  '/catalogue': 'Widget catalogue',
  '/settings': 'Settings',
  '/tokens': 'Tokens',
  '/me': 'Your account',
  '/setup': 'Set up the organization',
};

export function Shell() {
  const s = useSession();
  const path = usePath();
  const mainRef = useRef<HTMLElement>(null);

  // a route change moves focus to the page, as a full page load would, and names it
  useEffect(() => {
    // a plugin page names itself once its manifest entry is known (PluginPage)
    if (!parsePagePath(path)) document.title = `${TITLES[path] ?? 'Orrery'} · ${s.me.org.name} · Orrery`;
    mainRef.current?.focus({ preventScroll: true });
  }, [path, s.me.org.name]);

  const page = (() => {
    switch (path) {
      case '/': return <DashboardPage />;
      case '/dashboards': return <DashboardsPage />;
      case '/catalogue': return <CataloguePage />;
      case '/settings': return <SettingsPage />;
      case '/tokens': return <TokensPage />;
      case '/me': return <ProfilePage />;
      case '/setup': return <SetupPage />;
      default: {
        if (path.startsWith('/d/')) return <NamedDashboardPage key={path} id={decodeURIComponent(path.slice(3))} />;
        const pg = parsePagePath(path);
        if (pg) return <PluginPage key={`${pg.pluginId}/${pg.pageId}`} pluginId={pg.pluginId} pageId={pg.pageId} />;
        return (
        <div className="page"><h1>Not found</h1><p>There is no page at {path}.</p><Link to="/">Back to the dashboard</Link></div>
        );
      }
    }
  })();

  return (
    <div className="shell">
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="topbar">
        <Link to="/" className="brand" aria-label="Orrery home"><Logo /><span>Orrery</span></Link>
        <nav aria-label="Main" className="topnav">
          <Link to="/">Dashboard</Link>
          <Link to="/dashboards">Dashboards</Link>
          <Link to="/catalogue" data-tour="catalogue">Catalogue</Link>
          <Link to="/tokens">Tokens</Link>
          <Link to="/settings" data-tour="settings">Settings</Link>
          <PluginNav />
        </nav>
        <div className="topbar__context">
          <OrgSwitcher />
          <DepartmentSwitcher />
          <TimeRangePicker />
        </div>
        <div className="topbar__end">
          <LiveStatus />
          <Link to="/me" className="avatar">
            {/* the initials are a picture of the name, not text to read out; the link's name says it in
                full (as text, not aria-label: a label that leaves out what is visible fails label-in-name) */}
            <span aria-hidden="true">{initials(s.me.user.display_name || s.me.user.email)}</span>
            <span className="sr-only">Your account: {s.me.user.display_name || s.me.user.email}</span>
          </Link>
        </div>
      </header>
      <main id="main" ref={mainRef} tabIndex={-1} className="main">{page}</main>
      <Tour />
    </div>
  );
}

/**
 * Plugin pages marked `nav`: inline while there are few, else in a "More" menu (a native
 * disclosure, so it opens with the keyboard and closes once a page is chosen).
 */
function PluginNav() {
  const s = useSession();
  const path = usePath();
  const pages = navPages(s.plugins);
  if (!pages.length) return null;
  if (pages.length <= 2) return <>{pages.map((p) => <Link key={p.path} to={p.path} title={p.page.description}>{p.page.title}</Link>)}</>;
  const current = pages.find((p) => p.path === path);
  return (
    <details className="navmenu" key={path}>
      <summary aria-current={current ? 'page' : undefined}>{current ? current.page.title : 'More'}</summary>
      <ul role="list" className="navmenu__list">
        {pages.map((p) => (
          <li key={p.path}>
            <Link to={p.path}>
              <span className="navmenu__title">{p.page.title}</span>
              <span className="navmenu__desc small">{p.plugin.title}: {p.page.description}</span>
            </Link>
          </li>
        ))}
      </ul>
    </details>
  );
}

/** The realtime connection's state; re-renders alone when it changes. */
function LiveStatus() {
  const status = useRealtimeStatus();
  return (
    <span className={`live live--${status}`} role="status" title={`Live updates: ${status}`}>
      <span className="live__dot" aria-hidden="true" />
      <span className="live__text">{status === 'live' ? 'Live' : status === 'offline' ? 'Offline' : 'Reconnecting'}</span>
    </span>
  );
}

function initials(name: string) {
  return name.split(/[\s@.]+/).filter(Boolean).slice(0, 2).map((p) => p[0]!.toUpperCase()).join('');
}

function OrgSwitcher() {
  const s = useSession();
  const orgs = s.me.orgs?.length ? s.me.orgs : [{ slug: s.me.org.slug, name: s.me.org.name }];
  if (orgs.length < 2) return <span className="org-name" title="Organization">{s.me.org.name}</span>;
  return (
    <label className="ctl">
      <span className="sr-only">Organization</span>
      <select
        value={s.me.org.slug}
        onChange={(e) => {
          // tokens are per org: signing in again picks the other org
          const slug = e.target.value;
          s.logout();
          navigate(`/login?org=${encodeURIComponent(slug)}`);
        }}
      >
        {orgs.map((o) => <option key={o.slug} value={o.slug}>{o.name}</option>)}
      </select>
    </label>
  );
}

function DepartmentSwitcher() {
  const s = useSession();
  if (!s.me.departments.length) return null;
  return (
    <label className="ctl">
      <span className="sr-only">Department</span>
      <select value={s.departmentId ?? ''} onChange={(e) => s.setDepartmentId(e.target.value || null)}>
        <option value="">All departments</option>
        {s.me.departments.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
      </select>
    </label>
  );
}
