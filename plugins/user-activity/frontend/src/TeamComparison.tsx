import { defineWidget, formatters, PALETTE, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { teamComparison } from '../../widgets.ts';
import type { UserAnswer } from '../../answers.ts';

interface Figures { events: number; active_days: number; diversity: number }

const METRICS: Array<[keyof Figures, string]> = [
  ['events', 'Events'],
  ['active_days', 'Active days'],
  ['diversity', 'Things used'],
];

/**
 * The signed-in user against the mean of each of their departments and of the org. A table
 * with a bar in each cell, scaled per row: events run in the hundreds and active days in
 * single digits, so one shared axis (a grouped bar chart) flattened two of the three rows.
 */
function TeamComparison({ context }: WidgetProps) {
  // with no activity of their own, people still see what their team and the org did: a zero
  // next to a team's mean says more than an empty cell
  const q = useWidgetData<UserAnswer>('/me/analytics', {}, { isEmpty: (d) => !d.totals && !d.compare.org.events });
  const f = formatters(context.locale, context.tz);
  return (
    <WidgetState query={q} emptyText="No activity in this range yet.">
      {(d) => {
        const groups = [
          { name: 'You', figures: d.totals },
          ...d.compare.teams.map((t) => ({ name: `${t.name ?? 'Team'} (mean)`, figures: t as Figures | null })),
          { name: 'Org (mean)', figures: d.compare.org as Figures | null },
        ];
        return (
          <div style={{ height: '100%', overflow: 'auto' }}>
            {!d.totals && <p style={{ margin: '0 0 6px', fontSize: '.85rem', color: 'var(--muted, #5f6b7a)' }}>No activity of yours in this range.</p>}
            <table className="orrery-table" aria-label="You compared with your team and the org">
              <thead>
                <tr>
                  <th scope="col" style={{ textAlign: 'left' }}>In this range</th>
                  {groups.map((g, i) => (
                    <th key={g.name} scope="col" style={{ textAlign: 'left' }}>
                      <span aria-hidden="true" style={{ display: 'inline-block', width: 10, height: 10, borderRadius: 2, marginRight: 6, background: PALETTE[i % PALETTE.length] }} />
                      {g.name}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {METRICS.map(([key, label]) => {
                  const values = groups.map((g) => Number(g.figures?.[key] ?? 0));
                  const max = Math.max(...values, 0);
                  return (
                    <tr key={key}>
                      <th scope="row" style={{ textAlign: 'left', fontWeight: 500, padding: '6px 12px 6px 0', verticalAlign: 'top' }}>{label}</th>
                      {values.map((v, i) => (
                        <td key={groups[i]!.name} style={{ minWidth: 90, padding: '6px 12px 6px 0' }}>
                          <div style={{ fontVariantNumeric: 'tabular-nums' }}>{f.number(v, v >= 100 || Number.isInteger(v) ? 0 : 1)}</div>
                          <div aria-hidden="true" style={{ height: 8, borderRadius: 4, background: 'var(--line, #e5e7eb)', overflow: 'hidden' }}>
                            <div style={{ width: `${max > 0 ? (v / max) * 100 : 0}%`, height: '100%', background: PALETTE[i % PALETTE.length] }} />
                          </div>
                        </td>
                      ))}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        );
      }}
    </WidgetState>
  );
}

export default defineWidget({ component: TeamComparison, declaration: teamComparison });
