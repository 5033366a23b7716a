import type { AwilixContainer } from 'awilix';
import type { HttpError } from '@orrery/plugin-sdk';
import type { Internals } from '../internals.ts';
import type { LoadedPlugin } from './loader.ts';
import type { PluginScope } from './context.ts';

/** A plugin the loader accepted, with its scoped container and whether its init succeeded. */
export interface ActivePlugin extends LoadedPlugin {
  scope: AwilixContainer<Internals & PluginScope>;
  status: 'active' | 'failed';
  error?: string;
}

/** What the HTTP, event and job parts ask of the host about a plugin for one org. */
export interface PluginGate {
  readonly active: ActivePlugin[];
  isEnabled(orgId: string, pluginId: string): Promise<boolean>;
  /** 424 for an org where a provider the plugin needs is off (or failed), else null */
  unavailableProvider(p: ActivePlugin, orgId: string): Promise<HttpError | null>;
}

/**
 * Whether a plugin's org-bound work (a bus handler, a demo seeder) runs for an org: the plugin
 * started, is on for the org, and every provider it needs is available there.
 */
export async function runsFor(gate: PluginGate, p: ActivePlugin, orgId: string): Promise<boolean> {
  return p.status === 'active' && (await gate.isEnabled(orgId, p.decl.id)) && !(await gate.unavailableProvider(p, orgId));
}
