/**
 * What alerts offers other plugins (`alertsStatusRef`): the instances firing now, as the
 * "Firing alerts" widget lists them, and the number of rules. Read from the plugin's own
 * tables in the org's schema, through its own context.
 */
import { alertsStatusRef, provide, type FiringAlert, type TenantContext } from '@orrery/plugin-sdk';
import { matches, type Matcher } from './routing.ts';
import { iso } from './schemas.ts';

async function firing(ctx: TenantContext, limit: number): Promise<FiringAlert[]> {
  const rows = await ctx.db.table('alert_instances').where({ routed_status: 'firing' }).orderBy('starts_at', 'desc').limit(limit);
  const names = new Map<string, string>((await ctx.db.table('alert_rules').select('id', 'name')).map((r: any) => [r.id, r.name]));
  const now = new Date();
  const silences: Matcher[][] = (await ctx.db.table('alert_silences').where('starts_at', '<=', now).andWhere('ends_at', '>', now)).map((s: any) => s.matchers);
  return rows.map((i: any) => ({
    rule_id: i.rule_id,
    rule_name: names.get(i.rule_id) ?? '',
    fingerprint: i.fingerprint,
    state: i.state,
    labels: i.labels,
    annotations: i.annotations,
    value: i.value === null || i.value === undefined ? null : Number(i.value),
    starts_at: iso(i.starts_at),
    acked: !!i.acked_at,
    silenced: silences.some((m) => matches(m, i.labels)),
  }));
}

export const alertsStatus = provide(alertsStatusRef, (ctx) => ({
  firing: (opts = {}) => firing(ctx, Math.min(Math.max(opts.limit ?? 100, 1), 500)),
  async rules() {
    const rows = await ctx.db.table('alert_rules').whereNull('deleted_at').select('paused');
    return { total: rows.length, paused: rows.filter((r: any) => r.paused).length };
  },
}));
