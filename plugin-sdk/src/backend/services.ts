/**
 * Plugins that build on each other. A plugin provides a typed service under a
 * ref (`provide(ref, factory)`) and another declares that it needs it
 * (`need(ref, range)`); both are plain data on the declaration, so the kernel
 * orders start-up by them and refuses a missing provider, a version outside
 * the range and a cycle before anything runs (Backstage's service refs and
 * extension points are the model).
 *
 * A ref is matched by its id: the provider and the consumer each hold a ref
 * with the same id (the SDK exports the shared contracts below), and the
 * provider's version must satisfy the consumer's range.
 */
import type { TenantContext } from './types.ts';

export interface ServiceRef<T> {
  /** unique name of the contract, e.g. `metric-source` */
  readonly id: string;
  /** semver version of the contract the ref describes */
  readonly version: string;
  /**
   * `true`: several plugins may provide it (metric sources: every analytics plugin offers
   * some) and a consumer reads them all or names one; `false`: exactly one provider.
   */
  readonly multiple: boolean;
  readonly description?: string;
  /** carries the service type; never set */
  readonly $type?: T;
}

export function createServiceRef<T>(opts: { id: string; version: string; multiple?: boolean; description?: string }): ServiceRef<T> {
  return Object.freeze({ id: opts.id, version: opts.version, multiple: opts.multiple ?? false, description: opts.description });
}

/** What a plugin offers: the service, built for one org (and caller) from the provider's own context. */
export interface ProvidedService<T = unknown> {
  ref: ServiceRef<T>;
  factory(ctx: TenantContext): T | Promise<T>;
}

export function provide<T>(ref: ServiceRef<T>, factory: (ctx: TenantContext) => T | Promise<T>): ProvidedService<T> {
  return { ref, factory: factory as ProvidedService<T>['factory'] };
}

/** What a plugin needs: a contract within a version range, optionally from one named provider. */
export interface NeededService<T = unknown> {
  ref: ServiceRef<T>;
  /** semver range of the contract version, e.g. `^1.0.0` */
  range: string;
  /**
   * the providing plugin's id. For a `multiple` ref, naming one makes that provider
   * required (refused at load when absent, 424 for an org where it is disabled);
   * without it the plugin reads whichever providers the org has on.
   */
  from?: string;
  /** an optional need never refuses the plugin; the service is simply absent */
  optional?: boolean;
}

export function need<T>(ref: ServiceRef<T>, range: string, opts: { from?: string; optional?: boolean } = {}): NeededService<T> {
  return { ref, range, ...opts };
}

/** The services a plugin declared it needs, bound to one org and caller. */
export interface ServiceAccess {
  /**
   * The provider's service for this org. For a `multiple` ref name the provider with
   * `from`. Throws a 424 `provider_disabled` when the provider is off for the org.
   */
  get<T>(ref: ServiceRef<T>, from?: string): Promise<T>;
  /** Every provider of the ref that is on for this org, in start-up order. */
  all<T>(ref: ServiceRef<T>): Promise<Array<{ plugin: string; service: T }>>;
}
