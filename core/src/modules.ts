import type { KernelModule } from './types.ts';
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

/** The kernel's own parts, in the order they register. Each is one folder under core/src. */
export const kernelModules: KernelModule[] = [
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
