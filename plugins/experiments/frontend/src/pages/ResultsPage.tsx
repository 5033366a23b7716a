import { ChartFrame, defineWidget, formatters, PALETTE, useWidgetData, WidgetState, type PlotSpec, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { resultsPage } from '../../../widgets.ts';
import { PortalLink } from './ui.tsx';
import { meanValue, signedDifference } from '../difference.ts';

interface Options { key: string; metric: string }
interface Experiment { key: string; status: string; definition: { name: string; method: string; alpha: number; control: string; metrics: Array<{ name: string; kind?: 'proportion' | 'mean'; guardrail?: boolean }>; start_at: string; end_at?: string | null; unit: string } }
interface Results {
  experiment: { key: string; name: string; method: string; alpha: number; control: string; status: string };
  metric: { name: string; kind: 'proportion' | 'mean'; higher_is_better: boolean };
  srm: { p_value: number; mismatch: boolean; chi_square?: number; expected?: Record<string, number> | number[] };
  excluded_units: number;
  variants: Array<{ key: string; units: number; assigned?: number; value: number | null; ci_low: number | null; ci_high: number | null }>;
  comparisons: Array<{ variant: string; absolute_difference: number; relative_lift: number | null; ci_low: number | null; ci_high: number | null; p_value: number | null; p_value_adjusted: number | null; significant: boolean; chance_to_beat_control: number | null; expected_loss?: number | null; credible_low?: number | null; credible_high?: number | null }>;
  sequential?: Array<{ variant: string; p_value: number | null; ci_low: number | null; ci_high: number | null }>;
  guardrails?: Array<{ metric: string; variant: string; absolute_difference: number | null; p_value: number | null; regression: boolean }>;
  recommendation: { decision: 'ship' | 'keep_control' | 'keep_running' | 'inconclusive'; text: string; expected_days_left?: number | null };
}

const DECISION: Record<Results['recommendation']['decision'], string> = { ship: 'Ship', keep_control: 'Keep the control', keep_running: 'Keep running', inconclusive: 'Inconclusive' };

/** The effect (absolute difference against the control) of each treatment with the interval the method decides with. */
function effectSpec(r: Results, fmtValue: (v: number) => string): PlotSpec {
  const seq = new Map((r.sequential ?? []).map((s) => [s.variant, s]));
  const rows = r.comparisons.map((c) => {
    const s = r.experiment.method === 'sequential' ? seq.get(c.variant) : undefined;
    const lo = s ? s.ci_low : r.experiment.method === 'bayesian' ? (c.credible_low ?? c.ci_low) : c.ci_low;
    const hi = s ? s.ci_high : r.experiment.method === 'bayesian' ? (c.credible_high ?? c.ci_high) : c.ci_high;
    const better = r.metric.higher_is_better ? c.absolute_difference > 0 : c.absolute_difference < 0;
    return { variant: c.variant, d: c.absolute_difference, lo, hi, color: c.significant ? (better ? PALETTE[2] : PALETTE[3]) : PALETTE[0], sig: c.significant };
  });
  return {
    empty: rows.length === 0,
    data: [
      {
        type: 'scatter',
        mode: 'markers',
        orientation: 'h',
        y: rows.map((x) => x.variant),
        x: rows.map((x) => x.d),
        marker: { size: 12, color: rows.map((x) => x.color) },
        error_x: { type: 'data', symmetric: false, array: rows.map((x) => (x.hi === null ? 0 : x.hi - x.d)), arrayminus: rows.map((x) => (x.lo === null ? 0 : x.d - x.lo)), thickness: 2, width: 8 },
        hovertemplate: '%{y}: %{x}<extra></extra>',
      },
    ],
    layout: {
      xaxis: { zeroline: true, zerolinewidth: 2, title: { text: `${r.metric.name}: difference against ${r.experiment.control}` }, ...(r.metric.kind === 'proportion' ? { tickformat: '.1~%' } : { exponentformat: 'none' as const }) },
      yaxis: { type: 'category', automargin: true },
      margin: { l: 90, r: 16, t: 8, b: 48 },
      showlegend: false,
    },
    table: {
      columns: ['variant', 'difference', 'interval_low', 'interval_high', 'significant'],
      rows: rows.map((x) => [x.variant, fmtValue(x.d), x.lo === null ? '' : fmtValue(x.lo), x.hi === null ? '' : fmtValue(x.hi), x.sig ? 'yes' : 'no']),
    },
  };
}

/** One experiment's results: the SRM check first, the recommendation, the effects drawn with intervals, then the numbers. */
function ResultsPage({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  const key = options.key;
  const exp = useWidgetData<Experiment>(`/${encodeURIComponent(key)}`, {}, { withContext: false, enabled: key !== '', live: ['experiments'] });
  const q = useWidgetData<Results>(`/${encodeURIComponent(key)}/results`, options.metric ? { metric: options.metric } : {}, { withContext: false, enabled: key !== '', live: ['experiments'], liveThrottleMs: 5000 });
  if (!key) {
    return <p>Choose an experiment on the <PortalLink context={context} to="/p/experiments/list">experiments page</PortalLink>.</p>;
  }
  const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : fmt.percent(v, 1));
  const p = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v < 0.001 ? '< 0.001' : v.toFixed(3));
  return (
    <div style={{ display: 'grid', gap: 14 }}>
      <p className="small" style={{ margin: 0 }}>
        <PortalLink context={context} to="/p/experiments/list">All experiments</PortalLink>
        {context.role !== 'Developer' && <> · <PortalLink context={context} to={`/p/experiments/editor?key=${encodeURIComponent(key)}`}>Edit</PortalLink></>}
      </p>
      {exp.data && (
        <label style={{ display: 'grid', gap: 4, maxWidth: 320 }}>
          Metric
          <select value={options.metric} onChange={(e) => context.setOptions({ key, metric: e.target.value })}>
            <option value="">The primary metric</option>
            {exp.data.definition.metrics.map((m) => <option key={m.name} value={m.name}>{m.name}{m.guardrail ? ' (guardrail)' : ''}</option>)}
          </select>
        </label>
      )}
      <WidgetState query={q} emptyText="No units in this experiment yet: results appear once invocations or exposures arrive.">
        {(r) => {
          const value = (v: number | null) => (v === null ? '—' : r.metric.kind === 'proportion' ? fmt.percent(v, 2) : meanValue(context.locale, v));
          // a difference of two shares is in percentage points, not a percentage of anything
          const diffOf = (kind: string | undefined, v: number) => (kind === 'proportion' ? `${v >= 0 ? '+' : ''}${fmt.number(v * 100, 2)} pp` : signedDifference(context.locale, v));
          const diff = (v: number) => diffOf(r.metric.kind, v);
          const kindOf = new Map((exp.data?.definition.metrics ?? []).map((m) => [m.name, m.kind]));
          const running = r.experiment.status !== 'stopped';
          const level = Math.round((1 - r.experiment.alpha) * 100);
          const seq = new Map((r.sequential ?? []).map((s) => [s.variant, s]));
          return (
            <>
              {r.srm.mismatch ? (
                <div role="alert" style={{ padding: '8px 10px', border: '2px solid var(--danger, #c0392b)', borderRadius: 4 }}>
                  <strong>Sample ratio mismatch.</strong> The units per variant do not follow the weights (χ² p = {r.srm.p_value.toExponential(1)}). Something in assignment or logging drops or duplicates units of one variant: do not trust the results below until the cause is found.
                </div>
              ) : (
                <p className="small" style={{ margin: 0 }}>Sample ratio check passed: units per variant follow the weights (p = {p(r.srm.p_value)}).</p>
              )}
              {running && r.experiment.method === 'frequentist' && (
                <div role="note" style={{ padding: '8px 10px', border: '1px solid var(--warning, #b26a00)', borderRadius: 4 }}>
                  <strong>Peeking caution.</strong> This is a fixed-horizon test: its p-values assume one look at the planned end. Checking while it runs and stopping at the first “significant” result finds winners that are not there far more often than {Math.round(r.experiment.alpha * 100)}% of the time. Wait for the end, or use the sequential method, whose results stay valid at every look.
                </div>
              )}
              <div aria-live="polite" style={{ fontSize: '1.05em' }}>
                <strong>{DECISION[r.recommendation.decision]}</strong>: {r.recommendation.text}
              </div>
              <div>
                <strong>{r.experiment.name}</strong> · {r.metric.name} ({r.metric.kind === 'proportion' ? 'share' : 'mean'}, {r.metric.higher_is_better ? 'higher is better' : 'lower is better'}) · {r.experiment.method} · {level}% intervals
                {exp.data && <> · since <time dateTime={exp.data.definition.start_at}>{fmt.dateTime(exp.data.definition.start_at)}</time></>}
                {r.excluded_units > 0 && <> · {fmt.number(r.excluded_units)} units seen in several variants left out</>}
              </div>
              <div style={{ height: Math.max(160, 70 * r.comparisons.length + 80) }}>
                <ChartFrame spec={effectSpec(r, diff)} title={`Effect on ${r.metric.name} by variant`} summary={`Difference of each variant against ${r.experiment.control} with its ${level}% ${r.experiment.method === 'sequential' ? 'confidence sequence' : r.experiment.method === 'bayesian' ? 'credible interval' : 'confidence interval'}; green is a significant improvement, red a significant regression.`} />
              </div>
              <table className="orrery-table" aria-label="Variants">
                <thead><tr><th scope="col">Variant</th><th scope="col">Units</th><th scope="col">{r.metric.name}</th><th scope="col">{level}% interval</th></tr></thead>
                <tbody>
                  {r.variants.map((v) => (
                    <tr key={v.key}>
                      <td>{v.key}{v.key === r.experiment.control ? ' (control)' : ''}</td>
                      <td>{fmt.number(v.units)}</td>
                      <td>{value(v.value)}</td>
                      <td>{v.ci_low === null || v.ci_high === null ? '—' : `${value(v.ci_low)} … ${value(v.ci_high)}`}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <table className="orrery-table" aria-label="Comparisons against the control">
                <thead>
                  <tr><th scope="col">Variant</th><th scope="col">Difference</th><th scope="col">Lift</th><th scope="col">Interval</th><th scope="col">p</th><th scope="col">Chance to beat control</th><th scope="col">Significant</th></tr>
                </thead>
                <tbody>
                  {r.comparisons.map((c) => {
                    const s = seq.get(c.variant);
                    const lo = r.experiment.method === 'sequential' ? s?.ci_low : c.ci_low;
                    const hi = r.experiment.method === 'sequential' ? s?.ci_high : c.ci_high;
                    return (
                      <tr key={c.variant}>
                        <td>{c.variant}</td>
                        <td>{diff(c.absolute_difference)}</td>
                        <td>{c.relative_lift === null ? '—' : `${c.relative_lift >= 0 ? '+' : ''}${pct(c.relative_lift)}`}</td>
                        <td>{lo === null || lo === undefined || hi === null || hi === undefined ? '—' : `${diff(lo)} … ${diff(hi)}`}</td>
                        <td>{p(r.experiment.method === 'sequential' ? s?.p_value : c.p_value_adjusted ?? c.p_value)}</td>
                        <td>{pct(c.chance_to_beat_control)}</td>
                        <td>{c.significant ? 'yes' : 'no'}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
              {!!r.guardrails?.length && (
                <table className="orrery-table" aria-label="Guardrails">
                  <thead><tr><th scope="col">Guardrail</th><th scope="col">Variant</th><th scope="col">Difference</th><th scope="col">p</th><th scope="col">Regression</th></tr></thead>
                  <tbody>
                    {r.guardrails.map((g) => (
                      <tr key={`${g.metric}/${g.variant}`}>
                        <td>{g.metric}</td><td>{g.variant}</td><td>{g.absolute_difference === null ? '—' : diffOf(kindOf.get(g.metric), g.absolute_difference)}</td><td>{p(g.p_value)}</td><td>{g.regression ? 'yes: blocks ship' : 'no'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </>
          );
        }}
      </WidgetState>
    </div>
  );
}

export default defineWidget<Options>({ component: ResultsPage, declaration: resultsPage });
