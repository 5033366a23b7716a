import type { Knex } from 'knex';
import type { KernelServices } from './types.ts';
import type { TokenService } from './auth/tokens.ts';
import type { CallerDirectory } from './auth/callers.ts';
import type { PermissionRegistry } from './auth/authenticate.ts';
import type { OrgService } from './tenancy/orgs.ts';
import type { PluginHost } from './plugins/host.ts';
import type { RollupService } from './rollups/service.ts';
import type { RetentionService } from './retention/service.ts';
import type { Health } from './health/index.ts';
import type { Metrics } from './ops/routes.ts';

/** The whole cradle of the kernel's container, as kernel modules see it. */
export interface Internals extends KernelServices {
  knex: Knex;
  tokens: TokenService;
  callers: CallerDirectory;
  permissions: PermissionRegistry;
  orgService: OrgService;
  plugins: PluginHost;
  /** folds the plugins' declared rollups (core/src/rollups) */
  rollups: RollupService;
  /** each org's data lifecycle and the job that expires old data (core/src/retention) */
  retention: RetentionService;
  /** drops cached token and membership lookups on every node */
  invalidateAuth(orgId?: string, userId?: string): void;
  version: { version: string; commit?: string; sdkVersion: string };
  startedAt: number;
  /** the platform's own counters and each org's usage (core/src/health) */
  health: Health;
  /** the Prometheus registry and the HTTP histogram (ops) */
  metrics: Metrics;
}
