import { defineWidget, formatters, Stat, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { kpiCards } from '../../widgets.ts';

interface Options { keys: string[] }
interface Kpi {
  key: string;
  title: string;
  unit: 'usd' | 'count' | 'users' | 'ratio' | 'ms';
  better: 'higher' | 'lower';
  description: string;
  value: number | null;
  previous: number | null;
  change: number | null;
  target: number | null;
  status: 'met' | 'missed' | 'no_target' | 'no_data';
}

const FORMAT = { usd: 'currency', count: 'compact', users: 'number', ratio: 'percent', ms: 'duration' } as const;
const STATUS: Record<Kpi['status'], string> = { met: 'Target met', missed: 'Target missed', no_target: 'No target set', no_data: 'No data' };

/** One card per KPI: value, change against the previous period, and the target with its status. */
function KpiCards({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  const q = useWidgetData<{ kpis: Kpi[] }>('/kpis', {}, { live: ['kpis'] });
  const show = (k: Kpi, v: number) => (k.unit === 'usd' ? fmt.currency(v) : k.unit === 'ratio' ? fmt.percent(v) : k.unit === 'ms' ? fmt.duration(v) : fmt.number(v));
  return (
    <WidgetState query={q} emptyText="No agent activity in this range yet: KPIs appear once agents report invocations.">
      {({ kpis }) => {
        const list = options.keys.length ? kpis.filter((k) => options.keys.includes(k.key)) : kpis;
        return (
          <ul aria-label="Key performance indicators" style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(150px, 1fr))', gap: 8, listStyle: 'none', margin: 0, padding: 0 }}>
            {list.map((k) => (
              <li key={k.key} title={k.description} style={{ border: '1px solid var(--border, #ddd)', borderRadius: 6, padding: 8 }}>
                <Stat label={k.title} value={k.value} format={FORMAT[k.unit]} delta={k.change} deltaGoodWhen={k.better === 'higher' ? 'up' : 'down'} />
                <div style={{ fontSize: '0.85em' }}>
                  {k.target === null ? (
                    <span>{STATUS[k.status]}</span>
                  ) : (
                    <span className={k.status === 'met' ? 'is-good' : k.status === 'missed' ? 'is-bad' : undefined}>
                      <span aria-hidden="true">{k.status === 'met' ? '✓ ' : k.status === 'missed' ? '✗ ' : ''}</span>
                      {STATUS[k.status]} · target {k.better === 'higher' ? '≥' : '≤'} {show(k, k.target)}
                    </span>
                  )}
                </div>
              </li>
            ))}
          </ul>
        );
      }}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: KpiCards, declaration: kpiCards, defaults: { keys: [] } });
