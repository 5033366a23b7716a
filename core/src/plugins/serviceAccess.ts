/**
 * The services a plugin declared in `needs`, as its tenant context offers them
 * (`ctx.services`): each built by the provider's factory from the provider's
 * own context for the same org and caller, so a provider's code runs with its
 * own tables, settings and visibility rules.
 */
import semver from 'semver';
import { HttpError, type Caller, type NeededService, type Org, type ServiceAccess, type ServiceRef, type TenantContext } from '@orrery/plugin-sdk';
import type { PluginHost } from './host.ts';

type Active = PluginHost['active'][number];

/** 424 for a provider that is off for the org, or (with `failure`) that failed to start on this node. */
export function providerDisabled(consumer: string, n: NeededService, provider: string, failure?: string) {
  const why = failure === undefined ? 'which is not enabled for this organization' : `which failed to start${failure ? ` (${failure})` : ''}`;
  return new HttpError(424, 'provider_disabled', `plugin "${consumer}" needs "${n.ref.id}" from plugin "${provider}", ${why}`, {
    plugin: consumer,
    service: n.ref.id,
    provider,
  });
}

/** The provider a need names: the single provider of its ref, or the one named with `from`. */
export function namedProvider(host: PluginHost, n: NeededService): Active | undefined {
  if (!n.ref.multiple) return host.active.find((p) => (p.decl.provides ?? []).some((s) => s.ref.id === n.ref.id));
  return n.from ? host.active.find((p) => p.decl.id === n.from) : undefined;
}

/**
 * The first required provider that is off for the org (or failed at start), or null: the
 * plugin's routes then answer 424 for that org, and its jobs and event handlers skip it.
 */
export async function unavailableProvider(host: PluginHost, plugin: Active, orgId: string): Promise<HttpError | null> {
  for (const n of plugin.decl.needs ?? []) {
    if (n.optional || (n.ref.multiple && !n.from)) continue;
    const p = namedProvider(host, n);
    if (p?.status === 'failed') return providerDisabled(plugin.decl.id, n, p.decl.id, p.error ?? '');
    if (!p || p.status !== 'active' || !(await host.isEnabled(orgId, p.decl.id))) return providerDisabled(plugin.decl.id, n, p?.decl.id ?? n.from ?? '?');
  }
  return null;
}

export function serviceAccess(
  host: PluginHost,
  consumerId: string,
  org: Org,
  caller: Caller | null,
  contextOf: (provider: Active) => TenantContext,
): ServiceAccess {
  const consumer = () => host.active.find((p) => p.decl.id === consumerId);
  const declared = (ref: ServiceRef<unknown>, from?: string) => {
    const needs = (consumer()?.decl.needs ?? []).filter((n) => n.ref.id === ref.id);
    const n = from ? (needs.find((x) => x.from === from) ?? needs.find((x) => !x.from)) : needs[0];
    if (!n) throw new Error(`plugin "${consumerId}" uses "${ref.id}" without declaring it in needs`);
    return n;
  };
  const build = async <T>(provider: Active, ref: ServiceRef<T>): Promise<T> => {
    const s = provider.decl.provides!.find((x) => x.ref.id === ref.id)!;
    return (await s.factory(contextOf(provider))) as T;
  };
  return {
    async get<T>(ref: ServiceRef<T>, from?: string): Promise<T> {
      const n = declared(ref, from);
      if (ref.multiple && !from) throw new Error(`plugin "${consumerId}": "${ref.id}" has many providers; name one (services.get(ref, pluginId)) or read services.all(ref)`);
      const name = from ?? n.from;
      const provider = namedProvider(host, { ...n, from: name });
      if (!provider || !(provider.decl.provides ?? []).some((s) => s.ref.id === ref.id))
        throw new HttpError(424, 'provider_unavailable', `plugin "${consumerId}" needs "${ref.id}"${name ? ` from plugin "${name}"` : ''}, which ${provider ? 'does not provide it' : 'is not installed'}`, {
          plugin: consumerId,
          service: ref.id,
          provider: name ?? null,
        });
      if (provider.status === 'failed') throw providerDisabled(consumerId, n, provider.decl.id, provider.error ?? '');
      if (provider.status !== 'active' || !(await host.isEnabled(org.id, provider.decl.id))) throw providerDisabled(consumerId, n, provider.decl.id);
      return build(provider, ref);
    },
    async all<T>(ref: ServiceRef<T>) {
      const n = declared(ref);
      const out: Array<{ plugin: string; service: T }> = [];
      for (const p of host.active) {
        if (p.decl.id === consumerId || p.status !== 'active') continue;
        const s = (p.decl.provides ?? []).find((x) => x.ref.id === ref.id);
        if (!s || !semver.satisfies(s.ref.version, n.range) || !(await host.isEnabled(org.id, p.decl.id))) continue;
        out.push({ plugin: p.decl.id, service: await build(p, ref) });
      }
      return out;
    },
  };
}
