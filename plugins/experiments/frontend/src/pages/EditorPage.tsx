import { useEffect, useState } from 'react';
import { Button, defineWidget, fromZonedWallTime, toZonedWallTime, useWidgetData, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { editorPage } from '../../../widgets.ts';
import { Field, grid, PortalLink } from './ui.tsx';

interface Options { key: string }
interface Metric { name: string; kind: 'proportion' | 'mean'; event_type?: string; where?: Record<string, unknown>; field?: string | string[]; aggregate?: string; guardrail?: boolean }
interface Def {
  key: string;
  name: string;
  description?: string;
  agent_name?: string;
  workflow_id?: string;
  unit: 'user' | 'invocation';
  variant_field?: string;
  variants: Array<{ key: string; weight: number }>;
  control: string;
  metrics: Metric[];
  method: 'frequentist' | 'sequential' | 'bayesian';
  alpha: number;
  start_at: string;
  end_at?: string | null;
  min_units_per_variant?: number;
  cuped?: boolean;
  audience?: { departments?: string[]; roles?: string[] };
}
interface AudienceOptions { departments: Array<{ id: string; name: string }>; roles: string[] }

const BLANK: Def = {
  key: '',
  name: '',
  agent_name: '',
  unit: 'invocation',
  variant_field: 'agent_version',
  variants: [{ key: 'control', weight: 50 }, { key: 'treatment', weight: 50 }],
  control: 'control',
  metrics: [
    { name: 'success_rate', kind: 'proportion', where: { status: 'success' } },
    { name: 'latency', kind: 'mean', field: 'execution_time_ms', guardrail: true },
  ],
  method: 'sequential',
  alpha: 0.05,
  start_at: new Date().toISOString(),
};

/** `status=success, rating>=4` ↔ the metric's `where`. */
const whereText = (w?: Record<string, unknown>) =>
  Object.entries(w ?? {})
    .map(([k, v]) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v as Record<string, unknown>).map(([op, x]) => `${k}${{ gt: '>', gte: '>=', lt: '<', lte: '<=', ne: '!=' }[op]}${x}`).join(', ') : `${k}=${Array.isArray(v) ? v.join('|') : String(v)}`))
    .join(', ');
function parseWhere(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = part.match(/^([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|!=|>|<|=)\s*(.*)$/);
    if (!m) continue;
    const [, f, op, raw] = m as unknown as [string, string, string, string];
    const n = Number(raw);
    const val = raw !== '' && !Number.isNaN(n) && op !== '=' ? n : raw;
    if (op === '=') out[f] = raw.includes('|') ? raw.split('|') : raw;
    else out[f] = { ...(out[f] as object), [{ '>': 'gt', '>=': 'gte', '<': 'lt', '<=': 'lte', '!=': 'ne' }[op]!]: val };
  }
  return out;
}

/** The experiment editor: who is in it (unit, agent or workflow, membership), variants and weights, metrics and guardrails, the statistics. */
function EditorPage({ context, options }: WidgetProps<Options>) {
  const editing = options.key !== '';
  const existing = useWidgetData<{ definition: Def; status: string }>(`/${encodeURIComponent(options.key)}`, {}, { withContext: false, enabled: editing });
  const options_ = useWidgetData<AudienceOptions>('/audience-options', {}, { withContext: false });
  const [d, setD] = useState<Def>(BLANK);
  const [wheres, setWheres] = useState<string[]>(BLANK.metrics.map((m) => whereText(m.where)));
  const [loaded, setLoaded] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  useEffect(() => {
    if (editing && existing.data && loaded !== options.key) {
      setD({ ...BLANK, ...existing.data.definition });
      setWheres(existing.data.definition.metrics.map((m) => whereText(m.where)));
      setLoaded(options.key);
    }
  }, [editing, existing.data]); // eslint-disable-line react-hooks/exhaustive-deps

  const total = d.variants.reduce((a, v) => a + (Number.isFinite(v.weight) ? v.weight : 0), 0);
  const setVariant = (i: number, patch: Partial<Def['variants'][number]>) => setD({ ...d, variants: d.variants.map((v, j) => (j === i ? { ...v, ...patch } : v)) });
  const setMetric = (i: number, patch: Partial<Metric>) => setD({ ...d, metrics: d.metrics.map((m, j) => (j === i ? { ...m, ...patch } : m)) });
  const local = (iso?: string | null) => (iso ? toZonedWallTime(iso, context.tz).slice(0, 16).replace(' ', 'T') : '');
  const fromLocal = (v: string) => (v ? fromZonedWallTime(v.replace('T', ' ') + ':00', context.tz) : null);

  const body = (): Def => {
    const metrics = d.metrics.map((m, i) => {
      const out: Metric = { name: m.name, kind: m.kind };
      if (m.event_type) out.event_type = m.event_type;
      if (m.kind === 'mean') out.field = typeof m.field === 'string' && m.field.includes(',') ? m.field.split(',').map((s) => s.trim()) : m.field;
      const w = parseWhere(wheres[i] ?? '');
      if (Object.keys(w).length) out.where = w;
      if (m.aggregate) out.aggregate = m.aggregate;
      if (m.guardrail) out.guardrail = true;
      return out;
    });
    const b: Def = { ...d, metrics };
    if (!b.agent_name) delete b.agent_name;
    if (!b.workflow_id) delete b.workflow_id;
    if (!b.variant_field) delete b.variant_field;
    if (!b.end_at) delete b.end_at;
    if (!b.description) delete b.description;
    const audience = { ...(b.audience?.departments?.length ? { departments: b.audience.departments } : {}), ...(b.audience?.roles?.length ? { roles: b.audience.roles } : {}) };
    if (Object.keys(audience).length) b.audience = audience;
    else delete b.audience;
    return b;
  };

  const save = async () => {
    setBusy(true);
    setError(null);
    setSaved(null);
    try {
      const b = body();
      if (editing) {
        const { key: _key, ...rest } = b;
        await context.request(`/${encodeURIComponent(options.key)}`, { method: 'PUT', body: { ...rest, key: options.key } });
        setSaved(`Saved ${b.name}.`);
      } else {
        await context.request('/', { method: 'POST', body: b });
        setSaved(`Created ${b.name}.`);
        context.navigate?.(`/p/experiments/results?key=${encodeURIComponent(b.key)}`);
      }
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form aria-label="Experiment" onSubmit={(e) => { e.preventDefault(); void save(); }} style={{ display: 'grid', gap: 16 }}>
      <p className="small" style={{ margin: 0 }}>
        <PortalLink context={context} to="/p/experiments/list">All experiments</PortalLink>
        {editing && <> · <PortalLink context={context} to={`/p/experiments/results?key=${encodeURIComponent(options.key)}`}>Results</PortalLink></>}
      </p>
      <fieldset style={grid}>
        <legend>Experiment</legend>
        <Field label="Key" hint={editing ? 'Fixed: assignment hashes it.' : 'Letters, digits, . _ -; assignment hashes it, so it cannot change later.'}>
          <input required disabled={editing} value={d.key} onChange={(e) => setD({ ...d, key: e.target.value.trim() })} />
        </Field>
        <Field label="Name"><input required value={d.name} onChange={(e) => setD({ ...d, name: e.target.value })} /></Field>
        <Field label="Starts" hint="In your time zone."><input required type="datetime-local" value={local(d.start_at)} onChange={(e) => setD({ ...d, start_at: fromLocal(e.target.value) ?? d.start_at })} /></Field>
        <Field label="Ends (optional)"><input type="datetime-local" value={local(d.end_at)} onChange={(e) => setD({ ...d, end_at: fromLocal(e.target.value) })} /></Field>
      </fieldset>

      <fieldset style={grid}>
        <legend>Audience</legend>
        <Field label="Unit" hint="Who is randomised: each person, or each agent invocation.">
          <select value={d.unit} onChange={(e) => setD({ ...d, unit: e.target.value as Def['unit'] })}>
            <option value="invocation">invocations</option>
            <option value="user">users</option>
          </select>
        </Field>
        <Field label="Agent" hint="The agent under test (empty for a workflow test)."><input value={d.agent_name ?? ''} onChange={(e) => setD({ ...d, agent_name: e.target.value.trim() })} /></Field>
        <Field label="Workflow (optional)"><input value={d.workflow_id ?? ''} onChange={(e) => setD({ ...d, workflow_id: e.target.value.trim() })} /></Field>
        <Field label="Variant membership" hint="From a field the invocations carry, or from assignment by the API.">
          <select value={d.variant_field ?? ''} onChange={(e) => setD({ ...d, variant_field: e.target.value || undefined })}>
            <option value="agent_version">the agent version</option>
            <option value="prompt_template_version">the prompt template version</option>
            <option value="model_used">the model used</option>
            <option value="">assignment (exposures recorded)</option>
          </select>
        </Field>
        <AudienceChoice
          legend="Departments (optional)"
          hint="Only people in one of these; none ticked: every department."
          choices={(options_.data?.departments ?? []).map((x) => ({ value: x.id, label: x.name }))}
          chosen={d.audience?.departments ?? []}
          onChange={(departments) => setD({ ...d, audience: { ...d.audience, departments } })}
        />
        <AudienceChoice
          legend="Roles (optional)"
          hint="Only people with one of these roles; none ticked: every role."
          choices={(options_.data?.roles ?? []).map((r) => ({ value: r, label: r }))}
          chosen={d.audience?.roles ?? []}
          onChange={(roles) => setD({ ...d, audience: { ...d.audience, roles } })}
        />
      </fieldset>

      <fieldset style={{ display: 'grid', gap: 8 }}>
        <legend>Variants and weights</legend>
        <table className="orrery-table" aria-label="Variants">
          <thead><tr><th scope="col">Variant key</th><th scope="col">Weight (%)</th><th scope="col">Control</th><th scope="col"><span className="sr-only">Remove</span></th></tr></thead>
          <tbody>
            {d.variants.map((v, i) => (
              <tr key={i}>
                <td><input aria-label={`Variant ${i + 1} key`} required value={v.key} onChange={(e) => { const key = e.target.value.trim(); setD({ ...d, control: d.control === v.key ? key : d.control, variants: d.variants.map((x, j) => (j === i ? { ...x, key } : x)) }); }} /></td>
                <td><input aria-label={`Variant ${i + 1} weight`} type="number" min={0} max={100} step="any" value={v.weight} onChange={(e) => setVariant(i, { weight: Number(e.target.value) })} /></td>
                <td><input type="radio" name="control" aria-label={`${v.key || `variant ${i + 1}`} is the control`} checked={d.control === v.key} onChange={() => setD({ ...d, control: v.key })} /></td>
                <td>{d.variants.length > 2 && <Button variant="quiet" onClick={() => setD({ ...d, variants: d.variants.filter((_, j) => j !== i) })}>Remove<span className="sr-only"> variant {v.key}</span></Button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <div style={{ display: 'flex', gap: 12, alignItems: 'center' }}>
          <Button onClick={() => setD({ ...d, variants: [...d.variants, { key: `variant-${d.variants.length + 1}`, weight: 0 }] })}>Add a variant</Button>
          <span role="status" style={{ color: Math.abs(total - 100) > 1e-9 ? 'var(--danger, #c0392b)' : undefined }}>Weights add up to {total}%{Math.abs(total - 100) > 1e-9 ? ' — they must add up to 100%' : ''}.</span>
        </div>
      </fieldset>

      <fieldset style={{ display: 'grid', gap: 8 }}>
        <legend>Metrics</legend>
        <p className="small" style={{ margin: 0 }}>The first metric that is not a guardrail is the primary one. A guardrail that gets significantly worse blocks “ship”.</p>
        {d.metrics.map((m, i) => (
          <div key={i} style={grid} role="group" aria-label={`Metric ${i + 1}`}>
            <Field label="Name"><input required value={m.name} onChange={(e) => setMetric(i, { name: e.target.value.trim() })} /></Field>
            <Field label="Kind">
              <select value={m.kind} onChange={(e) => setMetric(i, { kind: e.target.value as Metric['kind'] })}>
                <option value="proportion">share of events matching</option>
                <option value="mean">mean of a field</option>
              </select>
            </Field>
            <Field label="Event type" hint="Default agent_invocation; e.g. feedback."><input value={m.event_type ?? ''} onChange={(e) => setMetric(i, { event_type: e.target.value.trim() || undefined })} /></Field>
            {m.kind === 'mean' ? (
              <Field label="Field" hint="e.g. execution_time_ms; several are summed (input_tokens, output_tokens)."><input required value={Array.isArray(m.field) ? m.field.join(', ') : (m.field ?? '')} onChange={(e) => setMetric(i, { field: e.target.value })} /></Field>
            ) : (
              <Field label="Counts when" hint="status=success, rating>=4"><input value={wheres[i] ?? ''} onChange={(e) => setWheres(wheres.map((w, j) => (j === i ? e.target.value : w)))} /></Field>
            )}
            <label style={{ display: 'flex', gap: 6, alignItems: 'center' }}>
              <input type="checkbox" checked={!!m.guardrail} onChange={(e) => setMetric(i, { guardrail: e.target.checked })} /> Guardrail
            </label>
            <div>{d.metrics.length > 1 && <Button variant="quiet" onClick={() => { setD({ ...d, metrics: d.metrics.filter((_, j) => j !== i) }); setWheres(wheres.filter((_, j) => j !== i)); }}>Remove<span className="sr-only"> metric {m.name}</span></Button>}</div>
          </div>
        ))}
        <div><Button onClick={() => { setD({ ...d, metrics: [...d.metrics, { name: `metric_${d.metrics.length + 1}`, kind: 'proportion' }] }); setWheres([...wheres, '']); }}>Add a metric</Button></div>
      </fieldset>

      <fieldset style={grid}>
        <legend>Statistics</legend>
        <Field label="Method" hint="Sequential results stay valid however often you look.">
          <select value={d.method} onChange={(e) => setD({ ...d, method: e.target.value as Def['method'] })}>
            <option value="sequential">sequential (always valid)</option>
            <option value="frequentist">fixed horizon (Welch)</option>
            <option value="bayesian">Bayesian</option>
          </select>
        </Field>
        <Field label="Significance level (alpha)"><input type="number" min={0.001} max={0.5} step="any" value={d.alpha} onChange={(e) => setD({ ...d, alpha: Number(e.target.value) })} /></Field>
        <Field label="Minimum units per variant" hint="No winner is called before."><input type="number" min={1} value={d.min_units_per_variant ?? 100} onChange={(e) => setD({ ...d, min_units_per_variant: Number(e.target.value) })} /></Field>
        {d.unit === 'user' && (
          <label style={{ display: 'flex', gap: 6, alignItems: 'center' }}>
            <input type="checkbox" checked={!!d.cuped} onChange={(e) => setD({ ...d, cuped: e.target.checked })} /> CUPED (use the 14 days before exposure to reduce variance)
          </label>
        )}
      </fieldset>

      <div style={{ display: 'flex', gap: 12, alignItems: 'center' }}>
        <Button type="submit" variant="primary" disabled={busy}>{editing ? 'Save changes' : 'Create experiment'}</Button>
        <div aria-live="polite">
          {error && <p role="alert" style={{ margin: 0 }}>{error}</p>}
          {saved && <p style={{ margin: 0 }}>{saved}</p>}
        </div>
      </div>
    </form>
  );
}

/** Checkboxes for one part of the audience (departments or roles) of the directory. */
function AudienceChoice({ legend, hint, choices, chosen, onChange }: { legend: string; hint: string; choices: Array<{ value: string; label: string }>; chosen: string[]; onChange: (next: string[]) => void }) {
  return (
    <fieldset style={{ display: 'grid', gap: 4, alignContent: 'start', border: 0, padding: 0, margin: 0 }}>
      <legend>{legend}</legend>
      {choices.length === 0 && <span className="small">None in the directory.</span>}
      {choices.map((c) => (
        <label key={c.value} style={{ display: 'flex', gap: 6, alignItems: 'center' }}>
          <input type="checkbox" checked={chosen.includes(c.value)} onChange={(e) => onChange(e.target.checked ? [...chosen, c.value] : chosen.filter((x) => x !== c.value))} /> {c.label}
        </label>
      ))}
      <span className="small">{hint}</span>
    </fieldset>
  );
}

export default defineWidget<Options>({ component: EditorPage, declaration: editorPage });
