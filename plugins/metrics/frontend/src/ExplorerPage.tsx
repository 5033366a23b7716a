import { useMemo, useState, type FormEvent } from 'react';
import { defineWidget, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { EVENT_TYPES, fieldsOf, type EventTypeSpec } from '@orrery/plugin-sdk/events';
import { explorer } from '../../widgets.ts';
import { CHARTS, MetricView, type ChartKind } from './MetricView.tsx';
import type { MetricsQueryOptions } from './scope.ts';
import { useMetrics } from './useMetrics.ts';

/** A field of the question's grid: a select with a long option shrinks to its column instead of overflowing it. */
const FIELD = { display: 'grid', gap: 4, minWidth: 0, gridTemplateColumns: 'minmax(0, 1fr)' } as const;

/** The URL's options (all strings but `compare`): the question, so a link reopens it. */
interface Options {
  event_type: string;
  measure: string;
  field: string;
  where: string;
  rate_where: string;
  group_by: string;
  granularity: 'none' | 'minute' | 'hour' | 'day' | 'week' | 'month';
  chart: ChartKind;
  /** from the URL: `true` / `false` as text */
  compare: boolean | string;
}

const MEASURES = [
  ['count', 'Count of events'], ['users', 'Distinct users'], ['sum', 'Sum of'], ['avg', 'Average of'], ['min', 'Minimum of'], ['max', 'Maximum of'],
  ['p50', 'Median (p50) of'], ['p75', 'p75 of'], ['p90', 'p90 of'], ['p95', 'p95 of'], ['p99', 'p99 of'], ['rate', 'Share matching'],
] as const;
const NUMERIC = new Set(['count', 'int', 'amount', 'number']);
const GROUPABLE = new Set(['id', 'label', 'enum']);
/** ids unique per event: a group each, never a useful breakdown */
const NOT_GROUPED = new Set(['event_id', 'org_id', 'invocation_id', 'parent_invocation_id', 'correlation_id', 'trace_id', 'session_id']);

/** `agent_name=planner,coder; status=failure` ⇄ `{agent_name: ['planner', 'coder'], status: 'failure'}` */
export function parseFilters(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const part of text.split(';')) {
    const [k, v] = part.split('=').map((x) => x?.trim() ?? '');
    if (!k || !v) continue;
    const values = v.split(',').map((x) => x.trim()).filter(Boolean);
    out[k] = values.length === 1 ? values[0]! : values;
  }
  return out;
}

/** The question as the metrics query takes it (without range, zone and department). */
export function toQuery(o: Options): MetricsQueryOptions {
  const where = parseFilters(o.where);
  const rate = parseFilters(o.rate_where);
  const groups = o.group_by.split(',').map((g) => g.trim()).filter(Boolean);
  return {
    event_type: o.event_type,
    measure: o.measure,
    ...(o.field && !['count', 'users', 'rate'].includes(o.measure) ? { field: o.field } : {}),
    ...(Object.keys(where).length ? { where } : {}),
    ...(o.measure === 'rate' && Object.keys(rate).length ? { rate_where: rate } : {}),
    ...(groups.length ? { group_by: groups } : {}),
    ...(o.granularity && o.granularity !== 'none' ? { granularity: o.granularity } : {}),
  };
}

/**
 * The metrics explorer (`/p/metrics/explorer`): pick an event type, a measure and its field,
 * filters, up to three groups and the buckets; see it as any chart, beside the previous
 * period; save it as a widget on a dashboard or as a custom metric. Every choice lives in the
 * URL, so the address reopens the same question.
 */
function Explorer({ context, options }: WidgetProps<Options>) {
  const set = (patch: Partial<Options>) => context.setOptions({ ...options, ...patch });
  const compare = String(options.compare) === 'true';
  const spec: EventTypeSpec | undefined = EVENT_TYPES.find((t) => t.type === options.event_type);
  const fields = useMemo(() => (spec ? Object.entries(fieldsOf(spec)) : []), [spec]);
  const numeric = fields.filter(([, f]) => NUMERIC.has(f.kind)).map(([n]) => n);
  const groupable = fields.filter(([n, f]) => GROUPABLE.has(f.kind) && !NOT_GROUPED.has(n)).map(([n]) => n);
  const needsField = !['count', 'users', 'rate'].includes(options.measure);
  const query = toQuery(options);
  const ready = !!spec && (!needsField || !!query.field) && (options.measure !== 'rate' || !!query.rate_where);
  const data = useMetrics(ready ? query : null, compare || options.chart === 'number');
  const title = `${MEASURES.find(([m]) => m === options.measure)?.[1] ?? options.measure}${needsField && query.field ? ` ${query.field}` : ''} · ${options.event_type}${query.group_by ? ` by ${query.group_by.join(', ')}` : ''}`;
  const [metricName, setMetricName] = useState('');
  const [saved, setSaved] = useState<string | null>(null);
  const groups = options.group_by.split(',').map((g) => g.trim()).filter(Boolean);

  const toDashboard = () => {
    const widgetOptions = { title, chart: options.chart, compare, query };
    const to = `/dashboards?add=${encodeURIComponent('metrics/metric')}&title=${encodeURIComponent(title)}&options=${encodeURIComponent(JSON.stringify(widgetOptions))}`;
    if (context.navigate) context.navigate(to);
    else location.assign(to);
  };
  const asCustom = async (e: FormEvent) => {
    e.preventDefault();
    const name = metricName.trim() || title;
    const key = name.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 64) || 'metric';
    try {
      await context.request('/custom', { method: 'POST', body: { key, name, query } });
      setSaved(`Saved as the custom metric “${name}” (key ${key}).`);
    } catch (err) {
      setSaved(`Could not save: ${(err as Error).message}`);
    }
  };

  return (
    <div style={{ display: 'grid', gap: 16 }}>
      <form aria-label="Question" onSubmit={(e) => e.preventDefault()} style={{ display: 'grid', gap: 12, gridTemplateColumns: 'repeat(auto-fit, minmax(190px, 1fr))', alignItems: 'end' }}>
        <label style={FIELD}>
          Event type
          <select name="event_type" value={options.event_type} onChange={(e) => set({ event_type: e.target.value, field: '', where: '', rate_where: '', group_by: '' })}>
            {EVENT_TYPES.map((t) => <option key={t.type} value={t.type}>{t.type}</option>)}
          </select>
        </label>
        <label style={FIELD}>
          Measure
          <select name="measure" value={options.measure} onChange={(e) => set({ measure: e.target.value })}>
            {MEASURES.map(([m, l]) => <option key={m} value={m}>{l}</option>)}
          </select>
        </label>
        {needsField && (
          <label style={FIELD}>
            Field
            <select name="field" value={options.field} onChange={(e) => set({ field: e.target.value })} aria-invalid={!options.field}>
              <option value="">Choose a numeric field…</option>
              {numeric.map((n) => <option key={n} value={n}>{n}</option>)}
            </select>
          </label>
        )}
        {options.measure === 'rate' && (
          <label style={FIELD}>
            Share that also matches
            <input name="rate_where" value={options.rate_where} onChange={(e) => set({ rate_where: e.target.value })} placeholder="status=failure" aria-describedby="filter-help" />
          </label>
        )}
        <label style={FIELD}>
          Filters
          <input name="where" value={options.where} onChange={(e) => set({ where: e.target.value })} placeholder="agent_name=planner,coder; status=success" aria-describedby="filter-help" />
        </label>
        <label style={FIELD}>
          Group by (up to 3)
          <select name="group_by" multiple size={3} value={groups} onChange={(e) => set({ group_by: [...e.target.selectedOptions].map((o) => o.value).slice(0, 3).join(',') })}>
            {groupable.map((n) => <option key={n} value={n}>{n}</option>)}
          </select>
        </label>
        <label style={FIELD}>
          Buckets
          <select name="granularity" value={options.granularity} onChange={(e) => set({ granularity: e.target.value as Options['granularity'] })}>
            <option value="none">None (one value per group)</option>
            {['minute', 'hour', 'day', 'week', 'month'].map((g) => <option key={g} value={g}>{g}</option>)}
          </select>
        </label>
        <label style={FIELD}>
          Chart
          <select name="chart" value={options.chart} onChange={(e) => set({ chart: e.target.value as ChartKind })}>
            {CHARTS.map((c) => <option key={c.id} value={c.id}>{c.label}</option>)}
          </select>
        </label>
        <label style={{ display: 'flex', gap: 8, alignItems: 'center' }}>
          <input type="checkbox" name="compare" checked={compare} onChange={(e) => set({ compare: e.target.checked })} />
          Compare with the previous period
        </label>
      </form>
      <p id="filter-help" className="small" style={{ margin: 0 }}>Filters: <code>field=value</code>, several values with commas, several fields with semicolons. Fields of {options.event_type}: {fields.map(([n]) => n).join(', ')}.</p>

      <section aria-label="Answer" style={{ minHeight: 320, height: 380 }}>
        {!ready ? (
          <p role="status">{!spec ? 'Choose an event type.' : needsField ? 'Choose the numeric field to measure.' : 'Say which events count towards the share (e.g. status=failure).'}</p>
        ) : (
          <WidgetState query={data} emptyText="No events match this question in the selected range. Widen the range or loosen the filters.">
            {({ now, before }) => <MetricView title={title} chart={options.chart} now={now} before={compare || options.chart === 'number' ? before : null} timed={!!query.granularity} />}
          </WidgetState>
        )}
      </section>

      <section aria-label="Save" style={{ display: 'flex', gap: 16, flexWrap: 'wrap', alignItems: 'end' }}>
        <button type="button" className="orrery-button orrery-button--primary" disabled={!ready} onClick={toDashboard}>Save to a dashboard…</button>
        <form onSubmit={(e) => void asCustom(e)} style={{ display: 'flex', gap: 8, alignItems: 'end' }}>
          <label style={{ display: 'grid', gap: 4 }}>
            Custom metric name
            <input name="metric_name" value={metricName} onChange={(e) => setMetricName(e.target.value)} placeholder={title} maxLength={200} />
          </label>
          <button type="submit" className="orrery-button orrery-button--default" disabled={!ready}>Save as custom metric</button>
        </form>
        <p role="status" aria-live="polite" className="small">{saved}</p>
      </section>
    </div>
  );
}

export default defineWidget<Options>({ component: Explorer, declaration: explorer });
