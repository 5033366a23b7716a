import { useEffect, useId, useState } from 'react';
import { ActionStatus, BarChart, Button, defineWidget, Field, formatters, formGrid, PortalLink, useAction, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { funnelPage } from '../../../widgets.ts';
import { stepName, type FunnelStep } from '../api.ts';
import { inDepartment } from '../../../inDepartment.ts';
import { actionsOf, BLANK, breakdownFields, exampleFilter, EVENT_TYPE_NAMES, MAX_EXCLUSIONS, toDefinition, UNIT_SECONDS, toDraft, type Definition, type Draft, type EventDraft, type ExclusionDraft, type StepDraft, type Unit } from './draft.ts';

interface Options { id: string }
interface Preview { steps: FunnelStep[]; breakdown?: Array<{ value: string; label?: string; steps: FunnelStep[] }> }
interface Saved { id: number; name: string; definition: Definition }

/** the units a window is typed in, for the funnel's window and each step's */
const unitOptions = (Object.keys(UNIT_SECONDS) as Unit[]).map((u) => <option key={u} value={u}>{u}</option>);

/** the preview runs this long after the last change, so typing does not fire a query per key */
const PREVIEW_DELAY_MS = 600;

const rowStyle = { display: 'grid', gap: 8, alignItems: 'end', border: '1px solid var(--orrery-border, #ddd)', borderRadius: 6, padding: 8, margin: 0 } as const;

/** What an event must be to count: its type, action and filters (a step's or an exclusion's). */
function EventFields<T extends EventDraft>({ step, onChange }: { step: T; onChange(s: T): void }) {
  const actions = actionsOf(step.event_type);
  return (
    <>
      <Field label="Event type">
        <select value={step.event_type} onChange={(e) => onChange({ ...step, event_type: e.target.value, action: '' })}>
          {EVENT_TYPE_NAMES.map((t) => <option key={t} value={t}>{t}</option>)}
        </select>
      </Field>
      <Field label="Action">
        <select value={step.action} disabled={!actions.length} onChange={(e) => onChange({ ...step, action: e.target.value })}>
          <option value="">{actions.length ? 'any' : '—'}</option>
          {actions.map((a) => <option key={a} value={a}>{a}</option>)}
        </select>
      </Field>
      <Field label="Only where" hint="field=value, comma-separated; a|b for either">
        <input value={step.where} placeholder={exampleFilter(step.event_type)} onChange={(e) => onChange({ ...step, where: e.target.value })} />
      </Field>
    </>
  );
}

/**
 * The most time a step may take after the one before (blank: only the funnel's window), on its
 * own line under the step's event. The unit stays when the number is cleared, so typing a new
 * one keeps it.
 */
function WithinFields({ step, index, onChange }: { step: StepDraft; index: number; onChange(s: StepDraft): void }) {
  const id = useId();
  const [unit, setUnit] = useState<Unit>(step.within?.unit ?? 'hours');
  const shownUnit = step.within?.unit ?? unit;
  return (
    <div style={{ gridColumn: '1 / -1', display: 'flex', gap: 8, alignItems: 'center', flexWrap: 'wrap' }}>
      <label id={`${id}-label`} htmlFor={id}>Within</label>
      <input
        id={id}
        type="number"
        min={1}
        step={1}
        style={{ width: '6em' }}
        value={step.within?.value ?? ''}
        placeholder="any"
        aria-labelledby={`${id}-label ${id}-after`}
        aria-describedby={`${id}-hint`}
        onChange={(e) => {
          const value = Math.round(Number(e.target.value));
          const { within: _, ...rest } = step;
          onChange(e.target.value === '' || !(value >= 1) ? rest : { ...rest, within: { value, unit: shownUnit } });
        }}
      />
      <select
        aria-label={`Unit of the time after step ${index}`}
        value={shownUnit}
        onChange={(e) => {
          const u = e.target.value as Unit;
          setUnit(u);
          if (step.within) onChange({ ...step, within: { ...step.within, unit: u } });
        }}
      >
        {unitOptions}
      </select>
      <span id={`${id}-after`}>after step {index}</span>
      <span id={`${id}-hint`} className="small muted">blank: any time within the funnel’s window</span>
    </div>
  );
}

/** One step of the form: event type, action, filters, its time since the step before, and buttons to move or remove it. */
function StepRow({ step, index, count, ordered, onChange, onMove, onRemove }: { step: StepDraft; index: number; count: number; ordered: boolean; onChange(s: StepDraft): void; onMove(by: -1 | 1): void; onRemove(): void }) {
  const label = `Step ${index + 1}`;
  const within = ordered && index > 0;
  return (
    <fieldset style={{ ...rowStyle, gridTemplateColumns: 'minmax(10em, 1fr) minmax(8em, 1fr) minmax(12em, 2fr) auto' }}>
      <legend className="small">{label}</legend>
      <EventFields step={step} onChange={onChange} />
      <div style={{ display: 'flex', gap: 4 }}>
        <Button disabled={index === 0} onClick={() => onMove(-1)}><span aria-hidden>↑</span><span className="sr-only">Move {label.toLowerCase()} up</span></Button>
        <Button disabled={index === count - 1} onClick={() => onMove(1)}><span aria-hidden>↓</span><span className="sr-only">Move {label.toLowerCase()} down</span></Button>
        <Button disabled={count <= 2} onClick={onRemove}>Remove<span className="sr-only"> {label.toLowerCase()}</span></Button>
      </div>
      {within && <WithinFields step={step} index={index} onChange={onChange} />}
    </fieldset>
  );
}

/** An exclusion: an event that, between two steps, takes the attempt out of the funnel. */
function ExclusionRow({ x, index, steps, onChange, onRemove }: { x: ExclusionDraft; index: number; steps: number; onChange(x: ExclusionDraft): void; onRemove(): void }) {
  const label = `Exclusion ${index + 1}`;
  const stepOptions = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i).map((k) => <option key={k} value={k}>step {k + 1}</option>);
  return (
    <fieldset style={{ ...rowStyle, gridTemplateColumns: 'minmax(7em, 0.7fr) minmax(7em, 0.7fr) minmax(10em, 1fr) minmax(8em, 1fr) minmax(12em, 2fr) auto' }}>
      <legend className="small">{label}: an attempt stops counting if this happens between the two steps</legend>
      <Field label="After">
        <select value={Math.min(x.from_step, steps - 2)} onChange={(e) => { const from = Number(e.target.value); onChange({ ...x, from_step: from, to_step: Math.max(x.to_step, from + 1) }); }}>{stepOptions(0, steps - 2)}</select>
      </Field>
      <Field label="Before">
        <select value={Math.min(x.to_step, steps - 1)} onChange={(e) => onChange({ ...x, to_step: Number(e.target.value) })}>{stepOptions(Math.min(x.from_step, steps - 2) + 1, steps - 1)}</select>
      </Field>
      <EventFields step={x} onChange={onChange} />
      <Button onClick={onRemove}>Remove<span className="sr-only"> {label.toLowerCase()}</span></Button>
    </fieldset>
  );
}

/** Conversion per value of the breakdown field, as a table people can read value by value. */
function BreakdownTable({ field, rows, fmt }: { field: string; rows: NonNullable<Preview['breakdown']>; fmt: ReturnType<typeof formatters> }) {
  return (
    <table className="orrery-table" aria-label={`Conversion by ${field === 'department_id' ? 'department' : field}`}>
      <thead><tr><th scope="col">{field === 'department_id' ? 'Department' : field}</th><th scope="col">Started</th><th scope="col">Reached the last step</th><th scope="col">Conversion</th></tr></thead>
      <tbody>
        {rows.map((b) => {
          const last = b.steps.at(-1)!;
          return (
            <tr key={b.value}>
              <th scope="row">{b.value === '' ? <span className="muted">(none)</span> : b.label ?? b.value}</th>
              <td>{fmt.number(b.steps[0]?.count ?? 0)}</td>
              <td>{fmt.number(last.count)}</td>
              <td>{last.conversion_rate === null ? '—' : fmt.percent(last.conversion_rate)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Create or edit a saved funnel; the chart runs the draft over the portal's range as it is edited. */
function FunnelEditorPage({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  const editing = options.id !== '';
  const existing = useWidgetData<Saved>(`/saved/${options.id}`, {}, { withContext: false, enabled: editing });
  const [d, setD] = useState<Draft>(BLANK);
  const [loadedFrom, setLoadedFrom] = useState('');
  const act = useAction();
  useEffect(() => {
    if (editing && existing.data && loadedFrom !== options.id) {
      setD(toDraft(existing.data.name, existing.data.definition));
      setLoadedFrom(options.id);
    }
  }, [editing, existing.data, loadedFrom, options.id]);

  const definition = toDefinition(d, editing ? existing.data?.definition ?? null : null);
  // the preview follows the portal's department, as the saved funnel's widgets do; what is saved does not
  const department = context.department;
  const key = JSON.stringify(department ? inDepartment(definition, department.id) : definition);
  const [previewKey, setPreviewKey] = useState(key);
  useEffect(() => {
    const t = setTimeout(() => setPreviewKey(key), PREVIEW_DELAY_MS);
    return () => clearTimeout(t);
  }, [key]);
  const [preview, setPreview] = useState<{ data?: Preview; error?: Error; loading: boolean }>({ loading: true });
  useEffect(() => {
    const ac = new AbortController();
    setPreview((p) => ({ ...p, loading: true }));
    context.request<Preview>('/query', { method: 'POST', body: { ...JSON.parse(previewKey), from: context.timeRange.from, to: context.timeRange.to }, signal: ac.signal }).then(
      (data) => !ac.signal.aborted && setPreview({ data, loading: false }),
      (error: Error) => !ac.signal.aborted && error.name !== 'AbortError' && setPreview({ error, loading: false }),
    );
    return () => ac.abort();
    // the context object is new at every render of the host: the request depends on the draft and the range only
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [previewKey, context.timeRange.from, context.timeRange.to]);

  const setStep = (i: number, s: StepDraft) => setD({ ...d, steps: d.steps.map((x, j) => (j === i ? s : x)) });
  const setExclusion = (i: number, x: ExclusionDraft) => setD({ ...d, exclusions: d.exclusions.map((y, j) => (j === i ? x : y)) });
  // the fields the first step's type can be broken down by, and a saved one the form does not offer
  const breakdowns = breakdownFields(d.steps[0]?.event_type ?? '');
  if (definition.breakdown && !breakdowns.includes(definition.breakdown)) breakdowns.push(definition.breakdown);
  const move = (i: number, by: -1 | 1) => {
    const steps = [...d.steps];
    [steps[i], steps[i + by]] = [steps[i + by]!, steps[i]!];
    setD({ ...d, steps });
  };
  const save = () =>
    act.run(async () => {
      const body = { name: d.name, definition };
      const r = editing
        ? await context.request<Saved>(`/saved/${options.id}`, { method: 'PUT', body })
        : await context.request<Saved>('/saved', { method: 'POST', body });
      if (!editing) context.setOptions({ id: String(r.id) });
      return `Saved “${r.name}”. The Funnel, Time to convert and Paths widgets can show it (funnel id ${r.id}).`;
    });

  if (editing && existing.error) return <p role="alert" className="orrery-state--error">{existing.error.message}</p>;
  // while a changed draft runs, the last answer stays on screen (no spinner flashing at each key)
  const previewQuery = { data: preview.data, error: preview.error, loading: preview.loading && !preview.data && !preview.error, fetching: preview.loading, empty: !!preview.data && (preview.data.steps[0]?.count ?? 0) === 0, refetch: () => setPreviewKey(key + ' ') };
  return (
    <div style={{ display: 'grid', gap: 16 }}>
      <p className="small" style={{ margin: 0 }}><PortalLink context={context} to="/p/funnels/funnels">All saved funnels</PortalLink></p>
      <form
        aria-label={editing ? 'Edit the funnel' : 'New funnel'}
        style={{ display: 'grid', gap: 12 }}
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <div style={{ maxWidth: '40em' }}>
          <Field label="Name"><input required maxLength={200} value={d.name} placeholder="e.g. From a first question to an accepted answer" onChange={(e) => setD({ ...d, name: e.target.value })} /></Field>
        </div>
        <div style={formGrid}>
          <Field label="Count" hint="who moves through the steps">
            <select value={d.count_by} onChange={(e) => setD({ ...d, count_by: e.target.value as Draft['count_by'] })}>
              <option value="user">people</option>
              <option value="session">sessions</option>
            </select>
          </Field>
          <Field label="Order" hint="strict: no other event of the funnel in between">
            <select value={d.order} onChange={(e) => setD({ ...d, order: e.target.value as Draft['order'] })}>
              <option value="ordered">steps in order</option>
              <option value="strict">steps in order, nothing between</option>
              <option value="unordered">steps in any order</option>
            </select>
          </Field>
          <Field label="Within" hint="from the first step">
            <input type="number" min={1} step={1} required value={d.window} onChange={(e) => setD({ ...d, window: Math.max(1, Number(e.target.value) || 1) })} />
          </Field>
          <Field label="Unit">
            <select value={d.unit} onChange={(e) => setD({ ...d, unit: e.target.value as Draft['unit'] })}>
              {unitOptions}
            </select>
          </Field>
        </div>
        {d.steps.map((s, i) => (
          <StepRow key={i} step={s} index={i} count={d.steps.length} ordered={d.order !== 'unordered'} onChange={(x) => setStep(i, x)} onMove={(by) => move(i, by)} onRemove={() => setD({ ...d, steps: d.steps.filter((_, j) => j !== i) })} />
        ))}
        {d.order !== 'unordered' && d.exclusions.map((x, i) => (
          <ExclusionRow key={i} x={x} index={i} steps={d.steps.length} onChange={(y) => setExclusion(i, y)} onRemove={() => setD({ ...d, exclusions: d.exclusions.filter((_, j) => j !== i) })} />
        ))}
        {d.order === 'unordered' && (d.exclusions.length > 0 || d.steps.some((s, i) => i > 0 && s.within)) && (
          <p className="small" role="note">Exclusions and the time between steps apply to steps in order; they are set aside while the order is “any”, and not saved.</p>
        )}
        <div style={{ maxWidth: '20em' }}>
          <Field label="Break down by" hint={`a field of step 1 (${d.steps[0]?.event_type ?? '—'}): conversion per value`}>
            <select value={definition.breakdown ?? ''} onChange={(e) => setD({ ...d, breakdown: e.target.value })}>
              <option value="">nothing</option>
              {breakdowns.map((f) => <option key={f} value={f}>{f}</option>)}
            </select>
          </Field>
        </div>
        <div style={{ display: 'flex', gap: 8, flexWrap: 'wrap' }}>
          <Button disabled={d.steps.length >= 20} onClick={() => setD({ ...d, steps: [...d.steps, { event_type: d.steps.at(-1)?.event_type ?? 'agent_invocation', action: '', where: '' }] })}>Add a step</Button>
          {d.order !== 'unordered' && (
            <Button disabled={d.exclusions.length >= MAX_EXCLUSIONS} onClick={() => setD({ ...d, exclusions: [...d.exclusions, { event_type: 'session', action: 'ended', where: '', from_step: 0, to_step: d.steps.length - 1 }] })}>Add an exclusion</Button>
          )}
          <Button type="submit" variant="primary" disabled={act.busy}>{editing ? 'Save changes' : 'Save the funnel'}</Button>
        </div>
      </form>
      <ActionStatus error={act.error} done={act.done} />
      <section aria-labelledby="preview-title" style={{ display: 'grid', gap: 8 }}>
        <h2 id="preview-title" style={{ margin: 0, fontSize: '1.1em' }}>Preview over {fmt.dateTime(context.timeRange.from)} – {fmt.dateTime(context.timeRange.to)}{department ? ` in ${department.name}` : ''}</h2>
        <WidgetState query={previewQuery} emptyText="Nobody did the first step in this time range: pick another first step or a longer range.">
          {({ steps, breakdown }) => (
            <>
            <div style={{ height: Math.max(160, 48 * steps.length) }}>
              <BarChart
                title="Preview"
                summary={`${fmt.number(steps[0]!.count)} started; ${fmt.number(steps.at(-1)!.count)} (${steps.at(-1)!.conversion_rate === null ? '—' : fmt.percent(steps.at(-1)!.conversion_rate!)}) reached the last step.`}
                categories={steps.map((s) => `${s.index + 1}. ${stepName(definition.steps[s.index] ?? { event_type: '?' })}`)}
                categoryKey="step"
                series={[{ name: 'Reached', values: steps.map((s) => s.count) }, { name: 'Dropped', values: steps.map((s) => s.dropped) }]}
                stacked
                horizontal
              />
            </div>
            {definition.breakdown && breakdown && <BreakdownTable field={definition.breakdown} rows={breakdown} fmt={fmt} />}
            </>
          )}
        </WidgetState>
      </section>
    </div>
  );
}

export default defineWidget<Options>({ component: FunnelEditorPage, declaration: funnelPage });
