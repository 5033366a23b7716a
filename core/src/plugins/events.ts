import type { BusMessage, BusSubscriptionDecl, StoredEvent } from '@orrery/plugin-sdk';
import type { Internals } from '../internals.ts';
import { tenantContext } from './context.ts';
import { runsFor, type ActivePlugin, type PluginGate } from './active.ts';
import type { InFlight } from './inflight.ts';

/** Hands committed events to every plugin (enabled for the org) that listens to their types. */
export async function dispatchEvents(gate: PluginGate, deps: Pick<Internals, 'callers'>, orgId: string, events: StoredEvent[]) {
  const org = await deps.callers.org(orgId);
  if (!org) return;
  for (const p of gate.active) {
    if (!p.handlers.length || !(await gate.isEnabled(orgId, p.decl.id)) || (await gate.unavailableProvider(p, orgId))) continue;
    const ctx = tenantContext(p.scope, org, null);
    for (const h of p.handlers) {
      const mine = h.types === '*' ? events : events.filter((e) => (h.types as string[]).includes(e.event_type));
      if (!mine.length) continue;
      try {
        await h.handle(mine, ctx);
      } catch (err) {
        ctx.logger.error({ err }, 'event handler failed');
      }
    }
  }
}

/**
 * The plugins' `env.onBus` handlers. Once per cluster event: only the node that published a
 * message runs them (in Redis mode every node receives it), with a context bound to the
 * message's org, for orgs where the plugin is enabled.
 */
export class BusSubscriptions {
  private readonly unsubscribers: Array<() => void> = [];

  constructor(
    private gate: PluginGate,
    private deps: Pick<Internals, 'bus' | 'callers'>,
    private work: InFlight,
  ) {}

  start() {
    for (const p of this.gate.active) {
      for (const b of p.busHandlers ?? []) {
        for (const topic of b.topics) {
          const off = this.deps.bus.subscribe(topic, (msg) => {
            if (msg.node !== this.deps.bus.node || msg.orgId === '*' || this.work.stopping) return;
            void this.work.track(this.run(p, b, msg));
          });
          this.unsubscribers.push(off);
        }
      }
    }
  }

  stop() {
    for (const off of this.unsubscribers.splice(0)) off();
  }

  private async run(p: ActivePlugin, b: BusSubscriptionDecl, msg: BusMessage & { node?: string }) {
    try {
      if (!(await runsFor(this.gate, p, msg.orgId))) return;
      const org = await this.deps.callers.org(msg.orgId);
      if (!org) return;
      const { node: _node, ...plain } = msg;
      await b.handle(plain, tenantContext(p.scope, org, null));
    } catch (err) {
      p.scope.cradle.pluginLogger.error({ err, topic: msg.topic }, 'bus handler failed');
    }
  }
}
