import type { FastifyInstance } from 'fastify';
import { HttpError } from '@orrery/plugin-sdk';
import type { KernelModule } from '../types.ts';
import type { Internals } from '../internals.ts';
import { errorSchema } from '../http/schemas.ts';
import { publicMigrations, orgMigrations } from './migrations.ts';
import { passwordProblem } from '../auth/passwords.ts';

/** The kernel services this module uses (a part of the container, not all of it). */
export type TenancyDeps = Pick<Internals, 'knex' | 'orgService'>;

export const tenancyModule: KernelModule<TenancyDeps> = {
  name: 'tenancy',
  migrations: { public: publicMigrations, org: orgMigrations },
  register(app: FastifyInstance, s: TenancyDeps) {
    app.post<{ Body: { slug: string; name: string; admin_email: string; admin_password?: string } }>(
      '/api/v1/orgs',
      {
        config: { permission: 'operator' },
        schema: {
          tags: ['orgs'],
          summary: 'Create an organization with its first Admin (platform operators only)',
          body: {
            type: 'object',
            required: ['slug', 'name', 'admin_email'],
            additionalProperties: false,
            properties: {
              slug: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{1,62}$' },
              name: { type: 'string', minLength: 1, maxLength: 200 },
              admin_email: { type: 'string', format: 'email', maxLength: 320 },
              admin_password: { type: 'string', minLength: 12, maxLength: 1024 },
            },
          },
          response: { 201: { type: 'object', properties: { org_id: { type: 'string' }, slug: { type: 'string' } } }, 409: errorSchema, 403: errorSchema },
        },
      },
      async (req, reply) => {
        if (req.body.admin_password) {
          const problem = passwordProblem(req.body.admin_password);
          if (problem) throw new HttpError(400, 'weak_password', problem, { field: 'admin_password' });
        }
        const org = await s.orgService.create({ slug: req.body.slug, name: req.body.name });
        await s.orgService.addMember(org, { email: req.body.admin_email, role: 'Admin', password: req.body.admin_password });
        await s.knex.withSchema('public').table('platform_audit').insert({ actor: req.auth!.caller.email, action: 'org.create', target: org.slug });
        reply.status(201);
        return { org_id: org.id, slug: org.slug };
      },
    );
  },
};
