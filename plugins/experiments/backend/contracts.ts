/**
 * What experiments offers other plugins: per-variant results as an export
 * table (`results`), one row per experiment × metric × variant, computed by
 * the same code as `GET /experiments/{key}/results`. An experiment is in a
 * range when its analysis window (start_at up to end_at or its stop) overlaps it.
 */
import { badRequest, defineExportSource, exportSourceRef, provide, type ExportColumn, type TenantContext } from '@orrery/plugin-sdk';
import { computeResults } from './routes.ts';
import { listExperiments, type StoredExperiment } from './store.ts';

const COLUMNS: ExportColumn[] = [
  { name: 'experiment', type: 'string', description: 'the experiment key' },
  { name: 'status', type: 'string' },
  { name: 'start_at', type: 'datetime' },
  { name: 'metric', type: 'string' },
  { name: 'guardrail', type: 'boolean' },
  { name: 'variant', type: 'string' },
  { name: 'control', type: 'boolean' },
  { name: 'assigned', type: 'number', description: 'units exposed to the variant' },
  { name: 'units', type: 'number', description: 'units with an outcome for the metric' },
  { name: 'value', type: 'number', description: 'the metric over those units (a proportion or a mean)' },
  { name: 'ci_low', type: 'number' },
  { name: 'ci_high', type: 'number' },
  { name: 'relative_lift', type: 'number', description: 'against the control; empty for the control' },
  { name: 'p_value', type: 'number', description: 'of the difference with the control (adjusted for several variants)' },
  { name: 'significant', type: 'boolean' },
  { name: 'chance_to_beat_control', type: 'number' },
  { name: 'srm_p_value', type: 'number', description: 'sample ratio mismatch check of the experiment' },
  { name: 'decision', type: 'string', description: 'the recommendation for the metric' },
];

function inRange(e: StoredExperiment, fromMs: number, toMs: number) {
  const start = Date.parse(e.definition.start_at);
  const ends = [e.definition.end_at ? Date.parse(e.definition.end_at) : Infinity, e.stopped_at ? Date.parse(e.stopped_at) : Infinity];
  return start < toMs && Math.min(...ends) > fromMs;
}

async function rowsOf(ctx: TenantContext, e: StoredExperiment): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  for (const m of e.definition.metrics) {
    const r = await computeResults(ctx, e, m.name);
    for (const v of r.variants) {
      const c = r.comparisons.find((x) => x.variant === v.key);
      out.push({
        experiment: e.definition.key,
        status: e.status,
        start_at: new Date(e.definition.start_at).toISOString(),
        metric: m.name,
        guardrail: m.guardrail ?? false,
        variant: v.key,
        control: v.key === e.definition.control,
        assigned: v.assigned,
        units: v.units,
        value: v.value,
        ci_low: v.ci_low,
        ci_high: v.ci_high,
        relative_lift: c?.relative_lift ?? null,
        p_value: c ? (c.p_value_adjusted ?? c.p_value) : null,
        significant: c?.significant ?? false,
        chance_to_beat_control: c?.chance_to_beat_control ?? null,
        srm_p_value: r.srm.p_value,
        decision: r.recommendation.decision,
      });
    }
  }
  return out;
}

/** cursor: how many experiments (oldest first) were done, and how many rows of the next one */
function decode(cursor: string): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(cursor);
  if (!m) throw badRequest('cursor is not one this table answered', { field: 'cursor' });
  return [Number(m[1]), Number(m[2])];
}

export const experimentExports = provide(exportSourceRef, (ctx) =>
  defineExportSource([
    {
      name: 'results',
      title: 'Experiment results per variant',
      columns: COLUMNS,
      async page(q) {
        const all = (await listExperiments(ctx)).filter((e) => inRange(e, q.range.from.getTime(), q.range.to.getTime()));
        // oldest first and by key: a stable order across pages
        all.sort((a, b) => Date.parse(a.definition.start_at) - Date.parse(b.definition.start_at) || (a.definition.key < b.definition.key ? -1 : 1));
        let [i, skip] = q.cursor ? decode(q.cursor) : [0, 0];
        const rows: Array<Record<string, unknown>> = [];
        while (i < all.length && rows.length < q.limit) {
          const mine = (await rowsOf(ctx, all[i]!)).slice(skip);
          const take = mine.slice(0, q.limit - rows.length);
          rows.push(...take);
          if (take.length < mine.length) {
            skip += take.length;
            break;
          }
          i++;
          skip = 0;
        }
        return { rows, next: i < all.length ? `${i}:${skip}` : null };
      },
    },
  ]),
);
