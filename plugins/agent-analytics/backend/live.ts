/**
 * Live updates. Widgets do not need every invocation pushed to them: they need
 * to know that the figures changed and roughly how. So invocations are summed
 * per org and published on `agent-analytics.invocations` at most once per
 * window: the first batch after a quiet window goes out at once (a lone
 * invocation shows up immediately), a burst becomes one message per window.
 */
import type { StoredEvent, TenantContext } from '@orrery/plugin-sdk';

export const TOPIC = 'invocations';

/** What a widget receives on `agent-analytics.invocations`. */
export interface InvocationsNotice {
  invocations: number;
  failures: number;
  /** per agent: invocations and failures in this notice */
  agents: Record<string, { invocations: number; failures: number }>;
  /** newest event timestamp in the notice (ISO) */
  last_at: string;
}

interface Pending {
  notice: InvocationsNotice;
  ctx: TenantContext;
  /** newest event timestamp so far, ms (written into `last_at` when sent: one ISO string per notice, not per event) */
  lastMs: number;
}

const MAX_AGENTS = 100;

export class InvocationPublisher {
  private pending = new Map<string, Pending>();
  private lastSent = new Map<string, number>();
  private timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly windowMs: number) {}

  add(events: StoredEvent[], ctx: TenantContext) {
    const orgId = ctx.org.id;
    const p = this.pending.get(orgId) ?? { notice: { invocations: 0, failures: 0, agents: {}, last_at: '' }, ctx, lastMs: -Infinity };
    p.ctx = ctx;
    for (const e of events) {
      const failed = e.status === 'failure';
      p.notice.invocations++;
      if (failed) p.notice.failures++;
      const name = typeof e.agent_name === 'string' ? e.agent_name : '';
      const a = p.notice.agents[name] ?? (Object.keys(p.notice.agents).length < MAX_AGENTS ? (p.notice.agents[name] = { invocations: 0, failures: 0 }) : null);
      if (a) {
        a.invocations++;
        if (failed) a.failures++;
      }
      const at = Date.parse(e.timestamp);
      if (at > p.lastMs) p.lastMs = at;
    }
    this.pending.set(orgId, p);
    if (this.timers.has(orgId)) return;
    const wait = Math.max(0, (this.lastSent.get(orgId) ?? 0) + this.windowMs - Date.now());
    if (wait === 0) return this.flush(orgId);
    const t = setTimeout(() => void this.flush(orgId), wait);
    t.unref();
    this.timers.set(orgId, t);
  }

  private async flush(orgId: string) {
    this.timers.delete(orgId);
    const p = this.pending.get(orgId);
    if (!p) return;
    this.pending.delete(orgId);
    this.lastSent.set(orgId, Date.now());
    if (Number.isFinite(p.lastMs)) p.notice.last_at = new Date(p.lastMs).toISOString();
    try {
      await p.ctx.bus.publish<InvocationsNotice>(TOPIC, p.notice);
    } catch (err) {
      p.ctx.logger.warn({ err }, 'could not publish the invocations notice');
    }
  }
}
