import { navigate } from '../lib/router.tsx';
import { useSession } from '../lib/session.tsx';
import { CatalogueList } from '../dashboard/CatalogueList.tsx';

export function CataloguePage() {
  const s = useSession();
  return (
    <div className="page">
      <div className="page__head">
        <div>
          <h1>Widget catalogue</h1>
          <p className="muted">Widgets from the plugins enabled for {s.me.org.name} that your role ({s.me.role}) may use.</p>
        </div>
      </div>
      <CatalogueList entries={s.catalogue} addLabel="Add to dashboard" onAdd={(e) => navigate(`/?add=${encodeURIComponent(e.ref)}`)} />
    </div>
  );
}
