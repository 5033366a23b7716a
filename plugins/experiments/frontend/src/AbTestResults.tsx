import { ChartFrame, defineWidget, formatters, PALETTE, useWidgetData, WidgetState, type PlotSpec, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { abTestResults } from '../../widgets.ts';

interface Options { experiment: string; metric: string }

interface Results {
  experiment: { key: string; name: string; method: string; alpha: number; control: string; status: string };
  metric: { name: string; kind: 'proportion' | 'mean'; higher_is_better: boolean };
  srm: { p_value: number; mismatch: boolean };
  excluded_units: number;
  variants: Array<{ key: string; units: number; value: number | null; ci_low: number | null; ci_high: number | null }>;
  comparisons: Array<{ variant: string; absolute_difference: number; relative_lift: number | null; ci_low: number | null; ci_high: number | null; p_value: number | null; p_value_adjusted: number | null; significant: boolean; chance_to_beat_control: number | null }>;
  sequential?: Array<{ variant: string; p_value: number | null; ci_low: number | null; ci_high: number | null }>;
  recommendation: { decision: 'ship' | 'keep_control' | 'keep_running' | 'inconclusive'; text: string };
}

const DECISION: Record<Results['recommendation']['decision'], string> = { ship: 'Ship', keep_control: 'Keep control', keep_running: 'Keep running', inconclusive: 'Inconclusive' };
const LIVE = { live: ['experiments'] };

/** Lift of each treatment against the control, drawn with its interval (relative to the control's value). */
function liftSpec(r: Results): PlotSpec {
  const control = r.variants.find((v) => v.key === r.experiment.control)?.value ?? null;
  const seq = new Map((r.sequential ?? []).map((s) => [s.variant, s]));
  const rows = r.comparisons.map((c) => {
    // the interval drawn is the one the method decides with: the confidence sequence for sequential
    const lo = r.experiment.method === 'sequential' ? (seq.get(c.variant)?.ci_low ?? null) : c.ci_low;
    const hi = r.experiment.method === 'sequential' ? (seq.get(c.variant)?.ci_high ?? null) : c.ci_high;
    const rel = (x: number | null) => (x === null || !control ? null : x / Math.abs(control));
    return { variant: c.variant, lift: c.relative_lift, low: rel(lo), high: rel(hi), good: c.significant && (r.metric.higher_is_better ? c.absolute_difference > 0 : c.absolute_difference < 0), bad: c.significant && (r.metric.higher_is_better ? c.absolute_difference < 0 : c.absolute_difference > 0) };
  });
  const color = (x: (typeof rows)[number]) => (x.good ? PALETTE[2] : x.bad ? PALETTE[3] : PALETTE[0]);
  return {
    empty: rows.length === 0 || rows.every((x) => x.lift === null),
    data: [
      {
        type: 'scatter',
        mode: 'markers',
        orientation: 'h',
        y: rows.map((x) => x.variant),
        x: rows.map((x) => x.lift),
        marker: { size: 11, color: rows.map(color) },
        error_x: {
          type: 'data',
          symmetric: false,
          array: rows.map((x) => (x.high !== null && x.lift !== null ? x.high - x.lift : 0)),
          arrayminus: rows.map((x) => (x.low !== null && x.lift !== null ? x.lift - x.low : 0)),
          thickness: 2,
          width: 6,
        },
        hovertemplate: '%{y}: %{x:.1%}<extra></extra>',
      },
    ],
    layout: {
      xaxis: { tickformat: '.1~%', zeroline: true, zerolinewidth: 2, title: { text: `lift vs ${r.experiment.control}` } },
      yaxis: { type: 'category', automargin: true },
      margin: { l: 80, r: 16, t: 8, b: 40 },
      showlegend: false,
    },
    table: {
      columns: ['variant', 'relative_lift', 'interval_low', 'interval_high', 'significant'],
      rows: rows.map((x) => [x.variant, x.lift, x.low, x.high, x.good || x.bad ? 'yes' : 'no']),
    },
  };
}

function AbTestResults({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  const list = useWidgetData<{ experiments: Array<{ key: string; status: string }> }>('/', { status: 'running' }, { withContext: false, enabled: !options.experiment, ...LIVE });
  const key = options.experiment || list.data?.experiments[0]?.key || '';
  const results = useWidgetData<Results>(`/${encodeURIComponent(key)}/results`, options.metric ? { metric: options.metric } : {}, { withContext: false, enabled: key !== '', ...LIVE });
  if (!key) {
    if (list.loading || list.error) return <WidgetState query={list}>{() => null}</WidgetState>;
    // the editor for those who may create one (Admin, Manager), a pointer to them for the rest
    const editor = '/p/experiments/editor';
    const canCreate = context.role === 'Admin' || context.role === 'Manager';
    return (
      <div className="orrery-state orrery-state--empty" role="status">
        <p>No experiment is running.</p>
        {canCreate ? (
          <p>
            <a href={editor} onClick={(e) => { if (context.navigate) { e.preventDefault(); context.navigate(editor); } }}>Create an experiment</a>{' '}
            to compare agent versions, prompt templates or models; its results show here while it runs.
          </p>
        ) : (
          <p>An Admin or a Manager can start one; its results show here while it runs.</p>
        )}
      </div>
    );
  }
  const value = (r: Results, v: number | null) => (v === null ? '—' : r.metric.kind === 'proportion' ? fmt.percent(v) : fmt.number(v));
  return (
    <WidgetState query={results} emptyText="No units in this experiment yet.">
      {(r) => (
        <div style={{ display: 'flex', flexDirection: 'column', height: '100%', gap: 6 }}>
          {r.srm.mismatch && (
            <div role="alert" style={{ padding: "6px 8px", border: "1px solid var(--danger, #c0392b)", color: "var(--danger, #c0392b)", borderRadius: 4 }}>
              Sample ratio mismatch (p = {r.srm.p_value.toExponential(1)}): units per variant do not follow the weights. Do not trust these results until the cause is found.
            </div>
          )}
          <div>
            <strong>{r.experiment.name}</strong> · {r.metric.name} · {r.experiment.method}
            {r.excluded_units > 0 && <span> · {fmt.number(r.excluded_units)} units in several variants left out</span>}
          </div>
          <div aria-live="polite">
            <strong>{DECISION[r.recommendation.decision]}</strong>: {r.recommendation.text}
          </div>
          <div style={{ flex: 1, minHeight: 120 }}>
            <ChartFrame spec={liftSpec(r)} title={`Lift of ${r.metric.name} by variant`} summary={`Relative lift of each variant against ${r.experiment.control}, with its ${Math.round((1 - r.experiment.alpha) * 100)}% interval.`} />
          </div>
          <table className="orrery-table" aria-label="Variants">
            <thead>
              <tr><th scope="col">Variant</th><th scope="col" className="is-num">Units</th><th scope="col" className="is-num">{r.metric.name}</th><th scope="col" className="is-num">p</th></tr>
            </thead>
            <tbody>
              {r.variants.map((v) => {
                const c = r.comparisons.find((x) => x.variant === v.key);
                const p = r.experiment.method === 'sequential' ? r.sequential?.find((s) => s.variant === v.key)?.p_value : c?.p_value_adjusted;
                return (
                  <tr key={v.key}>
                    <td>{v.key}{v.key === r.experiment.control ? ' (control)' : ''}</td>
                    <td className="is-num">{fmt.number(v.units)}</td>
                    <td className="is-num">{value(r, v.value)}</td>
                    <td className="is-num">{p === undefined || p === null ? '—' : p < 0.001 ? '< 0.001' : p.toFixed(3)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: AbTestResults, declaration: abTestResults, defaults: { experiment: '', metric: '' } });
