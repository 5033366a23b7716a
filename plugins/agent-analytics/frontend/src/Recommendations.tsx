import { defineWidget, formatters, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { LIVE } from './api.ts';
import { recommendations } from '../../widgets.ts';

type Severity = 'low' | 'medium' | 'high';
interface Options { agent?: string; severity: Severity }
interface Recommendation {
  id: string;
  kind: string;
  severity: Severity;
  agent: string;
  title: string;
  detail: string;
  impact: { metric: string; value: number; unit: string; per: string };
  evidence: Record<string, unknown>;
}
const RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2 };

/** What to change, with the estimated impact over 30 days; the evidence opens on demand. */
function Recommendations({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  const q = useWidgetData<{ recommendations: Recommendation[] }>('/recommendations', { agent: options.agent || undefined }, LIVE);
  return (
    <WidgetState query={q} emptyText="Nothing to recommend: no variant, tool or version stands out in this time range.">
      {({ recommendations }) => (
        <ul style={{ listStyle: 'none', margin: 0, padding: 0, display: 'grid', gap: 8, overflow: 'auto', height: '100%' }}>
          {recommendations.filter((r) => RANK[r.severity] >= RANK[options.severity]).map((r) => (
            <li key={r.id}>
              <strong>{r.title}</strong> <span className={`orrery-badge orrery-badge--${r.severity}`}>{r.severity}</span>
              <div style={{ fontSize: '.85rem' }}>{r.detail}</div>
              <div style={{ fontSize: '.85rem' }}>
                Impact: {r.impact.unit === 'USD' ? fmt.currency(r.impact.value) : `${fmt.number(r.impact.value)} ${r.impact.unit}`} per {r.impact.per}
              </div>
              <details><summary>Evidence</summary><pre style={{ fontSize: '.75rem', whiteSpace: 'pre-wrap' }}>{JSON.stringify(r.evidence, null, 2)}</pre></details>
            </li>
          ))}
        </ul>
      )}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: Recommendations, declaration: recommendations });
