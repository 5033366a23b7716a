import { useMemo, useState } from 'react';
import { formatters } from '@orrery/plugin-sdk/frontend';
import { useSession } from '../lib/session.tsx';
import { navigate } from '../lib/router.tsx';
import { restartTour } from '../tour/Tour.tsx';

const LOCALES = ['en-US', 'en-GB', 'de-DE', 'fr-FR', 'es-ES', 'it-IT', 'nl-NL', 'pt-BR', 'sv-SE', 'pl-PL', 'ja-JP', 'zh-CN', 'ko-KR', 'hi-IN'];

export function ProfilePage() {
  const s = useSession();
  const [tz, setTz] = useState(s.prefs.tz);
  const [locale, setLocale] = useState(s.prefs.locale);
  const zones = useMemo(() => {
    const all = (Intl as unknown as { supportedValuesOf?(k: string): string[] }).supportedValuesOf?.('timeZone') ?? [];
    return all.includes(tz) ? all : [tz, ...all];
  }, [tz]);
  const locales = LOCALES.includes(locale) ? LOCALES : [locale, ...LOCALES];
  const preview = formatters(locale, tz);
  const now = new Date().toISOString();

  return (
    <div className="page">
      <div className="page__head"><div><h1>{s.me.user.display_name}</h1><p className="muted">{s.me.user.email}</p></div>
        <div className="toolbar">
          <button type="button" className="btn btn--ghost" onClick={() => { restartTour(s.me.user.id); navigate('/'); }}>Show the tour again</button>
          <button type="button" className="btn" onClick={s.logout}>Sign out</button>
        </div>
      </div>
      <div className="cards-2">
        <section className="card" aria-labelledby="who-h">
          <h2 id="who-h">Membership</h2>
          <dl className="dl">
            <dt>Organization</dt><dd>{s.me.org.name} <span className="muted small">({s.me.org.slug})</span></dd>
            <dt>Role</dt><dd><span className="chip">{s.me.role}</span></dd>
            <dt>Departments</dt>
            <dd>{s.me.departments.length ? s.me.departments.map((d) => <span key={d.id} className="chip">{d.name}{d.manager ? ' · manager' : ''}</span>) : <span className="muted">None</span>}</dd>
            {s.me.orgs?.length > 1 && <><dt>Other organizations</dt><dd>{s.me.orgs.filter((o) => o.slug !== s.me.org.slug).map((o) => o.name).join(', ')}</dd></>}
          </dl>
        </section>
        <section className="card" aria-labelledby="prefs-h">
          <h2 id="prefs-h">Time zone and formats</h2>
          <form onSubmit={(e) => { e.preventDefault(); s.setPrefs({ tz, locale }); }}>
            <label className="field"><span>Time zone</span>
              <select value={tz} onChange={(e) => setTz(e.target.value)}>{zones.map((z) => <option key={z}>{z}</option>)}</select>
            </label>
            <label className="field"><span>Number and date format</span>
              <select value={locale} onChange={(e) => setLocale(e.target.value)}>{locales.map((l) => <option key={l} value={l}>{l}</option>)}</select>
            </label>
            <p className="muted small">Preview: {preview.dateTime(now)} · {preview.number(1234567.89)} · {preview.percent(0.873)}</p>
            <button type="submit" className="btn btn--primary" disabled={tz === s.prefs.tz && locale === s.prefs.locale}>Save preferences</button>
          </form>
        </section>
      </div>
    </div>
  );
}
