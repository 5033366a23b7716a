import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../lib/api.ts';
import type { RouteCatalogue } from '../lib/routes.ts';
import { Icon } from '../shell/Icon.tsx';
import { Loading, Missing, problem, useLoad } from './common.tsx';

export interface Department { id: string; name: string; restricted: boolean; member_count?: number }

const SUGGESTED = ['Engineering', 'Product', 'Design', 'Support', 'Sales', 'Operations'];

export function DepartmentsStep({ routes, onDone }: { routes: RouteCatalogue; onDone(): void }) {
  const canList = routes.has('get', '/api/v1/departments');
  const canCreate = routes.has('post', '/api/v1/departments');
  const canDelete = routes.has('delete', '/api/v1/departments/{id}');
  const list = useLoad(canList ? () => api.get<{ departments: Department[] }>('/api/v1/departments').then((r) => r.departments) : null);
  const [name, setName] = useState('');
  const [restricted, setRestricted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const count = list.data?.length ?? 0;
  // an org that already has departments has done this step, whoever made them
  useEffect(() => { if (count > 0) onDone(); }, [count, onDone]);

  if (!canList || !canCreate) return <Missing what="Managing departments" routes={['GET /api/v1/departments', 'POST /api/v1/departments']} />;

  const create = async (n: string, e?: FormEvent) => {
    e?.preventDefault();
    const clean = n.trim();
    if (!clean) return;
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/v1/departments', { name: clean, restricted });
      setName('');
      setRestricted(false);
      setStatus(`Added ${clean}.`);
      onDone();
      list.reload();
    } catch (err) {
      setError(problem(err));
    } finally {
      setBusy(false);
    }
  };

  const remove = async (d: Department) => {
    if (!confirm(`Delete the department "${d.name}"? Its members stay in the organization.`)) return;
    try {
      await api.del(`/api/v1/departments/${encodeURIComponent(d.id)}`);
      setStatus(`Deleted ${d.name}.`);
      list.reload();
    } catch (err) {
      setError(problem(err));
    }
  };

  const existing = new Set((list.data ?? []).map((d) => d.name.toLowerCase()));
  const suggestions = SUGGESTED.filter((n) => !existing.has(n.toLowerCase()));

  return (
    <>
      <form className="form-row" onSubmit={(e) => void create(name, e)}>
        <label className="field field--grow"><span>Department name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={200} placeholder="e.g. Platform engineering" />
        </label>
        <label className="check field--inline">
          <input type="checkbox" checked={restricted} onChange={(e) => setRestricted(e.target.checked)} />
          Restricted <span className="muted small">(only its Managers and Admins see per-person rows)</span>
        </label>
        <button type="submit" className="btn btn--primary" disabled={busy || !name.trim()}><Icon name="plus" /> Add department</button>
      </form>
      {suggestions.length > 0 && (
        <div className="chips suggest" role="group" aria-label="Common departments">
          <span className="muted small">Quick add:</span>
          {suggestions.map((n) => (
            <button key={n} type="button" className="btn btn--small btn--ghost" disabled={busy} onClick={() => void create(n)} aria-label={`Add ${n}`}>+ {n}</button>
          ))}
        </div>
      )}
      {error && <p role="alert" className="form-error">{error}</p>}
      <p role="status" className="sr-only">{status}</p>
      <h3 className="subhead">Departments in your organization</h3>
      {list.loading && !list.data ? <Loading what="departments" /> : list.error && !list.data ? <p role="alert" className="form-error">{list.error}</p> : !list.data?.length ? (
        <p className="muted empty-line">No departments yet. Departments are flat (no nesting) and a person can be in several.</p>
      ) : (
        <ul className="rows">
          {list.data.map((d) => (
            <li key={d.id} className="rows__row">
              <span className="rows__main"><span className="truncate" title={d.name}>{d.name}</span>{d.restricted && <span className="chip">Restricted</span>}</span>
              <span className="muted small">{d.member_count ?? 0} member{d.member_count === 1 ? '' : 's'}</span>
              {canDelete && <button type="button" className="icon-btn icon-btn--danger" onClick={() => void remove(d)} aria-label={`Delete ${d.name}`} title="Delete"><Icon name="close" /></button>}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
