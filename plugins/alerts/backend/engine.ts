/**
 * The evaluation and notification engine, run by the plugin's job for one org:
 * evaluate the rules that are due, then group what fires by the policy tree
 * and queue notifications, then send what is queued. Every step keeps its
 * state in the plugin's tables, so a restart (or another node taking over)
 * carries on where the last run stopped.
 */
import { createHash } from 'node:crypto';
import { HttpError, metricsQueryRef, trendsRef, type TenantContext, type MetricsQueryDefinition as MetricsQuery } from '@orrery/plugin-sdk';
import type { StateRule } from './stateMachine.ts';
import { groupLabels, matches, resolveRoot, route, type Matcher, type ResolvedRoute, type RouteNode } from './routing.ts';
import { enqueue, type Channel } from './delivery.ts';
import { isMuted, type MuteTiming } from './muteTimings.ts';
import { observeSignal, type SignalSource } from './signals.ts';
import { anomalyRange, anomalyObservations, changeObservations, thresholdObservations, type GroupObservation } from './conditions.ts';

export interface RuleRow {
  id: string;
  name: string;
  /** a metrics query, or a metric source `{source, metric}`; null when the rule watches a signal (`source`) */
  query: MetricsQuery | { source: string; metric: string; department_id?: string } | null;
  source?: SignalSource | null;
  window_seconds: number;
  condition: StateRule['condition'];
  interval_seconds: number;
  for_seconds: number;
  keep_firing_for_seconds: number;
  no_data: StateRule['no_data'];
  on_error: StateRule['on_error'];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  flapping: StateRule['flapping'];
  contact_point_id: string | null;
  department_scope: string[] | null;
  paused: boolean;
  next_eval_at: Date;
}

export const fingerprintOf = (labels: Record<string, string>) =>
  createHash('sha256')
    .update(JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]])))
    .digest('hex')
    .slice(0, 16);

/** `{{ $labels.name }}`, `{{ $value }}` in annotations and labels. */
export function renderTemplate(template: string, labels: Record<string, string>, value: number | null): string {
  return template.replace(/\{\{\s*\$(labels\.([A-Za-z0-9_]+)|value)\s*\}\}/g, (_, what: string, label?: string) =>
    what === 'value' ? (value === null ? 'no data' : String(Math.round(value * 1e6) / 1e6)) : (labels[label!] ?? ''),
  );
}

/** The trends plugin's service, or a 424 naming the condition when the plugin is off or absent. */
export async function trendsService(ctx: TenantContext) {
  try {
    return await ctx.services.get(trendsRef);
  } catch (err) {
    if (err instanceof HttpError && err.statusCode === 424)
      throw new HttpError(424, 'trends_unavailable', 'condition.kind: anomaly conditions need the trends plugin, which is not enabled for this organization', { field: 'condition.kind', provider: 'trends' });
    throw err;
  }
}

/** What the rule sees now, per group, by its condition's kind (conditions.ts). */
export async function observe(ctx: TenantContext, rule: Pick<RuleRow, 'query' | 'source' | 'window_seconds' | 'condition' | 'department_scope'>, now: Date): Promise<GroupObservation[]> {
  if (rule.source || !rule.query) return observeSignal(ctx, rule.source ?? { kind: 'data_quality' }, now, rule.window_seconds);
  const query = rule.query;
  const metrics = await ctx.services.get(metricsQueryRef);
  const opts = { departments: rule.department_scope };
  const totals = async (from: Date, to: Date) =>
    (await metrics.run({ ...query, granularity: undefined, from: from.toISOString(), to: to.toISOString() }, opts)).series;
  const w = rule.window_seconds * 1000;
  const t = now.getTime();
  const kind = rule.condition.kind ?? 'threshold';
  if (kind === 'threshold') return thresholdObservations(await totals(new Date(t - w), now));
  if (kind === 'change' || kind === 'change_percent') {
    const [current, previous] = await Promise.all([totals(new Date(t - w), now), totals(new Date(t - 2 * w), new Date(t - w))]);
    return changeObservations('measure' in query ? query.measure : 'avg', current, previous, kind === 'change_percent');
  }
  const trends = await trendsService(ctx);
  const g = rule.condition.granularity ?? 'hour';
  const range = anomalyRange(now, g, rule.window_seconds);
  const { series } = await metrics.run({ ...query, granularity: g, tz: undefined, from: range.from.toISOString(), to: range.to.toISOString() }, opts);
  return anomalyObservations(series, (points) => trends.anomalies(points, rule.condition.sensitivity !== undefined ? { sensitivity: rule.condition.sensitivity } : {}));
}

async function history(ctx: TenantContext, row: Record<string, unknown>) {
  await ctx.db.table('alert_history').insert({ ...row, detail: row.detail === undefined ? null : JSON.stringify(row.detail) });
}

/**
 * The next evaluation of a rule after `now`: each rule has its own phase within its
 * interval (from its id, in whole job ticks), so a thousand rules made at once spread over
 * the interval after their first round instead of all querying in the same second.
 */
export function nextSlot(id: string, intervalSeconds: number, now: Date): Date {
  const period = intervalSeconds * 1000;
  let next = phaseSlotAfter(id, intervalSeconds, now).getTime();
  // never sooner than half an interval (only a rule's first slot is shorter than the interval)
  while (next < now.getTime() + period / 2) next += period;
  return new Date(next);
}

/**
 * Width of the phases rules are spread over. Rules on one phase are evaluated in one round,
 * where rules of one shape share a statement: wider phases mean fewer, larger rounds and fewer
 * statements for the same rules, so less of the cores taken from interactive queries.
 */
export const PHASE_SECONDS = 10;

/** The first instant after `now` on the rule's own phase: `phase` past a multiple of its interval. */
export function phaseSlotAfter(id: string, intervalSeconds: number, now: Date): Date {
  const tick = PHASE_SECONDS;
  const slots = Math.max(1, Math.floor(intervalSeconds / tick));
  const phase = (parseInt(id.replace(/-/g, '').slice(0, 8), 16) % slots) * tick * 1000;
  const period = intervalSeconds * 1000;
  const t = now.getTime();
  let next = Math.floor(t / period) * period + phase;
  while (next <= t) next += period;
  return new Date(next);
}

interface AlertView {
  rule_id: string;
  fingerprint: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  value: number | null;
  starts_at: Date | null;
  ends_at: Date | null;
  acked: boolean;
}

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

export async function activeSilences(ctx: TenantContext, now: Date): Promise<Matcher[][]> {
  const rows = await ctx.db.table('alert_silences').where('starts_at', '<=', now).andWhere('ends_at', '>', now).select('matchers');
  return rows.map((r: any) => r.matchers as Matcher[]);
}

/** The routes of one alert: a rule naming a contact point goes straight there with the root's timings. */
function routesOf(policy: RouteNode, rule: { contact_point_id: string | null } | undefined, labels: Record<string, string>): ResolvedRoute[] {
  if (rule?.contact_point_id) return [{ ...resolveRoot(policy), path: 'rule', contact_point_id: rule.contact_point_id }];
  return route(policy, labels);
}

/**
 * Groups the routed alerts and queues a notification for each group that is due
 * (group_wait for a new group, group_interval after a change, repeat_interval
 * while nothing changed and something fires unacknowledged). Silenced alerts are left out.
 */
export async function dispatch(ctx: TenantContext, now = new Date()) {
  const settings = await ctx.settings.get<{ policy?: RouteNode; mute_timings?: MuteTiming[] }>();
  const policy = (settings.policy ?? {}) as RouteNode;
  const timings = new Map((settings.mute_timings ?? []).map((t) => [t.name, t]));
  const muted = (r: ResolvedRoute) => (r.mute_timings ?? []).some((n) => { const t = timings.get(n); return !!t && isMuted(t, now); });
  const silences = await activeSilences(ctx, now);
  const stored = new Map<string, any>((await ctx.db.table('alert_groups').select('*')).map((g: any) => [g.key, g]));
  // Only the instances a group can act on: those firing, and those a group still owes a resolve
  // (sent as firing). A resolved instance that no group owes anything is left out of every
  // group's alerts below, so reading it changes nothing: quiet rules cost dispatch no rows.
  const owed = [...new Set([...stored.values()].flatMap((g) => Object.entries(g.sent as Record<string, string>).filter(([, st]) => st === 'firing').map(([fp]) => fp)))];
  const instances = await ctx.db
    .table('alert_instances')
    .where({ routed_status: 'firing' })
    .modify((q: any) => {
      if (owed.length) q.orWhereIn('fingerprint', owed);
    })
    .select('*');
  // only the rules routing needs: those of these instances, and deleted ones still to forget (not every rule every round)
  const ruleIds = [...new Set(instances.map((i: any) => i.rule_id as string))];
  const rules = new Map<string, any>(
    (await ctx.db.table('alert_rules').select('id', 'contact_point_id', 'deleted_at').where((q: any) => q.whereIn('id', ruleIds).orWhereNotNull('deleted_at'))).map((r: any) => [r.id, r]),
  );
  await forgetDeletedRules(ctx, rules, instances, stored);
  const groups = new Map<string, { route: ResolvedRoute; labels: Record<string, string>; alerts: AlertView[] }>();
  for (const i of instances) {
    const labels = i.labels as Record<string, string>;
    if (silences.some((m) => matches(m, labels))) continue;
    const view: AlertView = {
      rule_id: i.rule_id,
      fingerprint: i.fingerprint,
      status: i.routed_status,
      labels,
      annotations: i.annotations,
      value: i.value,
      starts_at: i.starts_at,
      ends_at: i.ends_at,
      acked: !!i.acked_at,
    };
    for (const r of routesOf(policy, rules.get(i.rule_id), labels)) {
      if (!r.contact_point_id) continue;
      const gl = groupLabels(r, labels);
      const key = `${r.path}|${r.contact_point_id}|${JSON.stringify(gl)}`;
      if (!groups.has(key)) groups.set(key, { route: r, labels: gl, alerts: [] });
      groups.get(key)!.alerts.push(view);
    }
  }
  const contactPoints = new Map<string, any>((await ctx.db.table('alert_contact_points').select('id', 'name', 'type')).map((c: any) => [c.id, c]));
  let queued = 0;
  for (const key of new Set([...groups.keys(), ...stored.keys()])) {
    const g = groups.get(key);
    const st = stored.get(key);
    const sent: Record<string, string> = st?.sent ?? {};
    const alerts = (g?.alerts ?? []).filter((a) => a.status === 'firing' || sent[a.fingerprint] === 'firing');
    const firing = alerts.filter((a) => a.status === 'firing');
    if (!st && !firing.length) continue;
    if (st && !alerts.length) {
      await ctx.db.table('alert_groups').where({ key }).delete();
      continue;
    }
    const r: ResolvedRoute = g?.route ?? st.timing;
    const cp = contactPoints.get(r.contact_point_id!);
    if (!cp) continue;
    const firstSeen = st ? new Date(st.first_seen_at).getTime() : now.getTime();
    if (!st) {
      await ctx.db.table('alert_groups').insert({ key, route_path: r.path, contact_point_id: r.contact_point_id, group_labels: JSON.stringify(g!.labels), timing: JSON.stringify(r), sent: '{}', first_seen_at: now, escalated: '[]' });
    }
    const statusMap = Object.fromEntries(alerts.map((a) => [a.fingerprint, a.status]));
    const changed = JSON.stringify(Object.entries(statusMap).sort()) !== JSON.stringify(Object.entries(sent).sort());
    const t = now.getTime();
    const lastFlush = st?.last_flush_at ? new Date(st.last_flush_at).getTime() : null;
    const lastNotified = st?.last_notified_at ? new Date(st.last_notified_at).getTime() : null;
    const due =
      lastFlush === null ? t - firstSeen >= r.group_wait_seconds * 1000
      : changed ? t - lastFlush >= r.group_interval_seconds * 1000
      : firing.some((a) => !a.acked) && lastNotified !== null && t - lastNotified >= r.repeat_interval_seconds * 1000;
    const groupLbls = g?.labels ?? st.group_labels;
    // a muted route sends nothing now; the group stays due and goes out when the window ends
    if (due && !muted(r)) {
      const body = notificationBody(cp.name, key, groupLbls, alerts);
      await enqueue(ctx, { target: `cp:${cp.id}`, channel: cp.type as Channel, event: `alert.${body.status}`, body, rule_id: alerts[0]!.rule_id });
      queued++;
      for (const ruleId of new Set(alerts.map((a) => a.rule_id))) {
        await history(ctx, { rule_id: ruleId, kind: 'notification', to_state: body.status, at: now, detail: { receiver: cp.name, group_key: key, alerts: alerts.filter((a) => a.rule_id === ruleId).map((a) => ({ fingerprint: a.fingerprint, status: a.status })) } });
      }
      if (!firing.length) await ctx.db.table('alert_groups').where({ key }).delete();
      else
        await ctx.db
          .table('alert_groups')
          .where({ key })
          .update({ sent: JSON.stringify(Object.fromEntries(firing.map((a) => [a.fingerprint, 'firing']))), last_flush_at: now, last_notified_at: now, timing: JSON.stringify(r) });
    }
    // escalation: still firing and nobody acknowledged within the step's time → the next contact point too
    const escalated: number[] = st?.escalated ?? [];
    for (const [i, e] of r.escalation.entries()) {
      if (escalated.includes(i) || !firing.length || firing.every((a) => a.acked) || t - firstSeen < e.after_seconds * 1000) continue;
      const next = contactPoints.get(e.contact_point_id);
      if (!next) continue;
      const body = notificationBody(next.name, key, groupLbls, firing);
      await enqueue(ctx, { target: `cp:${next.id}`, channel: next.type as Channel, event: 'alert.escalated', body, rule_id: firing[0]!.rule_id });
      escalated.push(i);
      queued++;
      await ctx.db.table('alert_groups').where({ key }).update({ escalated: JSON.stringify(escalated) });
      await history(ctx, { rule_id: firing[0]!.rule_id, kind: 'notification', to_state: 'escalated', at: now, detail: { receiver: next.name, group_key: key, step: i } });
    }
  }
  return { queued };
}

/**
 * A deleted rule stays (marked) until no group still owes a resolve for its instances;
 * after that, its instances and the rule itself go.
 */
async function forgetDeletedRules(ctx: TenantContext, rules: Map<string, any>, instances: any[], stored: Map<string, any>) {
  const deleted = [...rules.values()].filter((r) => r.deleted_at).map((r) => r.id as string);
  if (!deleted.length) return;
  const owed = new Set<string>();
  for (const g of stored.values()) for (const [fp, st] of Object.entries(g.sent as Record<string, string>)) if (st === 'firing') owed.add(fp);
  for (const id of deleted) {
    const mine = instances.filter((i) => i.rule_id === id);
    if (mine.some((i) => owed.has(i.fingerprint))) continue;
    await ctx.db.table('alert_instances').where({ rule_id: id }).delete();
    await ctx.db.table('alert_rules').where({ id }).delete();
  }
}

/** The body API.md specifies for an alert notification. */
export function notificationBody(receiver: string, groupKey: string, groupLabels: Record<string, string>, alerts: AlertView[]) {
  const common: Record<string, string> = {};
  if (alerts.length) {
    for (const [k, v] of Object.entries(alerts[0]!.labels)) if (alerts.every((a) => a.labels[k] === v)) common[k] = v;
  }
  return {
    status: alerts.some((a) => a.status === 'firing') ? ('firing' as const) : ('resolved' as const),
    receiver,
    groupKey,
    groupLabels,
    commonLabels: common,
    alerts: alerts.map((a) => ({
      status: a.status,
      labels: a.labels,
      annotations: a.annotations,
      values: { value: a.value },
      startsAt: iso(a.starts_at),
      endsAt: a.status === 'resolved' ? iso(a.ends_at) : null,
      fingerprint: a.fingerprint,
    })),
  };
}
