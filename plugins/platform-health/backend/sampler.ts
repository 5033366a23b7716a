/**
 * The sampler: every few seconds, per org, takes the org's counters from the kernel
 * (`ctx.platform.org.takeSample`) and, once per round, the node's
 * (`operator().takeSample`), and appends them to the series table. It also tells the
 * org's Admins when their usage crosses a threshold (80%, the limit, the soft limit).
 */
import type { JobDecl, TenantContext, UsageStatus } from '@orrery/plugin-sdk';
import { writeSample } from './series.ts';
import { DEFAULTS, type HealthConfig } from './routes.ts';

export const SAMPLE_EVERY_SECONDS = DEFAULTS.sampleEverySeconds;

const RANK: Record<UsageStatus, number> = { ok: 0, warning: 1, over_soft_limit: 2, over_limit: 3 };
const SAY: Record<UsageStatus, string> = {
  ok: 'is within its limits',
  warning: 'has used 80% of a limit of its tier',
  over_soft_limit: 'is over a limit of its tier and inside the 20% overage',
  over_limit: 'has used its tier and the 20% overage: new events are refused until the month ends or the tier changes',
};

async function tellAdmins(ctx: TenantContext) {
  const usage = await ctx.platform.org.usage();
  const settings = await ctx.settings.get<{ usage_notice?: { month: string; status: UsageStatus } }>();
  const month = usage.period.from.slice(0, 7);
  const before = settings.usage_notice?.month === month ? settings.usage_notice.status : 'ok';
  if (RANK[usage.status] <= RANK[before]) return;
  await ctx.settings.set({ ...settings, usage_notice: { month, status: usage.status } });
  const admins = (await ctx.directory.members()).filter((m) => m.role === 'Admin').map((m) => m.id);
  await ctx.audit({ action: 'usage.status', target: ctx.org.id, before: { status: before }, after: { status: usage.status, events: usage.events } });
  if (admins.length)
    await ctx.notify.send({
      orgId: ctx.org.id,
      to: admins,
      subject: `${ctx.org.name}: usage ${usage.status.replaceAll('_', ' ')}`,
      text: `${ctx.org.name} ${SAY[usage.status]}. Events this month: ${usage.events.used} of ${usage.events.limit} (refused from ${usage.events.soft_limit}).`,
      channels: ['in_app', 'email'],
      data: { usage },
    });
}

export const sampler: JobDecl = {
  name: 'sample',
  everySeconds: SAMPLE_EVERY_SECONDS,
  async run(ctx) {
    const cfg = { ...DEFAULTS, ...(ctx.config as HealthConfig) };
    const org = await writeSample(ctx.analytics, ctx.platform.org.takeSample(), cfg.retentionDays);
    const op = ctx.platform.operator();
    const sample = await op.takeSample(cfg.nodeSampleMinSeconds);
    const platform = sample ? await writeSample(op.analytics, sample, cfg.retentionDays) : 0;
    await tellAdmins(ctx);
    return { org_rows: org, platform_rows: platform };
  },
};
