import type { Logger, Org } from '@orrery/plugin-sdk';
import { tenantContext } from './context.ts';
import { runsFor, type PluginGate } from './active.ts';

/**
 * The plugins' `env.onDemoData` seeders, for an org that was just given demo data: each
 * plugin that is running and enabled for the org adds its own examples through its own
 * stores. One seeder failing is logged and the others still run; the start goes on.
 */
export async function seedDemoData(gate: PluginGate, logger: Logger, org: Org, span: { from: Date; to: Date }): Promise<Array<{ plugin: string; description: string; ok: boolean }>> {
  const out: Array<{ plugin: string; description: string; ok: boolean }> = [];
  for (const p of gate.active) {
    if (!p.demoSeeders.length || !(await runsFor(gate, p, org.id))) continue;
    const ctx = tenantContext(p.scope, org, null);
    for (const s of p.demoSeeders) {
      try {
        await s.run(ctx, span);
        out.push({ plugin: p.decl.id, description: s.description, ok: true });
      } catch (err) {
        logger.error({ err, plugin: p.decl.id }, `demo data: ${s.description} failed`);
        out.push({ plugin: p.decl.id, description: s.description, ok: false });
      }
    }
  }
  return out;
}
