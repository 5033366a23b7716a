import { useId, useMemo, useState } from 'react';
import { Button, defineWidget, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { muteTimingsPage } from '../../../widgets.ts';
import { ActionStatus, Field, grid, PortalLink, useAction } from './ui.tsx';
import { routesUsing, type RouteNode } from './policyTree.ts';

interface TimeRange { start: string; end: string }
interface Interval { weekdays?: number[]; times?: TimeRange[]; days_of_month?: number[]; months?: number[] }
interface MuteTiming { name: string; time_zone?: string; intervals: Interval[] }

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "Monday–Friday, 18:00–24:00, January" in words, for the list. */
function describeInterval(i: Interval): string {
  const parts = [
    i.weekdays?.length ? i.weekdays.map((d) => WEEKDAYS[d]!.slice(0, 3)).join(', ') : 'every day',
    i.times?.length ? i.times.map((t) => `${t.start}–${t.end}`).join(', ') : 'all day',
  ];
  if (i.days_of_month?.length) parts.push(`days ${i.days_of_month.join(', ')}`);
  if (i.months?.length) parts.push(i.months.map((m) => MONTHS[m - 1]!.slice(0, 3)).join(', '));
  return parts.join(' · ');
}

/** A group of checkboxes with a legend: one tab stop each, read as "Monday, checkbox, checked". */
function Checks({ legend, names, values, offset, onChange }: { legend: string; names: string[]; values: number[] | undefined; offset: number; onChange: (v: number[] | undefined) => void }) {
  const on = new Set(values ?? []);
  return (
    <fieldset style={{ display: 'flex', flexWrap: 'wrap', gap: '4px 12px', minWidth: 0 }}>
      <legend>{legend}</legend>
      {names.map((n, i) => (
        <label key={n} style={{ whiteSpace: 'nowrap' }}>
          <input
            type="checkbox"
            checked={on.has(i + offset)}
            onChange={(e) => {
              const next = new Set(on);
              if (e.target.checked) next.add(i + offset);
              else next.delete(i + offset);
              onChange(next.size ? [...next].sort((a, b) => a - b) : undefined);
            }}
          />{' '}
          {n}
        </label>
      ))}
    </fieldset>
  );
}

function IntervalEditor({ n, value, onChange, onRemove }: { n: number; value: Interval; onChange: (v: Interval) => void; onRemove?: () => void }) {
  const id = useId();
  const [days, setDays] = useState((value.days_of_month ?? []).join(', '));
  const times = value.times ?? [];
  const setTimes = (t: TimeRange[]) => onChange({ ...value, times: t.length ? t : undefined });
  return (
    <fieldset style={{ display: 'grid', gap: 12 }} aria-describedby={`${id}-sum`}>
      <legend>Interval {n}</legend>
      <span id={`${id}-sum`} className="small">Holds when all of its parts hold; a part left empty always holds. Now: {describeInterval(value)}.</span>
      <Checks legend="Weekdays" names={WEEKDAYS} values={value.weekdays} offset={0} onChange={(weekdays) => onChange({ ...value, weekdays })} />
      <fieldset style={{ display: 'grid', gap: 8 }}>
        <legend>Times of day</legend>
        {times.map((t, i) => (
          <div key={i} style={{ display: 'flex', gap: 8, alignItems: 'end', flexWrap: 'wrap' }}>
            <Field label={`From (range ${i + 1})`}><input type="time" required value={t.start} onChange={(e) => setTimes(times.map((x, j) => (j === i ? { ...x, start: e.target.value } : x)))} /></Field>
            <Field label={`Until (range ${i + 1})`} hint="Exclusive; 00:00 here means midnight at the end of the day."><input type="time" required value={t.end === '24:00' ? '00:00' : t.end} onChange={(e) => setTimes(times.map((x, j) => (j === i ? { ...x, end: e.target.value } : x)))} /></Field>
            <Button onClick={() => setTimes(times.filter((_, j) => j !== i))}>Remove range {i + 1}</Button>
          </div>
        ))}
        <div><Button onClick={() => setTimes([...times, { start: '18:00', end: '00:00' }])}>Add a time range</Button></div>
      </fieldset>
      <Checks legend="Months" names={MONTHS} values={value.months} offset={1} onChange={(months) => onChange({ ...value, months })} />
      <Field label="Days of the month" hint="Comma-separated, 1 to 31; negative counts from the month's end (-1 is the last day). Empty: every day.">
        <input
          value={days}
          onChange={(e) => {
            setDays(e.target.value);
            const list = e.target.value.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
            onChange({ ...value, days_of_month: list.length ? list : undefined });
          }}
        />
      </Field>
      {onRemove && <div><Button onClick={onRemove}>Remove interval {n}</Button></div>}
    </fieldset>
  );
}

/** The API wants `24:00` for midnight at the end of a range; a time input gives `00:00`. */
const toApi = (t: MuteTiming): MuteTiming => ({
  ...t,
  time_zone: t.time_zone || undefined,
  intervals: t.intervals.map((i) => ({ ...i, times: i.times?.map((r) => ({ start: r.start, end: r.end === '00:00' ? '24:00' : r.end })) })),
});

const blank = (): MuteTiming => ({ name: '', time_zone: '', intervals: [{ weekdays: [1, 2, 3, 4, 5], times: [{ start: '18:00', end: '00:00' }] }] });

/**
 * Mute timings: recurring windows in a time zone during which the policy routes that name
 * them send nothing. The list says which routes use each one; the form edits one at a time
 * and saves the whole list (the API checks zones, ranges and that the policy's names exist).
 */
function MuteTimingsPage({ context }: WidgetProps) {
  const q = useWidgetData<{ mute_timings: MuteTiming[] }>('/mute-timings', {}, { withContext: false, isEmpty: (d) => d.mute_timings.length === 0 });
  const policy = useWidgetData<{ policy: RouteNode }>('/policy', {}, { withContext: false });
  const act = useAction();
  const [editing, setEditing] = useState<string | null>(null);
  const [draft, setDraft] = useState<MuteTiming>(blank);
  const zones = useMemo(() => {
    try {
      return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');
    } catch {
      return [];
    }
  }, []);
  const list = q.data?.mute_timings ?? [];
  const save = (next: MuteTiming[], message: string) =>
    act.run(async () => {
      await context.request('/mute-timings', { method: 'PUT', body: { mute_timings: next.map(toApi) } });
      q.refetch();
      return message;
    });
  const startEdit = (t: MuteTiming | null) => {
    setEditing(t?.name ?? null);
    setDraft(t ? { ...t, time_zone: t.time_zone ?? '', intervals: t.intervals.map((i) => ({ ...i, times: i.times?.map((r) => ({ ...r })) })) } : blank());
  };
  return (
    <div style={{ display: 'grid', gap: 16 }}>
      <p className="small" style={{ margin: 0 }}>
        <PortalLink context={context} to="/p/alerts/policy">Notification policy</PortalLink> · <PortalLink context={context} to="/p/alerts/silences">Silences</PortalLink>
      </p>
      <ActionStatus error={act.error} done={act.done} />
      <WidgetState query={q} emptyText="No mute timings yet. A mute timing is a recurring window (nights, weekends, holidays) in which the routes that name it send nothing.">
        {({ mute_timings }) => (
          <table className="orrery-table" aria-label="Mute timings">
            <thead><tr><th scope="col">Name</th><th scope="col">Time zone</th><th scope="col">When</th><th scope="col">Used by</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {mute_timings.map((t) => {
                const used = routesUsing(policy.data?.policy, t.name);
                return (
                  <tr key={t.name}>
                    <td>{t.name}</td>
                    <td>{t.time_zone ?? 'UTC'}</td>
                    <td>{t.intervals.map((i, k) => <div key={k}>{describeInterval(i)}</div>)}</td>
                    <td>{used.length ? used.join('; ') : 'No route'}</td>
                    <td style={{ whiteSpace: 'nowrap' }}>
                      <Button onClick={() => startEdit(t)}>Edit<span className="sr-only"> {t.name}</span></Button>{' '}
                      <Button
                        disabled={act.busy}
                        onClick={() => save(mute_timings.filter((x) => x.name !== t.name), `Mute timing "${t.name}" deleted.`)}
                      >
                        Delete<span className="sr-only"> {t.name}{used.length ? ' (routes still name it: the policy must drop it first)' : ''}</span>
                      </Button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </WidgetState>
      <form
        aria-labelledby="mute-timing-form"
        style={{ display: 'grid', gap: 12 }}
        onSubmit={(e) => {
          e.preventDefault();
          const replaces = editing !== null && list.some((x) => x.name === editing);
          const next = replaces ? list.map((x) => (x.name === editing ? draft : x)) : [...list, draft];
          void save(next, `Mute timing "${draft.name}" saved.`).then(() => setEditing(draft.name));
        }}
      >
        <h2 id="mute-timing-form" style={{ margin: 0, fontSize: '1.1em' }}>{editing === null ? 'New mute timing' : `Edit mute timing "${editing}"`}</h2>
        <div style={grid}>
          <Field label="Name" hint="Routes name it in their mute timings."><input required maxLength={100} value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} /></Field>
          <Field label="Time zone" hint="An IANA zone such as Europe/Paris; empty is UTC. Daylight saving is followed.">
            <input list="mute-timing-zones" value={draft.time_zone ?? ''} onChange={(e) => setDraft({ ...draft, time_zone: e.target.value })} />
          </Field>
        </div>
        <datalist id="mute-timing-zones">{zones.map((z) => <option key={z} value={z} />)}</datalist>
        {draft.intervals.map((i, k) => (
          <IntervalEditor
            key={`${editing ?? ''}-${k}`}
            n={k + 1}
            value={i}
            onChange={(v) => setDraft({ ...draft, intervals: draft.intervals.map((x, j) => (j === k ? v : x)) })}
            onRemove={draft.intervals.length > 1 ? () => setDraft({ ...draft, intervals: draft.intervals.filter((_, j) => j !== k) }) : undefined}
          />
        ))}
        <div style={{ display: 'flex', gap: 12, flexWrap: 'wrap' }}>
          <Button onClick={() => setDraft({ ...draft, intervals: [...draft.intervals, {}] })}>Add an interval</Button>
          <Button type="submit" variant="primary" disabled={act.busy}>{editing === null ? 'Create mute timing' : 'Save mute timing'}</Button>
          {editing !== null && <Button onClick={() => startEdit(null)}>New one instead</Button>}
        </div>
      </form>
    </div>
  );
}

export default defineWidget({ component: MuteTimingsPage, declaration: muteTimingsPage });
