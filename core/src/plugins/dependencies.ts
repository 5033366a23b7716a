/**
 * Orders plugins by what they provide and need. A plugin whose need has no
 * provider (none installed, the named one missing or refused, or a version
 * outside the range) is refused, and so, in turn, are the plugins that needed
 * it; plugins whose needs form a cycle are refused with the cycle named. The
 * rest come back in start-up order: every provider before its dependants.
 *
 * Optional needs order start-up when they can but never close a cycle: the metrics
 * plugin reads every metric source optionally, and a plugin that offers a metric
 * source computed through the metrics query (budgets) must still load. Services are
 * built per request, so such a pair only loses a preferred start-up order.
 */
import semver from 'semver';
import type { NeededService } from '@orrery/plugin-sdk';
import type { LoadedPlugin } from './loader.ts';

export interface DependencyOutcome<P extends LoadedPlugin> {
  ordered: P[];
  refused: Array<{ plugin: P; error: string }>;
}

const label = (n: NeededService) => `"${n.ref.id}" ${n.range}${n.from ? ` from plugin "${n.from}"` : ''}`;

export function resolveDependencies<P extends LoadedPlugin>(plugins: readonly P[]): DependencyOutcome<P> {
  const refused = new Map<string, string>();
  const byId = new Map(plugins.map((p) => [p.decl.id, p]));
  const alive = () => plugins.filter((p) => !refused.has(p.decl.id));

  // a single-provider contract offered twice: the later plugin is refused
  const single = new Map<string, string>();
  for (const p of plugins)
    for (const s of p.decl.provides ?? []) {
      if (s.ref.multiple) continue;
      const first = single.get(s.ref.id);
      if (first && first !== p.decl.id) refused.set(p.decl.id, `provides "${s.ref.id}", which plugin "${first}" already provides (one provider only)`);
      else single.set(s.ref.id, p.decl.id);
    }

  /** providers (still standing) that satisfy a need, or why there are none */
  const providersOf = (p: P, n: NeededService): { ids: string[]; missing?: string } => {
    const offering = alive().filter((q) => (q.decl.provides ?? []).some((s) => s.ref.id === n.ref.id));
    const named = n.from ? offering.filter((q) => q.decl.id === n.from) : offering;
    if (!named.length) {
      if (!n.from) return { ids: [], missing: `needs ${label(n)}, which no plugin provides` };
      const why = !byId.has(n.from) ? 'is not installed' : refused.has(n.from) ? 'was refused' : `does not provide "${n.ref.id}"`;
      return { ids: [], missing: `needs ${label(n)}, which ${why}` };
    }
    const fit = named.filter((q) => {
      const v = q.decl.provides!.find((s) => s.ref.id === n.ref.id)!.ref.version;
      return semver.valid(v) && semver.satisfies(v, n.range);
    });
    if (!fit.length) {
      const offered = named.map((q) => `${q.decl.id} provides ${q.decl.provides!.find((s) => s.ref.id === n.ref.id)!.ref.version}`).join(', ');
      return { ids: [], missing: `needs ${label(n)} (${offered})` };
    }
    return { ids: fit.map((q) => q.decl.id).filter((id) => id !== p.decl.id || n.ref.multiple === false) };
  };

  for (;;) {
    // 1. missing providers, until no refusal cascades further
    let changed = true;
    while (changed) {
      changed = false;
      for (const p of alive()) {
        const missing = (p.decl.needs ?? []).filter((n) => !n.optional).map((n) => providersOf(p, n).missing).filter(Boolean);
        if (missing.length) {
          refused.set(p.decl.id, missing.join('; '));
          changed = true;
        }
      }
    }
    // 2. cycles among the rest (required needs only: see above)
    const edges = new Map(alive().map((p) => [p.decl.id, [...new Set((p.decl.needs ?? []).filter((n) => !n.optional).flatMap((n) => providersOf(p, n).ids))]]));
    const cycle = findCycle(edges);
    if (!cycle) break;
    const text = `its needs form a cycle: ${cycle.join(' → ')}`;
    for (const id of new Set(cycle)) refused.set(id, text);
  }

  // 3. start-up order: providers first, otherwise the order the plugins came in
  const standing = alive();
  const edgesOf = (withOptional: boolean) =>
    new Map(standing.map((p) => [p.decl.id, new Set((p.decl.needs ?? []).filter((n) => withOptional || !n.optional).flatMap((n) => providersOf(p, n).ids).filter((id) => id !== p.decl.id))]));
  const edges = edgesOf(true);
  const required = edgesOf(false);
  const ordered: P[] = [];
  const placed = new Set<string>();
  const ready = (p: P, e: Map<string, Set<string>>) => !placed.has(p.decl.id) && [...e.get(p.decl.id)!].every((d) => placed.has(d));
  while (ordered.length < standing.length) {
    // an optional need that closes a cycle gives way to the required ones
    const next = standing.find((p) => ready(p, edges)) ?? standing.find((p) => ready(p, required))!;
    ordered.push(next);
    placed.add(next.decl.id);
  }
  return { ordered, refused: plugins.filter((p) => refused.has(p.decl.id)).map((plugin) => ({ plugin, error: refused.get(plugin.decl.id)! })) };
}

/** The first cycle found, as a path that ends where it starts (`a → b → a`), or null. */
function findCycle(edges: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | null => {
    if (state.get(id) === 'done') return null;
    if (state.get(id) === 'open') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'open');
    path.push(id);
    for (const d of edges.get(id) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    path.pop();
    state.set(id, 'done');
    return null;
  };
  for (const id of edges.keys()) {
    const c = visit(id);
    if (c) return c;
  }
  return null;
}
