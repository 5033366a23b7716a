import { defineWidget, formatters, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { RANKING_SORTS, userRanking } from '../../widgets.ts';
import type { EngagementAnswer } from '../../answers.ts';

type Sort = (typeof RANKING_SORTS)[number];
interface Options { sort: Sort; limit: number }

const LABEL: Record<Sort, string> = { events: 'Events', active_days: 'Active days', sessions: 'Sessions', diversity: 'Diversity', success_rate: 'Success rate' };

function UserRanking({ context, options }: WidgetProps<Options>) {
  const f = formatters(context.locale, context.tz);
  const q = useWidgetData<EngagementAnswer>('/engagement', { sort: options.sort, limit: options.limit }, { isEmpty: (d) => !d.users.length });
  return (
    <WidgetState query={q}>
      {(d) => (
        <div style={{ overflow: 'auto', height: '100%' }}>
          <table className="orrery-table" aria-label={`Users ranked by ${LABEL[options.sort].toLowerCase()}`}>
            <thead>
              <tr>
                <th scope="col" className="is-num">#</th>
                <th scope="col">User</th>
                {(Object.keys(LABEL) as Sort[]).map((k) => (
                  <th key={k} scope="col" aria-sort={k === options.sort ? 'descending' : undefined} style={{ textAlign: 'right' }}>
                    <button type="button" className="orrery-link" onClick={() => context.setOptions({ ...options, sort: k })}>{LABEL[k]}</button>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {d.users.map((u) => (
                <tr key={u.user_id}>
                  <td className="is-num">{u.rank}</td>
                  <td>{u.display_name || u.email || u.user_id}</td>
                  <td style={{ textAlign: 'right' }}>{f.number(u.events)}</td>
                  <td style={{ textAlign: 'right' }}>{f.number(u.active_days)}</td>
                  <td style={{ textAlign: 'right' }}>{f.number(u.sessions)}</td>
                  <td style={{ textAlign: 'right' }}>{f.number(u.diversity)}</td>
                  <td style={{ textAlign: 'right' }}>{u.success_rate == null ? '—' : f.percent(u.success_rate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p style={{ fontSize: '.8rem', color: 'var(--muted, #5f6b7a)' }}>{f.number(d.total_users)} users you may see were active in this range.</p>
        </div>
      )}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: UserRanking, declaration: userRanking });
