import type { KernelModule } from './types.ts';
import type { Internals } from './internals.ts';
import { tenancyModule } from './tenancy/routes.ts';
import { authModule } from './auth/routes.ts';
import { identityModule } from './identity/index.ts';
import { ingestionModule } from './ingestion/index.ts';
import { pluginsModule } from './plugins/routes.ts';
import { opsModule } from './ops/routes.ts';
import { rollupsModule } from './rollups/index.ts';
import { retentionModule } from './retention/index.ts';
import { notificationsModule } from './notifications/routes.ts';
import { healthModule } from './health/index.ts';

/**
 * The kernel's own parts, in the order they register. Each is one folder under core/src and
 * declares the services it uses; typing the list by the container's cradle makes a module
 * that needs a service the container lacks a compile error.
 */
export const kernelModules: KernelModule<Internals>[] = [
  tenancyModule,
  notificationsModule,
  authModule,
  identityModule,
  ingestionModule,
  pluginsModule,
  rollupsModule,
  retentionModule,
  opsModule,
  healthModule,
];
