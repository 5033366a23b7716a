import { useState } from 'react';
import { Button, defineWidget, formatters, TimeSeriesChart, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { insightsList } from '../../widgets.ts';

interface Options { limit: number }
interface Link { widget: string; title: string; options: { query?: Record<string, unknown>; [k: string]: unknown }; from?: string; to?: string }
interface Insight {
  id: string;
  kind: string;
  severity: 'critical' | 'warning' | 'info';
  direction: 'up' | 'down';
  text: string;
  evidence: Record<string, unknown>;
  link: Link;
}
interface Answer { as_of: string; current: { from: string; to: string }; previous: { from: string; to: string }; insights: Insight[] }
interface Series { series: Array<{ group: Record<string, string>; points: Array<{ bucket: string; value: number | null }> }> }

const ICON: Record<Insight['severity'], string> = { critical: '⛔', warning: '⚠', info: 'ℹ' };

/** Numbers of the evidence, flattened to "name: value" pairs for the details list. */
function evidenceRows(e: Record<string, unknown>, prefix = ''): Array<[string, string]> {
  return Object.entries(e).flatMap(([k, v]) =>
    v && typeof v === 'object' ? evidenceRows(v as Record<string, unknown>, `${prefix}${k}.`) : [[`${prefix}${k}`.replaceAll('_', ' '), typeof v === 'number' ? String(Math.round(v * 10000) / 10000) : String(v)] as [string, string]],
  );
}

/** The chart an insight links to: its metrics query over the two weeks compared. */
function InsightChart({ link, tz }: { link: Link; tz: string }) {
  const q = useWidgetData<Series>('/chart', { query: JSON.stringify(link.options.query), from: link.from ?? '', to: link.to ?? '', tz }, { withContext: false });
  const isRate = link.options.query?.measure === 'rate';
  const isCost = link.options.query?.field === 'cost_usd';
  return (
    <div style={{ height: 200 }}>
      <WidgetState query={q} emptyText="No data to draw.">
        {(a) => (
          <TimeSeriesChart
            title={link.title}
            summary={`${link.title}, per day, over the two weeks compared.`}
            series={a.series.map((s) => ({ name: Object.values(s.group).join(' · ') || link.title, points: s.points.map((p) => ({ t: p.bucket, v: p.value })) }))}
            format={isRate ? 'percent' : isCost ? 'currency' : 'number'}
            missing={isRate ? 'gap' : 'zero'}
          />
        )}
      </WidgetState>
    </div>
  );
}

/** What changed this week in plain words; each with its evidence and the chart that shows it. */
function Insights({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  const [open, setOpen] = useState<string | null>(null);
  const q = useWidgetData<Answer>('/insights', { at: context.timeRange.to }, { withContext: false, live: ['budgets'] });
  return (
    <WidgetState query={q} emptyText="Nothing stands out this week: no cost, adoption, error-rate or budget rule fired.">
      {(a) => (
        <div>
          <p style={{ margin: '0 0 6px', fontSize: '0.85em' }}>
            {fmt.date(a.current.from)} – {fmt.date(a.current.to)} against the week before
          </p>
          <ul aria-label="Insights" style={{ listStyle: 'none', margin: 0, padding: 0 }}>
            {a.insights.slice(0, options.limit).map((i) => (
              <li key={i.id} style={{ marginBottom: 8 }}>
                <span role="img" aria-label={i.severity}>{ICON[i.severity]}</span> {i.text}
                <details>
                  <summary>Evidence</summary>
                  <dl style={{ display: 'grid', gridTemplateColumns: 'auto 1fr', gap: '0 8px', margin: 0 }}>
                    {evidenceRows(i.evidence).map(([k, v]) => (
                      <div key={k} style={{ display: 'contents' }}><dt>{k}</dt><dd style={{ margin: 0 }}>{v}</dd></div>
                    ))}
                  </dl>
                </details>
                {i.link.options.query && (
                  <Button variant="quiet" aria-expanded={open === i.id} onClick={() => setOpen(open === i.id ? null : i.id)}>
                    {open === i.id ? 'Hide the chart' : `Show the chart: ${i.link.title}`}
                  </Button>
                )}
                {open === i.id && <InsightChart link={i.link} tz={context.tz} />}
              </li>
            ))}
          </ul>
        </div>
      )}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: Insights, declaration: insightsList });
