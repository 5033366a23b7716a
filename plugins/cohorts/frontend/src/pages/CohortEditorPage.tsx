import { useEffect, useState } from 'react';
import { ActionStatus, Button, defineWidget, Field, formatters, formGrid, PortalLink, useAction, useWidgetData, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { cohortPage } from '../../../widgets.ts';
import { blankCriterion, describe, EVENT_CHOICES, KINDS, kindOf, ROLES, withKind, type Criterion, type Kind, type Role } from './criteria.ts';
import type { Cohort } from './CohortsPage.tsx';
import { CohortMembers } from './CohortMembers.tsx';

interface Options { id: string }

interface PreviewPerson { user_id: string; name: string | null }

/** Who the rules select, by name where the directory knows them: the first few, and how many more. */
function SampleOf({ size, sample, fmt }: { size: number; sample: PreviewPerson[]; fmt: ReturnType<typeof formatters> }) {
  if (!sample.length) return null;
  const more = size - sample.length;
  return (
    <p className="small" style={{ margin: 0 }}>
      For example:{' '}
      {sample.map((p, i) => (
        <span key={p.user_id}>
          {i > 0 && ', '}
          {p.name ? <span title={p.user_id}>{p.name}</span> : p.user_id}
        </span>
      ))}
      {more > 0 ? `, and ${fmt.number(more)} more.` : '.'}
    </p>
  );
}

/** One rule of a behavioural cohort: its kind, event type and numbers, read back as a sentence. */
function CriterionRow({ c, index, count, onChange, onRemove }: { c: Criterion; index: number; count: number; onChange(c: Criterion): void; onRemove(): void }) {
  const k = kindOf(c.kind);
  const label = `Rule ${index + 1}`;
  return (
    <fieldset style={{ display: 'grid', gap: 8, border: '1px solid var(--orrery-border, #ddd)', borderRadius: 6, padding: 8, margin: 0 }}>
      <legend className="small">{label}</legend>
      <div style={formGrid}>
        <Field label="People who">
          <select value={c.kind} onChange={(e) => onChange(withKind(c, e.target.value as Kind))}>
            {KINDS.map((x) => <option key={x.kind} value={x.kind}>{x.label}</option>)}
          </select>
        </Field>
        {c.event_type !== undefined && (
          <Field label="Event type">
            <select value={c.event_type} onChange={(e) => onChange({ ...c, event_type: e.target.value })}>
              {EVENT_CHOICES.map((t) => <option key={t} value={t}>{t}</option>)}
            </select>
          </Field>
        )}
        {k.numbers.map((n) => (
          <Field key={n.field} label={n.label}>
            <input type="number" required min={n.min} max={n.max} step={1} value={c[n.field] as number} onChange={(e) => onChange({ ...c, [n.field]: e.target.value === '' ? n.min : Number(e.target.value) })} />
          </Field>
        ))}
        {c.kind === 'role' && (
          <fieldset style={{ border: 0, padding: 0, margin: 0 }}>
            <legend>Roles</legend>
            {ROLES.map((r) => (
              <label key={r} style={{ marginRight: 12 }}>
                <input type="checkbox" checked={c.roles?.includes(r) ?? false} onChange={(e) => onChange({ ...c, roles: e.target.checked ? [...(c.roles ?? []), r] : (c.roles ?? []).filter((x: Role) => x !== r) })} /> {r}
              </label>
            ))}
          </fieldset>
        )}
      </div>
      <div style={{ display: 'flex', gap: 8, alignItems: 'center', justifyContent: 'space-between' }}>
        <span className="small" aria-live="polite">Reads: {describe(c)}</span>
        <Button disabled={count <= 1} onClick={onRemove}>Remove<span className="sr-only"> {label.toLowerCase()}</span></Button>
      </div>
    </fieldset>
  );
}

/** Create or edit a saved cohort: a list of people, or rules about what they do (recomputed hourly). */
function CohortEditorPage({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  const editing = options.id !== '';
  const existing = useWidgetData<Cohort>(`/${options.id}`, {}, { withContext: false, enabled: editing });
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [kind, setKind] = useState<Cohort['kind']>('dynamic');
  const [criteria, setCriteria] = useState<Criterion[]>([blankCriterion()]);
  const [department, setDepartment] = useState<string | null>(context.department?.id ?? null);
  const [people, setPeople] = useState('');
  const [loadedFrom, setLoadedFrom] = useState('');
  const [size, setSize] = useState<number | null>(null);
  const act = useAction();
  useEffect(() => {
    const c = existing.data;
    if (!editing || !c || loadedFrom === options.id) return;
    setName(c.name);
    setDescription(c.description);
    setKind(c.kind);
    if (c.criteria.length) setCriteria(c.criteria);
    setDepartment(c.department_id);
    setSize(c.size);
    setLoadedFrom(options.id);
    if (c.kind === 'static') void context.request<{ members: Array<{ user_id: string }> }>(`/${c.id}/members`, { query: { limit: 10_000 } }).then((m) => setPeople(m.members.map((x) => x.user_id).join('\n')));
    // the context object is new at every render of the host; the member list is read once per cohort
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [editing, existing.data, loadedFrom, options.id]);

  // the rules' dry run: how many people they select now, 0.6 s after the last change
  const [preview, setPreview] = useState<{ size?: number; sample?: PreviewPerson[]; error?: string; busy: boolean }>({ busy: false });
  const previewKey = kind === 'dynamic' && !criteria.some((c) => c.kind === 'role' && !c.roles?.length) ? JSON.stringify({ criteria, ...(department ? { department_id: department } : {}) }) : '';
  useEffect(() => {
    if (!previewKey) return setPreview({ busy: false });
    const ac = new AbortController();
    setPreview((p) => ({ ...p, busy: true }));
    const t = setTimeout(() => {
      context.request<{ size: number; sample?: PreviewPerson[] }>('/preview', { method: 'POST', body: JSON.parse(previewKey), signal: ac.signal }).then(
        (r) => !ac.signal.aborted && setPreview({ size: r.size, sample: r.sample ?? [], busy: false }),
        (e: Error) => !ac.signal.aborted && e.name !== 'AbortError' && setPreview({ error: e.message, busy: false }),
      );
    }, 600);
    return () => {
      clearTimeout(t);
      ac.abort();
    };
    // the context object is new at every render of the host: the dry run depends on the rules only
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [previewKey]);

  const ids = [...new Set(people.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean))];
  const save = () =>
    act.run(async () => {
      let r: Cohort;
      if (editing) {
        r = await context.request<Cohort>(`/${options.id}`, {
          method: 'PATCH',
          body: { name, description, ...(kind === 'dynamic' ? { criteria, department_id: department } : { user_ids: ids }) },
        });
      } else {
        r = await context.request<Cohort>('/', {
          method: 'POST',
          body: { name, description, kind, ...(kind === 'dynamic' ? { criteria, ...(department ? { department_id: department } : {}) } : { user_ids: ids }) },
        });
        context.setOptions({ id: r.id });
      }
      setSize(r.size);
      return `Saved “${r.name}”: ${fmt.number(r.size)} ${r.size === 1 ? 'person' : 'people'} now.${r.kind === 'dynamic' ? ' It is recomputed every hour.' : ''}`;
    });

  if (editing && existing.error) return <p role="alert" className="orrery-state--error">{existing.error.message}</p>;
  return (
    <div style={{ display: 'grid', gap: 16 }}>
      <p className="small" style={{ margin: 0 }}><PortalLink context={context} to="/p/cohorts/cohorts">All saved cohorts</PortalLink></p>
      <form
        aria-label={editing ? 'Edit the cohort' : 'New cohort'}
        style={{ display: 'grid', gap: 12 }}
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <div style={{ display: 'grid', gap: 12, maxWidth: '40em' }}>
          <Field label="Name"><input required maxLength={200} value={name} placeholder="e.g. Weekly agent users" onChange={(e) => setName(e.target.value)} /></Field>
          <Field label="Description"><input maxLength={2000} value={description} onChange={(e) => setDescription(e.target.value)} /></Field>
        </div>
        <fieldset disabled={editing} style={{ border: 0, padding: 0, margin: 0 }}>
          <legend>Who belongs</legend>
          <label style={{ marginRight: 16 }}><input type="radio" name="kind" checked={kind === 'dynamic'} onChange={() => setKind('dynamic')} /> everyone who meets rules about what they do</label>
          <label><input type="radio" name="kind" checked={kind === 'static'} onChange={() => setKind('static')} /> a list of people</label>
          {editing && <span className="small"> (fixed once saved)</span>}
        </fieldset>
        {kind === 'dynamic' ? (
          <>
            {criteria.map((c, i) => (
              <CriterionRow key={i} c={c} index={i} count={criteria.length} onChange={(x) => setCriteria(criteria.map((y, j) => (j === i ? x : y)))} onRemove={() => setCriteria(criteria.filter((_, j) => j !== i))} />
            ))}
            <div><Button disabled={criteria.length >= 10} onClick={() => setCriteria([...criteria, blankCriterion()])}>Add a rule</Button> <span className="small">Every rule must hold.</span></div>
            <p role="status" style={{ margin: 0 }}>
              {preview.error ? <span className="orrery-state--error">{preview.error}</span>
                : preview.size === undefined ? (preview.busy ? 'Counting who meets these rules…' : '')
                : <>{fmt.number(preview.size)} {preview.size === 1 ? 'person meets' : 'people meet'} these rules now{preview.busy ? ' (counting again…)' : ''}.</>}
            </p>
            {!preview.error && preview.size !== undefined && <SampleOf size={preview.size} sample={preview.sample ?? []} fmt={fmt} />}
            {(department || context.department) && (
              <label>
                <input type="checkbox" checked={department !== null} onChange={(e) => setDepartment(e.target.checked ? context.department?.id ?? department : null)} />{' '}
                only people in {context.department && (department === null || department === context.department.id) ? context.department.name : `department ${department}`}
              </label>
            )}
          </>
        ) : (
          <Field label="People" hint="user ids, one per line (or separated by commas); a CSV's first column can be pasted as it is">
            <textarea rows={8} value={people} onChange={(e) => setPeople(e.target.value)} />
          </Field>
        )}
        <div style={{ display: 'flex', gap: 8, alignItems: 'center' }}>
          <Button type="submit" variant="primary" disabled={act.busy || (kind === 'dynamic' && criteria.some((c) => c.kind === 'role' && !c.roles?.length))}>{editing ? 'Save changes' : 'Save the cohort'}</Button>
          {kind === 'static' && <span className="small">{fmt.number(ids.length)} {ids.length === 1 ? 'person' : 'people'}</span>}
          {act.busy && kind === 'dynamic' && <span role="status" className="small">Finding the members…</span>}
        </div>
      </form>
      <ActionStatus error={act.error} done={act.done} />
      {size !== null && !act.done && <p style={{ margin: 0 }}>{fmt.number(size)} {size === 1 ? 'person' : 'people'} now.</p>}
      {editing && size !== null && <CohortMembers context={context} cohortId={options.id} name={name} size={size} createdAt={existing.data?.created_at} />}
    </div>
  );
}

export default defineWidget<Options>({ component: CohortEditorPage, declaration: cohortPage });
