import { Badge, defineWidget, formatters, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { firing } from '../../widgets.ts';
import { STATE_TONES, STATE_WORDS } from './pages/ui.tsx';

interface FiringAlert {
  rule_id: string;
  rule_name: string;
  fingerprint: string;
  state: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  value: number | null;
  /** `ratio`: a share, written as a percentage */
  value_unit?: 'ratio' | null;
  starts_at: string | null;
  acked: boolean;
  silenced: boolean;
}
interface Options { showSilenced: boolean }

/** Alert instances firing now: rule, labels, value, since when; acknowledged and silenced ones marked. */
function FiringAlerts({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  // `live`: a rule starting or stopping to fire anywhere in the org refetches
  const q = useWidgetData<{ alerts: FiringAlert[] }>('/firing', {}, { live: ['firing'], isEmpty: (d) => d.alerts.length === 0 });
  return (
    <WidgetState query={q} emptyText="Nothing is firing.">
      {({ alerts }) => (
        <table className="orrery-table" aria-label="Firing alerts">
          <thead>
            <tr>
              <th scope="col">Rule</th><th scope="col">Labels</th><th scope="col">Value</th><th scope="col">Since</th><th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {alerts
              .filter((a) => options.showSilenced || !a.silenced)
              .map((a) => (
                <tr key={`${a.rule_id}/${a.fingerprint}`} title={a.annotations.summary ?? ''}>
                  <td>{a.rule_name}</td>
                  <td>
                    {Object.entries(a.labels)
                      .filter(([k]) => k !== 'alertname')
                      .map(([k, v]) => `${k}=${v}`)
                      .join(', ') || '—'}
                  </td>
                  <td>{a.value === null ? 'no data' : a.value_unit === 'ratio' ? fmt.percent(a.value) : fmt.number(a.value)}</td>
                  <td>{a.starts_at ? <time dateTime={a.starts_at}>{fmt.dateTime(a.starts_at)}</time> : '—'}</td>
                  <td>
                    <Badge tone={STATE_TONES[a.state] ?? 'neutral'}>{STATE_WORDS[a.state] ?? a.state}</Badge>
                    {[a.acked ? 'acknowledged' : '', a.silenced ? 'silenced' : ''].filter(Boolean).map((x) => ` · ${x}`).join('')}
                  </td>
                </tr>
              ))}
          </tbody>
        </table>
      )}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: FiringAlerts, declaration: firing });
