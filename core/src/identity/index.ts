import type { FastifyInstance } from 'fastify';
import type { KernelModule } from '../types.ts';
import type { Internals } from '../internals.ts';
import type { RateLimitDeps } from './ratelimit.ts';
import type { DepartmentsDeps } from './departments.ts';
import type { MembersDeps } from './members.ts';
import type { InvitationsDeps } from './invitations.ts';
import type { SessionsDeps } from './sessions.ts';
import type { AuditDeps } from './audit.ts';
import type { OrgDeletionDeps } from './org.ts';
import type { OidcDeps } from './oidc.ts';
import { identityPublicMigrations } from './migrations.ts';
import { departmentRoutes } from './departments.ts';
import { memberRoutes } from './members.ts';
import { invitationRoutes } from './invitations.ts';
import { sessionRoutes } from './sessions.ts';
import { auditRoutes, purgeAuditLogs } from './audit.ts';
import { orgRoutes } from './org.ts';
import { oidcRoutes } from './oidc.ts';
import { installRateLimits } from './ratelimit.ts';

/** The kernel services this module uses (a part of the container, not all of it). */
export type IdentityDeps = Pick<Internals, 'kv' | 'logger' | 'orgService' | 'tokens'> & RateLimitDeps & DepartmentsDeps & MembersDeps & InvitationsDeps & SessionsDeps & AuditDeps & OrgDeletionDeps & OidcDeps;

const DAY_MS = 24 * 3600 * 1000;

/**
 * People and access inside an org: departments, members and roles,
 * invitations, sessions, second factor, single sign-on, audit, org settings
 * and deletion, and the rate limits in front of every route.
 */
export const identityModule: KernelModule<IdentityDeps> = {
  name: 'identity',
  migrations: { public: identityPublicMigrations },
  async register(app: FastifyInstance, s: IdentityDeps) {
    s.tokens.useRevocationStore(s.kv);
    s.tokens.sessionColumns = true;
    installRateLimits(app, s);
    departmentRoutes(app, s);
    memberRoutes(app, s);
    invitationRoutes(app, s);
    sessionRoutes(app, s);
    auditRoutes(app, s);
    orgRoutes(app, s);
    await oidcRoutes(app, s);

    // The 12-month audit purge: daily, first run a minute after start; the
    // job_runs lock makes one node do it. unref() so it never holds a process open.
    let timer: NodeJS.Timeout | null = null;
    let running: Promise<unknown> | null = null;
    const run = () => {
      running ??= purgeAuditLogs(s)
        .catch((err) => s.logger.error({ err }, 'audit purge failed'))
        .finally(() => (running = null));
    };
    app.addHook('onListen', async () => {
      const first = setTimeout(() => {
        run();
        timer = setInterval(run, DAY_MS);
        timer.unref();
      }, 60_000);
      first.unref();
      timer = first;
    });
    app.addHook('onClose', async () => {
      if (timer) clearTimeout(timer);
      if (running) await running;
    });
  },
};

export { purgeAuditLogs, deleteOrgFor };

/** For tests and tools: deletes an org as the platform would. */
async function deleteOrgFor(s: IdentityDeps, slug: string, actor: string) {
  const { deleteOrg } = await import('./org.ts');
  const org = await s.orgService.bySlug(slug);
  if (!org) throw new Error(`no org ${slug}`);
  return deleteOrg(s, org, actor, null);
}
