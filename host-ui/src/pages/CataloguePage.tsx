import { useEffect, useState } from 'react';
import { navigate } from '../lib/router.tsx';
import { useSession } from '../lib/session.tsx';
import { CatalogueList } from '../dashboard/CatalogueList.tsx';
import { dashboardsApi } from '../dashboard/api.ts';
import { builtinDefault } from '../dashboard/layout.ts';

export function CataloguePage() {
  const s = useSession();
  const onDashboard = useDashboardRefs();
  return (
    <div className="page">
      <div className="page__head">
        <div>
          <h1>Widget catalogue</h1>
          <p className="muted">Widgets from the plugins enabled for {s.me.org.name} that your role ({s.me.role}) may use.</p>
        </div>
      </div>
      <CatalogueList entries={s.catalogue} addLabel="Add to dashboard" onAdd={(e) => navigate(`/?add=${encodeURIComponent(e.ref)}`)} present={onDashboard} />
    </div>
  );
}

/**
 * The widgets on the dashboard the user sees at `/` (their saved one, or the suggested layout
 * it shows until they change it), so the catalogue can say which are there already.
 */
function useDashboardRefs(): Set<string> | null {
  const s = useSession();
  const [refs, setRefs] = useState<Set<string> | null>(null);
  useEffect(() => {
    if (!s.pluginsLoaded) return;
    let alive = true;
    dashboardsApi.mine(s.departmentId).then(
      (a) => alive && setRefs(new Set((a.doc ?? builtinDefault(s.catalogue, () => '', 8, s.me.role)).items.map((i) => i.ref))),
      () => alive && setRefs(null), // without the layout the catalogue simply marks nothing
    );
    return () => { alive = false; };
  }, [s.departmentId, s.pluginsLoaded, s.catalogue, s.me.role]);
  return refs;
}
