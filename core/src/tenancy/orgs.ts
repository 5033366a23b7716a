import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { HttpError, type Org, type PgMigration, type Role } from '@orrery/plugin-sdk';
import { migratePg, type MigrationSet } from '../storage/migrations.ts';
import { orgSchemaName } from '../storage/postgres.ts';
import { hashPassword, passwordProblem } from '../auth/passwords.ts';

/**
 * The org catalogue. Creating an org creates its PostgreSQL schema and runs
 * every org-scoped migration (kernel's and plugins') inside it.
 */
export class OrgService {
  constructor(
    private knex: Knex,
    private orgMigrationSets: () => MigrationSet<PgMigration>[],
  ) {}

  async byId(id: string): Promise<Org | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    const r = await this.knex.withSchema('public').table('orgs').where({ id }).first();
    return r ? toOrg(r) : null;
  }
  async bySlug(slug: string): Promise<Org | null> {
    const r = await this.knex.withSchema('public').table('orgs').where({ slug }).first();
    return r ? toOrg(r) : null;
  }
  async list(): Promise<Org[]> {
    return (await this.knex.withSchema('public').table('orgs').orderBy('created_at')).map(toOrg);
  }

  async create(input: { slug: string; name: string }): Promise<Org> {
    if (await this.bySlug(input.slug)) throw new HttpError(409, 'conflict', `an organization with slug "${input.slug}" exists`);
    const org: Org = { id: randomUUID(), slug: input.slug, name: input.name, schema: orgSchemaName(input.slug) };
    await this.knex.raw(`CREATE SCHEMA IF NOT EXISTS "${org.schema}"`);
    await this.knex.withSchema('public').table('orgs').insert({ id: org.id, slug: org.slug, name: org.name, schema: org.schema });
    await this.migrate(org);
    return org;
  }

  /** Runs pending org-scoped migrations for one org (at creation and at every start). */
  migrate(org: Org) {
    return migratePg(this.knex, org.schema, this.orgMigrationSets());
  }

  /** Creates the user if the email is new, then makes them a member with the role. */
  async addMember(org: Org, input: { email: string; role: Role; password?: string; displayName?: string; operator?: boolean }) {
    const email = input.email.trim().toLowerCase();
    let user = await this.knex.withSchema('public').table('users').where({ email }).first();
    if (!user) {
      if (input.password) {
        const problem = passwordProblem(input.password);
        if (problem) throw new HttpError(400, 'weak_password', problem);
      }
      user = {
        id: randomUUID(),
        email,
        display_name: input.displayName ?? email.split('@')[0],
        password_hash: input.password ? await hashPassword(input.password) : null,
        operator: !!input.operator,
      };
      await this.knex.withSchema('public').table('users').insert(user);
    }
    await this.knex
      .withSchema('public')
      .table('memberships')
      .insert({ org_id: org.id, user_id: user.id, role: input.role, active: true })
      .onConflict(['org_id', 'user_id'])
      .merge({ role: input.role });
    return { userId: user.id as string, email };
  }
}

const toOrg = (r: any): Org => ({ id: r.id, slug: r.slug, name: r.name, schema: r.schema });
