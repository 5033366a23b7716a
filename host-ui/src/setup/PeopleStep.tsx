import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { Role } from '@orrery/plugin-sdk/frontend';
import { api } from '../lib/api.ts';
import type { RouteCatalogue } from '../lib/routes.ts';
import { useSession } from '../lib/session.tsx';
import { CopyButton } from '../shell/CopyButton.tsx';
import { Loading, Missing, problem, useLoad } from './common.tsx';
import type { Department } from './DepartmentsStep.tsx';

const ROLES: Role[] = ['Developer', 'Manager', 'Admin'];
const ROLE_HELP: Record<Role, string> = {
  Developer: 'sees their own and their departments’ analytics',
  Manager: 'also manages the departments they lead and invites Developers to them',
  Admin: 'manages the whole organization: plugins, people, tokens and settings',
};

interface Invitation { id: string; email: string; role: Role; status: string; expires_at: string; email_sent?: boolean; accept_url?: string }
interface Member { id?: string; user_id?: string; email: string; display_name: string; role: Role; active: boolean; departments?: Array<{ id: string; name: string; manager: boolean }> }

export function PeopleStep({ routes, onDone }: { routes: RouteCatalogue; onDone(): void }) {
  const canInvite = routes.has('post', '/api/v1/invitations');
  const canMembers = routes.has('get', '/api/v1/members');
  const canRole = routes.has('put', '/api/v1/members/{userId}/role');
  if (!canInvite && !canMembers) {
    return <Missing what="Inviting people and assigning roles" routes={['POST /api/v1/invitations', 'GET /api/v1/members', 'PUT /api/v1/members/{userId}/role']} />;
  }
  return (
    <>
      {canInvite ? <InviteForm routes={routes} onDone={onDone} /> : <Missing what="Inviting people" routes={['POST /api/v1/invitations']} />}
      {canMembers ? <Members canRole={canRole} /> : <Missing what="The member list" routes={['GET /api/v1/members']} />}
    </>
  );
}

function InviteForm({ routes, onDone }: { routes: RouteCatalogue; onDone(): void }) {
  const hasDepts = routes.has('get', '/api/v1/departments');
  const depts = useLoad(hasDepts ? () => api.get<{ departments: Department[] }>('/api/v1/departments').then((r) => r.departments) : null);
  const canList = routes.has('get', '/api/v1/invitations');
  const invites = useLoad(canList ? () => api.get<{ invitations: Invitation[] }>('/api/v1/invitations').then((r) => r.invitations) : null);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('Developer');
  const [chosen, setChosen] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [last, setLast] = useState<Invitation | null>(null);
  const linkId = useId();
  const roleHelp = useId();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setLast(null);
    try {
      const r = await api.post<Invitation>('/api/v1/invitations', { email: email.trim(), role, departments: chosen.map((id) => ({ id })) });
      setLast(r);
      setEmail('');
      onDone();
      invites.reload();
    } catch (err) {
      setError(problem(err));
    } finally {
      setBusy(false);
    }
  };

  const pending = (invites.data ?? []).filter((i) => i.status === 'pending');

  return (
    <section aria-labelledby="invite-h">
      <h3 id="invite-h" className="subhead">Invite someone</h3>
      <form onSubmit={submit}>
        <div className="form-row">
          <label className="field field--grow"><span>Email</span><input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="off" placeholder="name@example.com" /></label>
          <label className="field"><span id={`${roleHelp}-l`}>Role</span>
            {/* named by the span alone: a wrapping label would add the chosen option to the name */}
            <select value={role} onChange={(e) => setRole(e.target.value as Role)} aria-labelledby={`${roleHelp}-l`} aria-describedby={roleHelp}>{ROLES.map((r) => <option key={r}>{r}</option>)}</select>
          </label>
          <button type="submit" className="btn btn--primary" disabled={busy || !email.trim()}>{busy ? 'Inviting…' : 'Send invitation'}</button>
        </div>
        <p id={roleHelp} className="muted small">{role}: {ROLE_HELP[role]}.</p>
        {(depts.data?.length ?? 0) > 0 && (
          <fieldset className="field">
            <legend>Departments</legend>
            <div className="check-grid">
              {depts.data!.map((d) => (
                <label key={d.id} className="check">
                  <input type="checkbox" checked={chosen.includes(d.id)} onChange={(e) => setChosen(e.target.checked ? [...chosen, d.id] : chosen.filter((x) => x !== d.id))} />
                  <span className="truncate" title={d.name}>{d.name}</span>
                </label>
              ))}
            </div>
          </fieldset>
        )}
      </form>
      {error && <p role="alert" className="form-error">{error}</p>}
      {last && (
        last.email_sent !== false ? <p role="status" className="ok-text">Invitation emailed to {last.email}.</p> : (
          <div className="token-once" role="region" aria-label="Link for the new invitation">
            <p><strong>No email was sent</strong> (no mail server is configured, or it refused). Send {last.email} this link yourself; it is shown only now.</p>
            {last.accept_url && (
              <div className="token-once__row">
                <input id={linkId} className="mono" readOnly value={last.accept_url} aria-label="Invitation link" onFocus={(e) => e.target.select()} />
                <CopyButton text={last.accept_url} fallbackId={linkId} label="Copy link" />
              </div>
            )}
          </div>
        )
      )}
      {canList && (
        <>
          <h4 className="subhead subhead--small">Pending invitations</h4>
          {invites.loading && !invites.data ? <Loading what="invitations" /> : pending.length === 0 ? <p className="muted empty-line">None.</p> : (
            <ul className="rows">
              {pending.map((i) => <li key={i.id} className="rows__row"><span className="rows__main truncate" title={i.email}>{i.email}</span><span className="chip">{i.role}</span></li>)}
            </ul>
          )}
        </>
      )}
    </section>
  );
}

/** Members shown at first and added by "Show more": an org of thousands is not one table. */
const MEMBER_PAGE = 50;

function Members({ canRole }: { canRole: boolean }) {
  const s = useSession();
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [shown, setShown] = useState(MEMBER_PAGE);
  const list = useLoad(() => api.get<{ members: Member[]; total?: number }>(`/api/v1/members?${new URLSearchParams({ limit: String(shown), ...(query ? { q: query } : {}) })}`));
  // the search is sent once typing pauses; a new search starts from the first page
  useEffect(() => {
    const next = search.trim();
    if (next === query) return;
    const t = setTimeout(() => { setQuery(next); setShown(MEMBER_PAGE); }, 250);
    return () => clearTimeout(t);
  }, [search, query]);
  const first = useRef(true);
  const { reload } = list;
  useEffect(() => {
    if (first.current) { first.current = false; return; }
    reload();
  }, [query, shown, reload]);
  const members = list.data?.members;
  const total = list.data?.total ?? members?.length ?? 0;
  const searchId = useId();
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const idOf = (m: Member) => m.user_id ?? m.id ?? '';

  const change = async (m: Member, role: Role) => {
    setMsg(null);
    try {
      await api.put(`/api/v1/members/${encodeURIComponent(idOf(m))}/role`, { role });
      setMsg({ ok: true, text: `${m.display_name || m.email} is now ${role === 'Admin' ? 'an' : 'a'} ${role}.` });
      list.reload();
    } catch (e) {
      setMsg({ ok: false, text: problem(e) });
      list.reload(); // put the select back to what the server holds
    }
  };

  return (
    <section aria-labelledby="members-h">
      <h3 id="members-h" className="subhead">Members and roles</h3>
      {msg && <p role={msg.ok ? 'status' : 'alert'} className={msg.ok ? 'ok-text small' : 'form-error'}>{msg.text}</p>}
      <label className="field" htmlFor={searchId}>
        <span>Find a member</span>
        <input id={searchId} type="search" value={search} placeholder="Name or email" onChange={(e) => setSearch(e.target.value)} />
      </label>
      {list.loading && !list.data ? <Loading what="members" /> : list.error && !list.data ? <p role="alert" className="form-error">{list.error}</p> : (
        <>
        <p className="muted small" role="status">{members?.length ? `Showing ${members.length} of ${total} member${total === 1 ? '' : 's'}${query ? ` matching “${query}”` : ''}` : query ? `No member matches “${query}”.` : 'No members yet.'}</p>
        <div className="table-wrap">
          <table className="table">
            <thead><tr><th scope="col">Person</th><th scope="col">Departments</th><th scope="col">Role</th></tr></thead>
            <tbody>
              {(members ?? []).map((m) => (
                <tr key={idOf(m) || m.email}>
                  <th scope="row">
                    <span className="truncate block" title={m.display_name}>{m.display_name || m.email}</span>
                    <span className="muted small truncate block" title={m.email}>{m.email}{!m.active && ' · deactivated'}{idOf(m) === s.me.user.id && ' · you'}</span>
                  </th>
                  <td>{m.departments?.length ? m.departments.map((d) => <span key={d.id} className="chip chip--muted" title={d.name}>{d.name}{d.manager ? ' · manager' : ''}</span>) : <span className="muted small">None</span>}</td>
                  <td>
                    {canRole ? (
                      <select value={m.role} aria-label={`Role of ${m.display_name || m.email}`} onChange={(e) => void change(m, e.target.value as Role)}>
                        {ROLES.map((r) => <option key={r}>{r}</option>)}
                      </select>
                    ) : <span className="chip">{m.role}</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {(members?.length ?? 0) < total && (
          <button type="button" className="btn btn--outline btn--small" disabled={list.loading} onClick={() => setShown((n) => n + MEMBER_PAGE)}>
            Show {Math.min(MEMBER_PAGE, total - (members?.length ?? 0))} more
          </button>
        )}
        </>
      )}
      {!canRole && <p className="muted small">Changing roles needs <code>PUT /api/v1/members/{'{userId}'}/role</code>, which this server does not offer yet.</p>}
    </section>
  );
}
