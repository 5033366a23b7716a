import { asValue, type AwilixContainer } from 'awilix';
import type { ChMigration, PgMigration, Role } from '@orrery/plugin-sdk';
import type { Internals } from '../internals.ts';
import type { MigrationSet } from '../storage/migrations.ts';
import { checkDeclaration, discoverPluginFolders, importPlugin, type RefusedPlugin } from './loader.ts';
import type { PluginScope } from './context.ts';
import type { ActivePlugin } from './active.ts';
import { pluginConfig } from './pluginConfig.ts';
import { resolveDependencies } from './dependencies.ts';

export interface LoadOptions {
  roots: string[];
  declarations?: unknown[];
  only?: string[];
}

/**
 * Imports plugin folders and in-memory declarations (the test harness passes those), checks
 * each, gives it a scoped container, and orders providers before the plugins that need them.
 * A plugin that cannot load is handed to `refuse`; the others come back in start-up order,
 * their permissions defined.
 */
export async function loadPlugins(container: AwilixContainer<Internals>, opts: LoadOptions, refuse: (r: RefusedPlugin) => void): Promise<ActivePlugin[]> {
  const s = container.cradle;
  const taken = { ids: new Set<string>(), prefixes: new Map<string, string>() };
  const candidates: Array<{ source: string; get: () => Promise<unknown>; folder: boolean }> = [];
  const accepted: ActivePlugin[] = [];
  for (const dir of discoverPluginFolders(opts.roots)) candidates.push({ source: dir, get: () => importPlugin(dir), folder: true });
  for (const [i, d] of (opts.declarations ?? []).entries()) candidates.push({ source: `declaration #${i + 1}`, get: async () => d, folder: false });
  for (const c of candidates) {
    let raw: unknown;
    try {
      raw = await c.get();
    } catch (err) {
      refuse({ id: c.source.split('/').pop()!, source: c.source, error: `could not be imported: ${(err as Error).message}` });
      continue;
    }
    const id = (raw as { id?: string })?.id;
    // `only` picks among the folders; declarations handed over in code always load
    if (opts.only && c.folder && id && !opts.only.includes(id)) continue;
    // the same plugin from its folder and as a declaration (a plugin's test loading the folders too)
    if (!c.folder && id && accepted.some((a) => a.decl.id === id && a.decl.root && a.decl.root === (raw as { root?: string }).root)) continue;
    try {
      const loaded = checkDeclaration(raw, c.source, taken);
      const config = pluginConfig(s.config, loaded);
      const scope = container.createScope<PluginScope>();
      scope.register({
        pluginId: asValue(loaded.decl.id),
        pluginLogger: asValue(s.logger.child({ plugin: loaded.decl.id })),
        pluginConfig: asValue(config),
      });
      accepted.push({ ...loaded, scope: scope as AwilixContainer<Internals & PluginScope>, status: 'active' });
    } catch (err) {
      refuse({ id: id ?? c.source, source: c.source, error: (err as Error).message });
    }
  }
  // providers before the plugins that need them; a missing provider or a cycle refuses the plugin
  const { ordered, refused } = resolveDependencies(accepted);
  for (const r of refused) refuse({ id: r.plugin.decl.id, source: r.plugin.source, error: `plugin ${r.plugin.decl.id} (${r.plugin.source}) refused: ${r.error}` });
  for (const p of ordered) {
    for (const [name, roles] of Object.entries(p.decl.permissions)) s.permissions.define(name, roles as Role[], p.decl.id);
  }
  return ordered;
}

/** Runs each plugin's init; a failure refuses the plugin if it is allowed to fail, else stops the start. */
export async function initPlugins(active: ActivePlugin[], logger: Internals['logger']) {
  const fatal: string[] = [];
  for (const p of active) {
    if (!p.decl.init) continue;
    try {
      await p.decl.init({ logger: p.scope.cradle.pluginLogger, config: p.scope.cradle.pluginConfig });
    } catch (err) {
      p.status = 'failed';
      p.error = (err as Error).message;
      logger.error({ plugin: p.decl.id, err }, 'plugin init failed');
      if (!p.decl.allowedToFail) fatal.push(`${p.decl.id}: ${p.error}`);
    }
  }
  if (fatal.length) throw new Error(`plugins failed to start: ${fatal.join('; ')}`);
}

export function pgMigrationSets(active: ActivePlugin[]): MigrationSet<PgMigration>[] {
  return active.filter((p) => p.decl.migrations?.pg?.length).map((p) => ({ owner: `plugin:${p.decl.id}`, migrations: p.decl.migrations!.pg! }));
}

export function chMigrationSets(active: ActivePlugin[]): MigrationSet<ChMigration>[] {
  return active.filter((p) => p.decl.migrations?.clickhouse?.length).map((p) => ({ owner: `plugin:${p.decl.id}`, migrations: p.decl.migrations!.clickhouse! }));
}
