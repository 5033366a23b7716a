import { HttpError, type Org } from '@orrery/plugin-sdk';
import type { Internals } from '../internals.ts';
import type { ActivePlugin } from './active.ts';

/**
 * Per-tenant enablement, read from the catalogue and cached briefly; a change on any node is
 * announced on the bus so every node drops its cache at once.
 */
export class Enablement {
  private cache = new Map<string, { at: number; map: Map<string, boolean> }>();

  constructor(
    private deps: Pick<Internals, 'knex' | 'bus'>,
    private active: () => ActivePlugin[],
  ) {}

  private async enabledMap(orgId: string): Promise<Map<string, boolean>> {
    const hit = this.cache.get(orgId);
    if (hit && Date.now() - hit.at < 10_000) return hit.map;
    const rows = await this.deps.knex.withSchema('public').table('plugin_settings').where({ org_id: orgId }).select('plugin_id', 'enabled');
    const map = new Map<string, boolean>(rows.map((r: any) => [r.plugin_id, !!r.enabled]));
    this.cache.set(orgId, { at: Date.now(), map });
    return map;
  }

  async isEnabled(orgId: string, pluginId: string): Promise<boolean> {
    const p = this.active().find((a) => a.decl.id === pluginId);
    if (!p || p.status !== 'active') return false;
    const v = (await this.enabledMap(orgId)).get(pluginId);
    return v ?? p.decl.enabledByDefault !== false;
  }

  /** Best effort, from the cache (used where an await is not worth it). */
  isEnabledSync(orgId: string, pluginId: string): boolean {
    const p = this.active().find((a) => a.decl.id === pluginId);
    return this.cache.get(orgId)?.map.get(pluginId) ?? p?.decl.enabledByDefault !== false;
  }

  async setEnabled(org: Org, pluginId: string, enabled: boolean) {
    if (!this.active().some((a) => a.decl.id === pluginId)) throw new HttpError(404, 'not_found', `no plugin "${pluginId}"`);
    await this.deps.knex
      .withSchema('public')
      .table('plugin_settings')
      .insert({ org_id: org.id, plugin_id: pluginId, enabled })
      .onConflict(['org_id', 'plugin_id'])
      .merge({ enabled, updated_at: new Date() });
    this.forget(org.id);
    await this.deps.bus.publish(org.id, { kind: 'org' }, 'kernel.plugins.changed', { pluginId, enabled });
  }

  forget(orgId?: string) {
    if (orgId) this.cache.delete(orgId);
    else this.cache.clear();
  }
}
