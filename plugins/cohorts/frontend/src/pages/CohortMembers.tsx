import { useEffect, useState } from 'react';
import { ActionStatus, Button, downloadText, formatters, TimeSeriesChart, toCsv, useAction, useWidgetData, WidgetState, type WidgetContext } from '@orrery/plugin-sdk/frontend';
import { stepsToEnd, type SizePoint } from '../sizes.ts';

interface Member { user_id: string; display_name: string | null; since: string }
interface Sizes { to: string; cohorts: Array<{ id: string; size: number; points: SizePoint[] }> }

const PAGE = 20;
/** the members route's largest page: a download reads the whole cohort in pages of this size */
const ALL_PAGE = 10_000;

/** Every current member, page after page, as the CSV a spreadsheet opens: id, name, member since (ISO). */
async function membersCsv(context: WidgetContext<{ id: string }>, cohortId: string): Promise<string> {
  const rows: Array<[string, string | null, string]> = [];
  for (let offset = 0; ; offset += ALL_PAGE) {
    const r = await context.request<{ members: Member[] }>(`/${cohortId}/members`, { query: { limit: ALL_PAGE, offset } });
    rows.push(...r.members.map((m): [string, string | null, string] => [m.user_id, m.display_name, m.since]));
    if (r.members.length < ALL_PAGE) break;
  }
  return toCsv({ columns: ['user_id', 'name', 'member_since'], rows });
}

/** The value once it has stopped changing for `ms`: a search is sent when typing pauses, not at every key. */
function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

/**
 * A saved cohort's people: its size over the page's range (a step at each recomputation that
 * changed it, as the cohort-sizes widget draws it, from its creation when that is in the range:
 * a cohort had no size before it existed) and its members, newest first, a page at a time, by
 * name where the directory knows them, searchable by name, email or id.
 */
export function CohortMembers({ context, cohortId, name, size, createdAt }: { context: WidgetContext<{ id: string }>; cohortId: string; name: string; size: number; createdAt?: string }) {
  const fmt = formatters(context.locale, context.tz);
  const download = useAction();
  const saveCsv = () =>
    download.run(async () => {
      const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'cohort';
      downloadText(`${slug}-members.csv`, await membersCsv(context, cohortId));
    });
  const [offset, setOffset] = useState(0);
  const [typed, setTyped] = useState('');
  const search = useDebounced(typed.trim(), 250);
  const [page, setPage] = useState<{ members: Member[]; matching: number; error?: string; busy: boolean }>({ members: [], matching: size, busy: true });
  // a cohort's sizes are of the whole cohort: the page's department is not sent
  const sizes = useWidgetData<Sizes>('/sizes', { cohort_ids: cohortId, department_id: undefined }, { isEmpty: (d) => d.cohorts.length === 0 });
  useEffect(() => {
    const ac = new AbortController();
    setPage((p) => ({ ...p, busy: true }));
    context.request<{ members: Member[]; matching: number }>(`/${cohortId}/members`, { query: { limit: PAGE, offset, q: search || undefined }, signal: ac.signal }).then(
      (r) => !ac.signal.aborted && setPage({ members: r.members, matching: r.matching, busy: false }),
      (e: Error) => !ac.signal.aborted && setPage({ members: [], matching: 0, error: e.message, busy: false }),
    );
    return () => ac.abort();
    // the context object is new at every render of the host: a page is read when the cohort, the page or the size changes
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [cohortId, offset, size, search]);
  // a new search starts on its first page
  useEffect(() => setOffset(0), [search]);

  const total = page.matching;
  const last = Math.min(offset + PAGE, total);
  const searchId = `cohort-members-search-${cohortId}`;
  return (
    <section aria-labelledby="cohort-members-title" style={{ display: 'grid', gap: 8 }}>
      <h2 id="cohort-members-title" style={{ fontSize: '1.1em', margin: 0 }}>Members</h2>
      <WidgetState query={sizes} emptyText="No size recorded for this cohort in this range.">
        {(d) => {
          const c = d.cohorts[0];
          if (!c) return null;
          const born = createdAt ? Date.parse(createdAt) : -Infinity;
          const since = c.points.filter((p) => Date.parse(p.at) >= born);
          const points = stepsToEnd(since.length ? since : c.points, d.to);
          return <TimeSeriesChart title="Size over the range" summary={`${fmt.number(c.size)} now`} kind="step" format="number" yTitle="members" series={[{ name: 'members', points }]} height={180} />;
        }}
      </WidgetState>
      {page.error ? (
        <p role="alert" className="orrery-state--error">{page.error}</p>
      ) : size === 0 ? (
        <p className="orrery-state orrery-state--empty">Nobody is in this cohort now.</p>
      ) : (
        <>
          <div style={{ display: 'flex', gap: 8, alignItems: 'center' }}>
            <label htmlFor={searchId}>Search members</label>
            <input id={searchId} type="search" value={typed} onChange={(e) => setTyped(e.target.value)} placeholder="name, email or user id" maxLength={200} style={{ minWidth: 220 }} />
          </div>
          {search && total === 0 && !page.busy ? (
            <p className="orrery-state orrery-state--empty" role="status">No member matches “{search}”.</p>
          ) : (
            <table className="orrery-table" aria-label="Members of the cohort" aria-busy={page.busy}>
              <thead>
                <tr><th scope="col" style={{ textAlign: 'left' }}>Person</th><th scope="col" style={{ textAlign: 'left' }}>Member since</th></tr>
              </thead>
              <tbody>
                {page.members.map((m) => (
                  <tr key={m.user_id}>
                    <th scope="row" style={{ fontWeight: 'normal', textAlign: 'left' }}>{m.display_name ? <span title={m.user_id}>{m.display_name}</span> : m.user_id}</th>
                    <td>{fmt.dateTime(m.since)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <nav aria-label="Member pages" style={{ display: 'flex', gap: 8, alignItems: 'center' }}>
            <Button disabled={offset === 0 || page.busy} onClick={() => setOffset(Math.max(0, offset - PAGE))}>Previous</Button>
            {total > 0 && <span role="status" className="small">{fmt.number(offset + 1)}–{fmt.number(last)} of {fmt.number(total)}{search ? ` matching “${search}”` : ''}</span>}
            <Button disabled={last >= total || page.busy} onClick={() => setOffset(offset + PAGE)}>Next</Button>
            <Button disabled={download.busy} onClick={() => void saveCsv()}>Download the members (CSV)</Button>
          </nav>
          <ActionStatus error={download.error} done={download.done} />
        </>
      )}
    </section>
  );
}
