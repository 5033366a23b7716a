/**
 * Signals: conditions other parts of the platform compute and publish on the bus, kept
 * here so that rules can watch them and their alerts go through the policy tree like any
 * other (a rule's `source` instead of a `query`):
 *
 * - `data_quality` — ingestion's four conditions (`ingestion.quality`: validation failures,
 *   silence, duplicates, latency). One instance per condition (label `condition`); its value
 *   is 1 while ingestion reports the condition firing, 0 once it reports it resolved or
 *   before it reported anything.
 * - `support_flags` — users adoption newly flagged as needing support (`adoption.flags`,
 *   org scope, kind `raised`): the number of distinct users flagged within the rule's window.
 *
 * Messages are appended to `alert_signals` by the plugin's bus handler; a rule reads them.
 */
import type { BusMessage, TenantContext } from '@orrery/plugin-sdk';
import type { GroupObservation } from './conditions.ts';

export const DATA_QUALITY_CONDITIONS = ['validation_failures', 'silence', 'duplicates', 'latency'] as const;
export type SignalSource = { kind: 'data_quality'; condition?: (typeof DATA_QUALITY_CONDITIONS)[number] } | { kind: 'support_flags' };

export const signalSourceSchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['kind'],
  properties: {
    kind: { type: 'string', enum: ['data_quality', 'support_flags'] },
    condition: { type: 'string', enum: [...DATA_QUALITY_CONDITIONS], description: 'data_quality: one condition (default: all four, one instance each)' },
  },
  description: 'instead of `query`: a condition the platform publishes (data_quality: 1 while firing; support_flags: users newly flagged within the window)',
};

export const SIGNAL_TOPICS = ['ingestion.quality', 'adoption.flags'];

/** Appends what a bus message says to the org's signals (ignores messages of other shapes). */
export async function recordSignal(ctx: TenantContext, msg: BusMessage<any>): Promise<void> {
  const p = msg.payload ?? {};
  const at = new Date(typeof p.at === 'string' && !Number.isNaN(Date.parse(p.at)) ? p.at : (msg.at ?? Date.now()));
  if (msg.topic === 'ingestion.quality' && DATA_QUALITY_CONDITIONS.includes(p.condition) && (p.state === 'firing' || p.state === 'resolved')) {
    await ctx.db.table('alert_signals').insert({ source: 'data_quality', key: p.condition, state: p.state, value: typeof p.value === 'number' ? p.value : null, message: typeof p.message === 'string' ? p.message.slice(0, 1000) : null, at });
  } else if (msg.topic === 'adoption.flags' && msg.scope?.kind === 'org' && p.kind === 'raised' && typeof p.user_id === 'string') {
    await ctx.db.table('alert_signals').insert({ source: 'support_flags', key: p.user_id, state: 'raised', value: typeof p.score === 'number' ? p.score : null, message: null, at });
  }
}

/** What a signal rule sees at `now`. */
export async function observeSignal(ctx: TenantContext, source: SignalSource, now: Date, windowSeconds: number): Promise<GroupObservation[]> {
  if (source.kind === 'support_flags') {
    const from = new Date(now.getTime() - windowSeconds * 1000);
    const rows = await ctx.db.table('alert_signals').where({ source: 'support_flags' }).andWhere('at', '>=', from).andWhere('at', '<', now).distinct('key');
    return [{ group: {}, obs: { kind: 'value', value: rows.length } }];
  }
  const conditions = source.condition ? [source.condition] : [...DATA_QUALITY_CONDITIONS];
  const out: GroupObservation[] = [];
  for (const condition of conditions) {
    const last = await ctx.db.table('alert_signals').where({ source: 'data_quality', key: condition }).andWhere('at', '<=', now).orderBy([{ column: 'at', order: 'desc' }, { column: 'id', order: 'desc' }]).first();
    out.push({ group: { condition }, obs: { kind: 'value', value: last?.state === 'firing' ? 1 : 0 } });
  }
  return out;
}

/** The longest window a rule may watch (`window_seconds`' maximum): older signals can't be seen. */
export const SIGNAL_HORIZON_SECONDS = 90 * 86_400;

/**
 * Drops signals no rule can see any more: support flags older than the longest window, and
 * data-quality messages older than it except each condition's latest, which still says
 * whether the condition is firing now.
 */
export async function pruneSignals(ctx: TenantContext, now: Date): Promise<number> {
  const before = new Date(now.getTime() - SIGNAL_HORIZON_SECONDS * 1000);
  const stale: number[] = (await ctx.db.table('alert_signals').where({ source: 'support_flags' }).andWhere('at', '<', before).select('id')).map((r: { id: number }) => r.id);
  for (const condition of DATA_QUALITY_CONDITIONS) {
    const latest = await ctx.db.table('alert_signals').where({ source: 'data_quality', key: condition }).orderBy([{ column: 'at', order: 'desc' }, { column: 'id', order: 'desc' }]).first('id');
    if (!latest) continue;
    const rows = await ctx.db.table('alert_signals').where({ source: 'data_quality', key: condition }).andWhere('at', '<', before).whereNot({ id: latest.id }).select('id');
    stale.push(...rows.map((r: { id: number }) => r.id));
  }
  // ids counted here rather than from the delete: drivers answer a delete's count differently
  for (let i = 0; i < stale.length; i += 1000) await ctx.db.table('alert_signals').whereIn('id', stale.slice(i, i + 1000)).del();
  return stale.length;
}
