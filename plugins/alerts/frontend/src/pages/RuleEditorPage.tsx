import { useEffect, useMemo, useState } from 'react';
import { Button, defineWidget, formatters, TimeSeriesChart, useWidgetData, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { rulePage } from '../../../widgets.ts';
import { ActionStatus, Field, grid, PortalLink, useAction } from './ui.tsx';

interface Options { id: string; template: string }
type Kind = 'threshold' | 'change' | 'change_percent' | 'anomaly';
interface Condition { kind?: Kind; op: string; threshold?: number; threshold2?: number; granularity?: string; sensitivity?: number; recovery_threshold?: number }
interface RuleDraft {
  name: string;
  query: { event_type: string; measure: string; field?: string; where?: Record<string, string>; group_by?: string[]; rate_where?: Record<string, string> } | null;
  source?: { kind: string; condition?: string } | null;
  window_seconds: number;
  interval_seconds: number;
  for_seconds?: number;
  keep_firing_for_seconds?: number;
  condition: Condition;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  contact_point_id?: string | null;
  no_data?: string;
}
interface Template { key: string; title: string; description: string; rule: RuleDraft }
interface Series { group: Record<string, string>; total: number | null; points: Array<{ bucket: string; value: number | null }> }
interface Observation { group: Record<string, string>; value: number | null; lower: number | null; upper: number | null; breach: boolean | null }

const MEASURES = ['count', 'users', 'sum', 'avg', 'min', 'max', 'p50', 'p75', 'p90', 'p95', 'p99', 'rate'];
const NEEDS_FIELD = new Set(['sum', 'avg', 'min', 'max', 'p50', 'p75', 'p90', 'p95', 'p99']);
const BLANK: RuleDraft = {
  name: '',
  query: { event_type: 'agent_invocation', measure: 'count', where: { status: 'failure' }, group_by: ['agent_name'] },
  window_seconds: 300,
  interval_seconds: 60,
  for_seconds: 0,
  condition: { kind: 'threshold', op: 'gt', threshold: 10 },
};

/** `a=1, b=2` ↔ `{a: "1", b: "2"}`: the form's way of writing filters and labels. */
const pairsText = (o?: Record<string, unknown>) => Object.entries(o ?? {}).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : String(v)}`).join(', ');
function parsePairs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}
const whereOf = (text: string) => Object.fromEntries(Object.entries(parsePairs(text)).map(([k, v]) => [k, v.includes('|') ? v.split('|') : v])) as Record<string, string>;

/** The chart's buckets: about a dozen windows back, at a grain that keeps the points readable. */
function chartRange(d: RuleDraft): { from: string; to: string; granularity: string } {
  const now = Date.now();
  if (d.condition.kind === 'anomaly') return { from: new Date(now - d.window_seconds * 1000).toISOString(), to: new Date(now).toISOString(), granularity: d.condition.granularity ?? 'hour' };
  const span = Math.max(d.window_seconds * 12, 3600) * 1000;
  const granularity = span <= 6 * 3_600_000 ? 'minute' : span <= 14 * 86_400_000 ? 'hour' : 'day';
  return { from: new Date(now - span).toISOString(), to: new Date(now).toISOString(), granularity };
}

function RuleEditorPage({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  const editing = options.id !== '';
  const existing = useWidgetData<RuleDraft & { id: string }>(`/rules/${options.id}`, {}, { withContext: false, enabled: editing });
  const templates = useWidgetData<{ templates: Template[] }>('/templates', {}, { withContext: false, enabled: !editing });
  const cps = useWidgetData<{ contact_points: Array<{ id: string; name: string; type: string }> }>('/contact-points', {}, { withContext: false });
  const [d, setD] = useState<RuleDraft>(BLANK);
  const [whereText, setWhereText] = useState(pairsText(BLANK.query?.where));
  const [groupText, setGroupText] = useState('agent_name');
  const [labelsText, setLabelsText] = useState('');
  const [summary, setSummary] = useState('');
  const [loadedFrom, setLoadedFrom] = useState('');
  const act = useAction();

  const load = (r: RuleDraft, from: string) => {
    setD({ ...BLANK, ...r, condition: { kind: 'threshold', ...r.condition } });
    setWhereText(pairsText(r.query?.where));
    setGroupText((r.query?.group_by ?? []).join(', '));
    setLabelsText(pairsText(r.labels));
    setSummary(r.annotations?.summary ?? '');
    setLoadedFrom(from);
  };
  useEffect(() => {
    if (editing && existing.data && loadedFrom !== existing.data.id) load(existing.data, existing.data.id);
  }, [editing, existing.data]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    const t = templates.data?.templates.find((x) => x.key === options.template);
    if (!editing && t && loadedFrom !== t.key) load({ ...t.rule, name: t.title }, t.key);
  }, [editing, options.template, templates.data]); // eslint-disable-line react-hooks/exhaustive-deps

  // what is sent: the form's text fields folded into the rule
  const body = useMemo<RuleDraft>(() => {
    const query = d.query ? { ...d.query, where: whereOf(whereText), group_by: groupText.split(',').map((s) => s.trim()).filter(Boolean) } : null;
    if (query && !NEEDS_FIELD.has(query.measure)) delete query.field;
    if (query && !Object.keys(query.where).length) delete (query as { where?: unknown }).where;
    const c: Condition = { ...d.condition };
    if (c.kind === 'anomaly') { delete c.threshold; delete c.threshold2; } else { delete c.granularity; delete c.sensitivity; }
    if (c.op !== 'outside' && c.op !== 'inside') delete c.threshold2;
    return {
      ...d,
      query,
      ...(d.source ? { source: d.source } : {}),
      condition: c,
      labels: parsePairs(labelsText),
      annotations: (summary ? { summary } : {}) as Record<string, string>,
      contact_point_id: d.contact_point_id || null,
    };
  }, [d, whereText, groupText, labelsText, summary]);

  // the live preview: the metric over the chart range and what the rule would compare now
  const [preview, setPreview] = useState<{ series: Series[]; observations: Observation[]; error: string | null; at: string } | null>(null);
  useEffect(() => {
    if (!body.query) {
      setPreview(null);
      return;
    }
    const ac = new AbortController();
    const t = setTimeout(() => {
      const range = chartRange(body);
      Promise.all([
        context.request<{ series: Series[] }>('/query', { method: 'POST', body: { ...body.query, ...range }, signal: ac.signal }),
        context.request<{ observations: Observation[] }>('/preview', { method: 'POST', body: { query: body.query, window_seconds: body.window_seconds, condition: body.condition }, signal: ac.signal }),
      ]).then(
        ([s, o]) => setPreview({ series: s.series, observations: o.observations ?? [], error: null, at: new Date().toISOString() }),
        (e: Error) => { if (e.name !== 'AbortError') setPreview((p) => ({ series: p?.series ?? [], observations: [], error: e.message, at: new Date().toISOString() })); },
      );
    }, 500);
    return () => { clearTimeout(t); ac.abort(); };
  }, [JSON.stringify(body)]); // eslint-disable-line react-hooks/exhaustive-deps

  const kind = d.condition.kind ?? 'threshold';
  const setC = (patch: Partial<Condition>) => setD({ ...d, condition: { ...d.condition, ...patch } });
  const num = (s: string) => (s === '' ? undefined : Number(s));
  const lines = (() => {
    if (!preview) return [];
    const series = preview.series.slice(0, 8).map((s) => ({ name: Object.values(s.group).join(' · ') || 'value', points: s.points.map((p) => ({ t: p.bucket, v: p.value })) }));
    const ts = preview.series[0]?.points.map((p) => p.bucket) ?? [];
    const flat = (name: string, v: number | undefined | null) => (v === undefined || v === null || !ts.length ? [] : [{ name, points: ts.map((t) => ({ t, v })) }]);
    if (kind === 'threshold') return [...series, ...flat('threshold', d.condition.threshold), ...flat('upper threshold', d.condition.op === 'outside' || d.condition.op === 'inside' ? d.condition.threshold2 : undefined)];
    if (kind === 'anomaly') {
      const o = preview.observations[0];
      return [...series, ...flat('expected band, lower', o?.lower), ...flat('expected band, upper', o?.upper)];
    }
    return series;
  })();

  const save = () =>
    act.run(async () => {
      const r = editing
        ? await context.request<{ id: string }>(`/rules/${options.id}`, { method: 'PUT', body })
        : await context.request<{ id: string }>('/rules', { method: 'POST', body });
      if (!editing) context.setOptions({ id: r.id, template: '' });
      return `Saved “${body.name}”. It is evaluated now and every ${body.interval_seconds} s.`;
    });

  return (
    <div style={{ display: 'grid', gap: 16 }}>
      <p className="small" style={{ margin: 0 }}>
        <PortalLink context={context} to="/p/alerts/rules">All alert rules</PortalLink>
        {editing && <> · <PortalLink context={context} to={`/p/alerts/history?rule_id=${options.id}`}>History of this rule</PortalLink></>}
      </p>
      {!editing && (
        <Field label="Start from a template" hint="Fills the form; change anything before saving.">
          <select value={options.template} onChange={(e) => context.setOptions({ ...options, template: e.target.value })}>
            <option value="">A blank rule</option>
            {(templates.data?.templates ?? []).map((t) => <option key={t.key} value={t.key}>{t.title}</option>)}
          </select>
        </Field>
      )}
      <form
        aria-label="Alert rule"
        onSubmit={(e) => { e.preventDefault(); void save(); }}
        style={{ display: 'grid', gap: 16 }}
      >
        <fieldset style={grid}>
          <legend>Rule</legend>
          <Field label="Name"><input required value={d.name} onChange={(e) => setD({ ...d, name: e.target.value })} /></Field>
          <Field label="Evaluate every (seconds)" hint="At least 10."><input type="number" min={10} value={d.interval_seconds} onChange={(e) => setD({ ...d, interval_seconds: Number(e.target.value) })} /></Field>
          <Field label="Window (seconds)" hint="The value is read over the last window."><input type="number" min={1} value={d.window_seconds} onChange={(e) => setD({ ...d, window_seconds: Number(e.target.value) })} /></Field>
          <Field label="Pending for (seconds)" hint="How long the condition must hold before it fires."><input type="number" min={0} value={d.for_seconds ?? 0} onChange={(e) => setD({ ...d, for_seconds: Number(e.target.value) })} /></Field>
        </fieldset>
        {d.source ? (
          <p>This rule watches a signal the platform publishes: {d.source.kind === 'data_quality' ? `data quality (${d.source.condition ?? 'every condition'})` : 'users newly needing support'}.</p>
        ) : (
          <fieldset style={grid}>
            <legend>Metric</legend>
            <Field label="Event type"><input value={d.query?.event_type ?? ''} onChange={(e) => setD({ ...d, query: { ...d.query!, event_type: e.target.value.trim() } })} /></Field>
            <Field label="Measure">
              <select value={d.query?.measure ?? 'count'} onChange={(e) => setD({ ...d, query: { ...d.query!, measure: e.target.value } })}>
                {MEASURES.map((m) => <option key={m} value={m}>{m}</option>)}
              </select>
            </Field>
            {NEEDS_FIELD.has(d.query?.measure ?? '') && (
              <Field label="Field" hint="A numeric field, e.g. execution_time_ms."><input value={d.query?.field ?? ''} onChange={(e) => setD({ ...d, query: { ...d.query!, field: e.target.value.trim() } })} /></Field>
            )}
            {d.query?.measure === 'rate' && (
              <Field label="Share matching" hint="e.g. status=failure"><input value={pairsText(d.query.rate_where)} onChange={(e) => setD({ ...d, query: { ...d.query!, rate_where: parsePairs(e.target.value) } })} /></Field>
            )}
            <Field label="Filters" hint="field=value, comma-separated; a|b for any of."><input value={whereText} onChange={(e) => setWhereText(e.target.value)} /></Field>
            <Field label="One alert per" hint="Fields, comma-separated (empty: one alert for everything)."><input value={groupText} onChange={(e) => setGroupText(e.target.value)} /></Field>
          </fieldset>
        )}
        <fieldset style={grid}>
          <legend>Condition</legend>
          <Field label="Compare">
            <select value={kind} disabled={!!d.source} onChange={(e) => setC({ kind: e.target.value as Kind, ...(e.target.value === 'anomaly' ? { op: 'gt', granularity: d.condition.granularity ?? 'hour' } : {}) })}>
              <option value="threshold">the value</option>
              <option value="change">its change against the window before</option>
              <option value="change_percent">its change in % against the window before</option>
              <option value="anomaly">the last bucket against the expected band (trends)</option>
            </select>
          </Field>
          <Field label="Fires when">
            <select value={d.condition.op} onChange={(e) => setC({ op: e.target.value })}>
              {kind === 'anomaly' ? (
                <>
                  <option value="gt">above the band</option>
                  <option value="lt">below the band</option>
                  <option value="outside">outside the band</option>
                </>
              ) : (
                <>
                  <option value="gt">above</option>
                  <option value="gte">at or above</option>
                  <option value="lt">below</option>
                  <option value="lte">at or below</option>
                  <option value="outside">outside a range</option>
                  <option value="inside">inside a range</option>
                </>
              )}
            </select>
          </Field>
          {kind !== 'anomaly' && (
            <Field label={d.condition.op === 'outside' || d.condition.op === 'inside' ? 'From' : 'Threshold'} hint={kind === 'change_percent' ? 'In percent.' : undefined}>
              <input type="number" step="any" value={d.condition.threshold ?? ''} onChange={(e) => setC({ threshold: num(e.target.value) })} />
            </Field>
          )}
          {kind !== 'anomaly' && (d.condition.op === 'outside' || d.condition.op === 'inside') && (
            <Field label="To"><input type="number" step="any" value={d.condition.threshold2 ?? ''} onChange={(e) => setC({ threshold2: num(e.target.value) })} /></Field>
          )}
          {kind === 'anomaly' && (
            <>
              <Field label="Buckets">
                <select value={d.condition.granularity ?? 'hour'} onChange={(e) => setC({ granularity: e.target.value })}>
                  <option value="minute">minutes</option><option value="hour">hours</option><option value="day">days</option>
                </select>
              </Field>
              <Field label="Sensitivity" hint="How unusual a bucket must be (robust z-score; default 3)."><input type="number" step="any" min={0.1} value={d.condition.sensitivity ?? ''} onChange={(e) => setC({ sensitivity: num(e.target.value) })} /></Field>
            </>
          )}
        </fieldset>
        <fieldset style={grid}>
          <legend>Notification</legend>
          <Field label="Send to" hint="Empty: the notification policy decides.">
            <select value={d.contact_point_id ?? ''} onChange={(e) => setD({ ...d, contact_point_id: e.target.value || null })}>
              <option value="">Through the notification policy</option>
              {(cps.data?.contact_points ?? []).map((c) => <option key={c.id} value={c.id}>{c.name} ({c.type})</option>)}
            </select>
          </Field>
          <Field label="Labels" hint="severity=critical, team=data"><input value={labelsText} onChange={(e) => setLabelsText(e.target.value)} /></Field>
          <Field label="Summary" hint="{{ $labels.agent_name }} and {{ $value }} are filled in."><input value={summary} onChange={(e) => setSummary(e.target.value)} /></Field>
        </fieldset>
        <div style={{ display: 'flex', gap: 12, alignItems: 'center' }}>
          <Button type="submit" variant="primary" disabled={act.busy}>{editing ? 'Save changes' : 'Create rule'}</Button>
          <ActionStatus error={act.error} done={act.done} />
        </div>
      </form>

      <section aria-labelledby="rule-preview" style={{ display: 'grid', gap: 8 }}>
        <h2 id="rule-preview" style={{ margin: 0, fontSize: '1.1em' }}>Preview</h2>
        {!body.query ? (
          <p>Signals have no chart: the rule fires while the platform reports the condition.</p>
        ) : preview === null ? (
          <p role="status">Loading the preview…</p>
        ) : (
          <>
            {preview.error && <p role="alert">The rule cannot be evaluated as written: {preview.error}</p>}
            <div style={{ height: 280 }}>
              <TimeSeriesChart
                title="Metric and threshold"
                summary={kind === 'threshold' ? 'The metric per bucket with the threshold drawn as a flat line.' : kind === 'anomaly' ? 'The metric per bucket with the expected band of the last bucket.' : 'The metric per bucket; the rule compares one window with the one before.'}
                series={lines}
                emptyText="No events match this metric in the chart's range."
              />
            </div>
            <table className="orrery-table" aria-label="What the rule sees now">
              <thead><tr><th scope="col">Alert</th><th scope="col">{kind === 'change' ? 'Change' : kind === 'change_percent' ? 'Change (%)' : 'Value'}</th>{kind === 'anomaly' && <th scope="col">Expected</th>}<th scope="col">Would fire</th></tr></thead>
              <tbody>
                {preview.observations.length === 0 && <tr><td colSpan={4}>No group has a value in the window: the rule would see no data.</td></tr>}
                {preview.observations.map((o) => (
                  <tr key={JSON.stringify(o.group)}>
                    <td>{Object.entries(o.group).map(([k, v]) => `${k}=${v}`).join(', ') || 'everything'}</td>
                    <td>{o.value === null ? 'no data' : fmt.number(o.value)}</td>
                    {kind === 'anomaly' && <td>{o.lower === null ? '—' : `${fmt.number(o.lower)} … ${fmt.number(o.upper ?? 0)}`}</td>}
                    <td>{o.breach === null ? '—' : o.breach ? 'yes' : 'no'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p className="small">As of <time dateTime={preview.at}>{fmt.dateTime(preview.at)}</time>.</p>
          </>
        )}
      </section>
    </div>
  );
}

export default defineWidget<Options>({ component: RuleEditorPage, declaration: rulePage });
