import type { Caller, Org } from '@orrery/plugin-sdk';
import type { PluginGate } from './active.ts';
import { distDir } from './frontends.ts';
import { widgetAssets } from './remoteAssets.ts';

/** The plugin manifest the host UI reads: enabled plugins (all with `all`), their remote and the widgets the role may see. */
export async function pluginManifest(gate: PluginGate, org: Org, caller: Caller, all = false) {
  const out = [];
  for (const p of gate.active) {
    const enabled = p.status === 'active' && (await gate.isEnabled(org.id, p.decl.id));
    if (!enabled && !all) continue;
    const dist = distDir(p);
    out.push({
      id: p.decl.id,
      version: p.decl.version,
      title: p.decl.title,
      description: p.decl.description,
      enabled,
      status: p.status,
      routePrefix: p.decl.routePrefix,
      topics: (p.decl.topics ?? []).map((t) => `${p.decl.id}.${t}`),
      remote: p.decl.frontend && dist
        ? { name: p.decl.frontend.remoteName, entry: `/plugins/${p.decl.id}/remoteEntry.js`, widgetAssets: widgetAssets(dist, `/plugins/${p.decl.id}/`) }
        : null,
      widgets: (p.decl.frontend?.widgets ?? []).filter((w) => w.roles.includes(caller.role)),
      pages: (p.decl.frontend?.pages ?? []).filter((pg) => pg.roles.includes(caller.role)).map(({ module: _m, ...pg }) => pg),
    });
  }
  return out;
}
