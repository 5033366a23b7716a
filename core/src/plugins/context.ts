import type { BusScope, Caller, Logger, Org, TenantContext } from '@orrery/plugin-sdk';
import type { Internals } from '../internals.ts';
import { pluginDatabase } from './database.ts';
import { directoryFor } from './directory.ts';
import { serviceAccess } from './serviceAccess.ts';
import { orgRecords } from './orgRecords.ts';
import { issueTokenPair, type IssueTokenDeps } from '../auth/session.ts';

/** What a plugin's scoped container holds besides the kernel's services. */
export interface PluginScope {
  pluginId: string;
  pluginLogger: Logger;
  pluginConfig: Record<string, unknown>;
}

/** The kernel services a tenant context is built from, and the plugin's own scope. */
export type TenantContextDeps = Pick<Internals, 'analytics' | 'audit' | 'bus' | 'knex' | 'mailer' | 'notifier' | 'plugins' | 'rollups' | 'tokens' | 'retention' | 'health'> & IssueTokenDeps & PluginScope;

/**
 * Builds the TenantContext a plugin sees for one request or one job run. It is
 * the whole of what a plugin can reach: its org's schema, the tenant-bound
 * analytics helper, its own bus topics, its own settings.
 */
export function tenantContext(scope: { cradle: TenantContextDeps }, org: Org, caller: Caller | null): TenantContext {
  const s = scope.cradle;
  const pluginId = s.pluginId;
  const topicName = (t: string) => (t.startsWith(`${pluginId}.`) ? t : `${pluginId}.${t}`);
  const answersChanged = () => {
    // this node at once; the others through the bus (the kernel subscribes to kernel.answers.changed)
    s.plugins.dataChanged(org.id, pluginId);
    void s.bus.publish(org.id, { kind: 'org' }, 'kernel.answers.changed', { pluginId }).catch((err: unknown) => s.pluginLogger.warn({ err }, 'could not tell the other nodes that answers changed'));
  };
  const directory = directoryFor(s.knex, org, caller);
  return {
    org,
    caller,
    db: pluginDatabase(s.knex, org.schema),
    analytics: s.analytics.forOrg(org.id, pluginId),
    bus: {
      publish: (topic, payload, busScope: BusScope = { kind: 'org' }) => s.bus.publish(org.id, busScope, topicName(topic), payload),
    },
    config: s.pluginConfig,
    settings: {
      async get<T>() {
        const row = await s.knex.withSchema('public').table('plugin_settings').where({ org_id: org.id, plugin_id: pluginId }).first('settings');
        return (row?.settings ?? {}) as T;
      },
      async set<T>(value: T) {
        await s.knex
          .withSchema('public')
          .table('plugin_settings')
          .insert({ org_id: org.id, plugin_id: pluginId, enabled: s.plugins.isEnabledSync(org.id, pluginId), settings: JSON.stringify(value) })
          .onConflict(['org_id', 'plugin_id'])
          .merge({ settings: JSON.stringify(value), updated_at: new Date() });
        answersChanged();
      },
    },
    logger: s.pluginLogger.child({ org: org.slug }),
    notify: s.notifier,
    mail: s.mailer,
    audit: (entry) => s.audit(org, caller, { ...entry, action: `${pluginId}.${entry.action}` }),
    answersChanged,
    rollups: s.rollups.reader(pluginId, () => s.retention.rawHorizon(org.id)),
    retention: () => s.retention.horizons(org.id),
    visibleUserDepartments: () => directory.visibleDepartments(),
    directory,
    platform: s.health.forPlugin(pluginId, org, caller),
    records: orgRecords(s.knex, org, caller),
    services: serviceAccess(s.plugins, pluginId, org, caller, (provider) => tenantContext(provider.scope, org, caller)),
    async renderSession(userId, purpose) {
      const pair = await issueTokenPair(s, userId, org.id, { method: `render:${pluginId}`, userAgent: `orrery ${pluginId}: ${purpose}`.slice(0, 200) });
      await s.audit(org, caller, { action: `${pluginId}.session.render`, target: userId, after: { purpose } });
      const claims = await s.tokens.verifyAccess(pair.access_token);
      return {
        access_token: pair.access_token,
        refresh_token: pair.refresh_token,
        expires_in: pair.expires_in,
        end: async () => {
          if (claims?.sid) await s.tokens.revokeSession(claims.sid);
        },
      };
    },
  };
}
