/**
 * Report kinds beyond a dashboard, built only from other plugins' SDK services:
 *
 * - `support` (the PRD's standard support report): users needing support by department, the
 *   change on the period before, the trend over the period, and who is flagged, from the
 *   adoption plugin's `flagged_users` / `adoption_score` metric sources and its `flagged` cohort;
 *   flagged users by department and signal (the flag's kind) and the interventions with their
 *   effectiveness, and the departments × weeks heat map of the share flagged, from the same
 *   plugin's `flags_by_signal`, `interventions` and `support_heatmap` export tables.
 * - `executive`: every metric every source offers for the org, over the period and the period
 *   before, with the change and whether it is good news (the metric's `better`), and the
 *   unusual days of the period's activity as the trends service finds them.
 *
 * Both answer a `ReportContent`: sections of plain tables, which become the message body,
 * the summary CSV and the preview the reports page shows.
 */
import { cohortFilterRef, exportRows, exportSourceRef, metricSourceRef, parseTimeRange, trendsRef, type TenantContext, type TimeRange } from '@orrery/plugin-sdk';

/** A time range of the SDK's shape from two instants. */
export const rangeOf = (from: Date, to: Date, tz = 'UTC'): TimeRange => parseTimeRange({ from: from.toISOString(), to: to.toISOString(), tz });

export type ReportKind = 'dashboard' | 'support' | 'executive';
export const REPORT_KINDS: ReportKind[] = ['dashboard', 'support', 'executive'];

export type SectionCell = string | number | null;
export interface ReportSection {
  title: string;
  columns: string[];
  rows: SectionCell[][];
}
export interface ReportContent {
  kind: ReportKind;
  from: string;
  to: string;
  /** one-line findings, first in the message body */
  highlights: string[];
  sections: ReportSection[];
  /** nothing to report (for `skip_when_empty`) */
  empty: boolean;
}

export const reportContentSchema = {
  type: 'object',
  properties: {
    kind: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    highlights: { type: 'array', items: { type: 'string' } },
    sections: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          title: { type: 'string' },
          columns: { type: 'array', items: { type: 'string' } },
          rows: { type: 'array', items: { type: 'array', items: { type: ['string', 'number', 'null'] } } },
        },
      },
    },
    empty: { type: 'boolean' },
  },
} as const;

/** The change from `before` to `now` as a signed percentage, or null when it has no meaning. */
export function change(now: number | null, before: number | null): number | null {
  if (now === null || before === null || before === 0) return null;
  return Math.round(((now - before) / Math.abs(before)) * 1000) / 10;
}

const round = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);

/** The period before: as long as the period, ending where it starts. */
export function previous(range: TimeRange): TimeRange {
  const span = range.to.getTime() - range.from.getTime();
  return rangeOf(new Date(range.from.getTime() - span), range.from, range.tz);
}

/** The departments whose people the report's owner may see: all for an Admin, else those they manage. */
async function ownerScope(ctx: TenantContext, owner: string): Promise<Set<string> | null> {
  const [m] = await ctx.directory.members({ ids: [owner] });
  if (m?.role === 'Admin') return null;
  const managed = (await ctx.directory.memberships()).filter((x) => x.userId === owner && x.manager).map((x) => x.departmentId);
  return new Set(managed);
}

/** the kinds of flag adoption's `flags_by_signal` table carries, in its order */
const SIGNALS = ['struggling', 'slipping', 'not_started', 'light_use'];
const INTERVENTION_COLUMNS = ['intervention', 'assigned', 'shown', 'followed', 'dismissed', 'resolved within days', 'days', 'effectiveness', 'lift'];

/**
 * The adoption plugin's support tables, read through its export source: per department in the
 * owner's scope the users flagged in the period by signal (the flag's kind), and per
 * intervention its figures for the flags of the period (org-wide, as adoption's own
 * effectiveness route shows them to Managers; small groups arrive suppressed as empty cells).
 * Null when the source is absent or refuses (the owner is no longer an Admin or Manager).
 */
async function supportTables(ctx: TenantContext, plugin: string, range: TimeRange, scope: Set<string> | null) {
  const provider = (await ctx.services.all(exportSourceRef)).find((p) => p.plugin === plugin);
  const has = (t: string) => !!provider?.service.tables.some((x) => x.name === t);
  const read = async (t: string) => {
    if (!provider || !has(t)) return null;
    try {
      const rows: Array<Record<string, unknown>> = [];
      for await (const r of exportRows(provider.service, t, { range, limit: 1000 })) rows.push(r);
      return rows;
    } catch {
      return null;
    }
  };
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

  const flagRows = await read('flags_by_signal');
  let signals: SectionCell[][] | null = null;
  if (flagRows) {
    const byDept = new Map<string, { name: string; counts: Map<string, number | null> }>();
    for (const r of flagRows) {
      const id = (r.department_id as string | null) ?? '';
      if (scope && !scope.has(id)) continue;
      const e = byDept.get(id) ?? { name: (r.department as string | null) ?? '(no department)', counts: new Map<string, number | null>() };
      e.counts.set(String(r.signal), r.suppressed ? null : num(r.flagged_users));
      byDept.set(id, e);
    }
    signals = [...byDept.values()].map((e) => {
      const counts = SIGNALS.map((k) => (e.counts.has(k) ? e.counts.get(k)! : null));
      return [e.name, ...counts, counts.every((c) => c === null) ? null : counts.reduce<number>((a, c) => a + (c ?? 0), 0)];
    });
    signals.sort((a, b) => Number(b.at(-1) ?? -1) - Number(a.at(-1) ?? -1) || String(a[0]).localeCompare(String(b[0])));
  }

  // org-wide figures: for an owner who is an Admin or manages a department (adoption.manage)
  const ivRows = scope && !scope.size ? null : await read('interventions');
  let interventions: SectionCell[][] | null = null;
  let best: string | null = null;
  if (ivRows) {
    interventions = ivRows.map((r) => [String(r.title), num(r.assigned), num(r.shown), num(r.followed), num(r.dismissed), num(r.resolved), num(r.within_days), num(r.effectiveness), num(r.lift)]);
    // the most effective: the highest share resolved among those who followed it, then the most followed
    const ranked = ivRows
      .filter((r) => !r.suppressed && r.effectiveness !== null && r.effectiveness !== undefined)
      .sort((a, b) => Number(b.effectiveness) - Number(a.effectiveness) || Number(b.followed) - Number(a.followed) || String(a.title).localeCompare(String(b.title)));
    const top = ranked[0];
    if (top) {
      const pct = Math.round(Number(top.effectiveness) * 1000) / 10;
      const lift = top.lift === null || top.lift === undefined ? '' : `, ${Number(top.lift) >= 0 ? '+' : ''}${Math.round(Number(top.lift) * 1000) / 10} points over not following it`;
      best = `Most effective intervention: ${String(top.title)} (followed ${Number(top.followed)} ${Number(top.followed) === 1 ? 'time' : 'times'}, ${pct}% of those flags resolved within ${Number(top.within_days)} days${lift}).`;
    }
  }
  // the heat map: departments × weeks, each cell the share of the department's scored users
  // flagged in that week (%), empty where adoption suppresses a small group
  const heatRows = await read('support_heatmap');
  let heat: { columns: string[]; rows: SectionCell[][] } | null = null;
  if (heatRows) {
    const weeks = [...new Set(heatRows.map((r) => String(r.week)))].sort();
    const byDept = new Map<string, { name: string; cells: Map<string, number | null> }>();
    for (const r of heatRows) {
      const id = (r.department_id as string | null) ?? '';
      if (scope && !scope.has(id)) continue;
      const e = byDept.get(id) ?? { name: (r.department as string | null) ?? '(no department)', cells: new Map<string, number | null>() };
      const share = r.suppressed ? null : num(r.flagged_share);
      e.cells.set(String(r.week), share === null ? null : Math.round(share * 1000) / 10);
      byDept.set(id, e);
    }
    const rows = [...byDept.values()].sort((a, b) => a.name.localeCompare(b.name)).map((e) => [e.name, ...weeks.map((w) => (e.cells.has(w) ? e.cells.get(w)! : null))]);
    heat = { columns: ['department', ...weeks.map((w) => `week of ${w} (% flagged)`)], rows };
  }
  return { signals, interventions, best, heat };
}

export async function supportContent(ctx: TenantContext, owner: string, range: TimeRange): Promise<ReportContent> {
  const base = { kind: 'support' as const, from: range.from.toISOString(), to: range.to.toISOString() };
  const sources = await ctx.services.all(metricSourceRef);
  const adoption = sources.find((s) => s.service.metrics.some((m) => m.name === 'flagged_users'));
  if (!adoption) {
    return { ...base, highlights: ['The adoption plugin is not on for this organisation: no support flags to report.'], sections: [], empty: true };
  }
  const src = adoption.service;
  const prev = previous(range);
  const scope = await ownerScope(ctx, owner);
  const departments = (await ctx.directory.departments()).filter((d) => !scope || scope.has(d.id));
  const read = (name: string, r: TimeRange, departmentId?: string) => src.read(name, { range: r, ...(departmentId ? { departmentId } : {}) });

  const rows: SectionCell[][] = [];
  let total = 0;
  for (const d of departments) {
    const [now, before, score] = await Promise.all([read('flagged_users', range, d.id), read('flagged_users', prev, d.id), read('adoption_score', range, d.id)]);
    if (now !== null) total += now;
    rows.push([d.name, now, before, change(now, before), round(score)]);
  }
  rows.sort((a, b) => Number(b[1] ?? -1) - Number(a[1] ?? -1) || String(a[0]).localeCompare(String(b[0])));

  const orgNow = scope ? total : await read('flagged_users', range);
  const orgBefore = scope ? null : await read('flagged_users', prev);

  // the trend: flagged users at the end of each of up to 8 equal steps of the period
  const steps = Math.min(8, Math.max(1, Math.round((range.to.getTime() - range.from.getTime()) / 86_400_000)));
  const trend: SectionCell[][] = [];
  for (let i = 1; i <= steps; i++) {
    const end = new Date(range.from.getTime() + ((range.to.getTime() - range.from.getTime()) * i) / steps);
    const r = rangeOf(new Date(end.getTime() - 86_400_000), end, range.tz);
    let v: number | null;
    if (!scope) v = await read('flagged_users', r);
    else {
      const per = await Promise.all([...scope].map((id) => read('flagged_users', r, id)));
      v = per.every((x) => x === null) ? null : per.reduce<number>((a, x) => a + (x ?? 0), 0);
    }
    trend.push([end.toISOString(), v]);
  }

  // who: the adoption plugin's `flagged` cohort, named through the directory, narrowed to the owner's departments
  const people: SectionCell[][] = [];
  const cohort = (await ctx.services.all(cohortFilterRef)).find((c) => c.plugin === adoption.plugin && c.service.cohorts.some((x) => x.name === 'flagged'));
  if (cohort) {
    const ids = await cohort.service.resolve('flagged', { range });
    const members = await ctx.directory.members({ ids });
    const memberships = await ctx.directory.memberships();
    const deptName = new Map(departments.map((d) => [d.id, d.name]));
    for (const m of members) {
      const depts = memberships.filter((x) => x.userId === m.id && deptName.has(x.departmentId)).map((x) => deptName.get(x.departmentId)!);
      if (scope && !depts.length) continue;
      people.push([m.displayName || m.email, m.email, depts.sort().join('; ')]);
    }
    people.sort((a, b) => String(a[2]).localeCompare(String(b[2])) || String(a[0]).localeCompare(String(b[0])));
  }

  const { signals, interventions, best, heat } = await supportTables(ctx, adoption.plugin, range, scope);

  const highlights = [
    orgNow === null
      ? 'No adoption scores yet for this period.'
      : `${orgNow} ${orgNow === 1 ? 'person needs' : 'people need'} support at the end of the period${orgBefore !== null ? ` (${orgBefore} at the end of the period before)` : ''}.`,
  ];
  const worst = rows.find((r) => Number(r[1] ?? 0) > 0);
  if (worst) highlights.push(`Most flagged department: ${worst[0]} (${worst[1]}).`);
  if (best) highlights.push(best);
  return {
    ...base,
    highlights,
    sections: [
      { title: 'Users needing support by department', columns: ['department', 'flagged', 'flagged before', 'change %', 'adoption score'], rows },
      { title: 'Flagged users over the period', columns: ['day ending', 'flagged'], rows: trend },
      { title: 'Who is flagged', columns: ['name', 'email', 'departments'], rows: people },
      ...(signals ? [{ title: 'Flagged users by department and signal', columns: ['department', ...SIGNALS.map((k) => k.replace('_', ' ')), 'flagged'], rows: signals }] : []),
      ...(interventions ? [{ title: 'Interventions and their effectiveness', columns: INTERVENTION_COLUMNS, rows: interventions }] : []),
      ...(heat ? [{ title: 'Support need by department and week (heat map, % of users flagged)', columns: heat.columns, rows: heat.rows }] : []),
    ],
    empty: !orgNow,
  };
}

export async function executiveContent(ctx: TenantContext, range: TimeRange): Promise<ReportContent> {
  const base = { kind: 'executive' as const, from: range.from.toISOString(), to: range.to.toISOString() };
  const prev = previous(range);
  const kpis: SectionCell[][] = [];
  const good: string[] = [];
  const bad: string[] = [];
  for (const { plugin, service } of await ctx.services.all(metricSourceRef)) {
    for (const m of service.metrics) {
      const [now, before] = await Promise.all([
        service.read(m.name, { range }).catch(() => null),
        service.read(m.name, { range: prev }).catch(() => null),
      ]);
      const c = change(now, before);
      const verdict = c === null || c === 0 || m.better === 'neither' ? '' : (c > 0) === (m.better === 'higher') ? 'better' : 'worse';
      if (verdict === 'better') good.push(`${m.title} ${c! > 0 ? '+' : ''}${c}%`);
      if (verdict === 'worse') bad.push(`${m.title} ${c! > 0 ? '+' : ''}${c}%`);
      kpis.push([m.title, plugin, m.unit, round(now), round(before), c, verdict]);
    }
  }

  // daily activity of the period, and the days the trends service finds unusual
  const days = Math.max(1, Math.round((range.to.getTime() - range.from.getTime()) / 86_400_000));
  const ch = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');
  const counts = await ctx.analytics.query<{ day: string; n: string }>(
    `SELECT toString(intDiv(toUnixTimestamp64Milli(timestamp) - {start:Int64}, 86400000)) AS day, count() AS n
     FROM ${ctx.analytics.table('events')}
     WHERE org_id = {org_id:String} AND timestamp >= {from:DateTime64(3)} AND timestamp < {to:DateTime64(3)}
     GROUP BY day`,
    { start: range.from.getTime(), from: ch(range.from), to: ch(range.to) },
  );
  const byDay = new Map(counts.map((r) => [Number(r.day), Number(r.n)]));
  const points = Array.from({ length: days }, (_, i) => ({ bucket: new Date(range.from.getTime() + i * 86_400_000).toISOString(), value: byDay.get(i) ?? 0 }));
  const events = points.reduce((a, p) => a + p.value, 0);
  const insights: SectionCell[][] = [];
  const trends = await ctx.services.get(trendsRef).catch(() => null);
  if (trends && points.length >= 7) {
    for (const a of trends.anomalies(points)) {
      if (a.anomaly) insights.push([a.bucket, a.value, round(a.expected), a.value !== null && a.expected !== null && a.value > a.expected ? 'more activity than usual' : 'less activity than usual']);
    }
  }

  const highlights = [`${events} events in the period.`];
  if (good.length) highlights.push(`Better than the period before: ${good.join(', ')}.`);
  if (bad.length) highlights.push(`Worse than the period before: ${bad.join(', ')}.`);
  if (insights.length) highlights.push(`${insights.length} unusual ${insights.length === 1 ? 'day' : 'days'} of activity.`);
  return {
    ...base,
    highlights,
    sections: [
      { title: 'Key figures', columns: ['metric', 'from', 'unit', 'period', 'period before', 'change %', 'verdict'], rows: kpis },
      { title: 'Events per day', columns: ['day', 'events'], rows: points.map((p) => [p.bucket, p.value]) },
      ...(trends ? [{ title: 'Unusual days (trends)', columns: ['day', 'events', 'expected', 'what'], rows: insights }] : []),
    ],
    empty: events === 0,
  };
}

/** The sections as plain text for a message body. */
export function contentText(c: ReportContent): string {
  const out = [...c.highlights, ''];
  for (const s of c.sections) {
    out.push(s.title, '-'.repeat(s.title.length));
    out.push(`  ${s.columns.join(' | ')}`);
    if (!s.rows.length) out.push('  (none)');
    for (const r of s.rows) out.push(`  ${r.map((v) => (v === null ? '—' : String(v))).join(' | ')}`);
    out.push('');
  }
  return out.join('\n');
}
