import { defineWidget, formatters, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { retentionTable } from '../../widgets.ts';

interface Options {
  period: 'day' | 'week' | 'month';
  periods: number;
  mode: 'first_time' | 'recurring';
  counting: 'exact' | 'on_or_after';
  start_event: string;
  return_event: string;
}
interface Row { cohort: string; size: number; retained: number[]; rates: number[] }
interface Retention { period: string; cohorts: Row[] }

/** Blue shade for a rate: darker is more retained; text flips to white on dark cells. */
const shade = (r: number) => ({ background: `rgba(31, 119, 180, ${0.08 + 0.85 * r})`, color: r > 0.55 ? '#fff' : 'inherit' });

/** Retention triangle: one row per cohort with its size, one column per period after it. */
function RetentionTable({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  const q = useWidgetData<Retention>('/retention', { ...options }, { isEmpty: (d) => d.cohorts.every((c) => c.size === 0) });
  const label = { day: 'Day', week: 'Week', month: 'Month' }[options.period] ?? 'Period';
  return (
    <WidgetState
      query={q}
      emptyText={
        options.mode === 'recurring'
          ? 'Nobody was active in this time range.'
          : 'Nobody started in this time range. First-time cohorts only count people whose first activity falls in the range: widen the range, or choose recurring cohorts in this widget’s settings.'
      }
    >
      {(d) => {
        // periods before the first cohort with anyone in it (a range reaching back before the
        // data) are left out of the table and counted in the caption, so the data is in view
        const skipped = Math.max(0, d.cohorts.findIndex((c) => c.size > 0));
        const cohorts = d.cohorts.slice(skipped);
        const cols = Math.max(0, ...cohorts.map((c) => c.retained.length));
        const total = cohorts.reduce((a, c) => a + c.size, 0);
        return (
          <div style={{ overflow: 'auto', height: '100%' }}>
            <table className="orrery-table" style={{ borderCollapse: 'collapse', fontSize: '.8rem', width: '100%' }}>
              <caption style={{ textAlign: 'left', padding: '0 0 4px' }}>
                {options.mode === 'recurring' ? 'Recurring' : 'First-time'} cohorts · {options.counting === 'on_or_after' ? 'came back on or after' : 'came back in'} each {label.toLowerCase()} · {fmt.number(total)} users
                {skipped > 0 && ` · ${fmt.number(skipped)} earlier ${label.toLowerCase()}${skipped > 1 ? 's' : ''} of the range with nobody starting left out`}
              </caption>
              <thead>
                <tr>
                  <th scope="col" style={{ textAlign: 'left' }}>Cohort</th>
                  <th scope="col" style={{ textAlign: 'right' }}>Users</th>
                  {Array.from({ length: cols }, (_, k) => (
                    <th key={k} scope="col">{`${label} ${k}`}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {cohorts.map((c) => (
                  <tr key={c.cohort}>
                    <th scope="row" style={{ textAlign: 'left', whiteSpace: 'nowrap' }}>
                      <time dateTime={c.cohort}>{d.period === 'hour' ? fmt.dateTime(c.cohort) : fmt.date(c.cohort)}</time>
                    </th>
                    <td style={{ textAlign: 'right' }}>{fmt.number(c.size)}</td>
                    {Array.from({ length: cols }, (_, k) =>
                      k < c.rates.length && c.size > 0 ? (
                        <td key={k} title={`${fmt.number(c.retained[k]!)} of ${fmt.number(c.size)}`} style={{ ...shade(c.rates[k]!), textAlign: 'center', padding: '2px 4px' }}>
                          {fmt.percent(c.rates[k]!)}
                        </td>
                      ) : (
                        <td key={k} aria-label={k < c.rates.length ? 'no members' : 'not started yet'} />
                      ),
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        );
      }}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: RetentionTable, declaration: retentionTable });
