import type { PgMigration } from '@orrery/plugin-sdk';

/**
 * Catalogue tables of the identity module. Invitations and single sign-on
 * identities sit in `public` next to users and memberships because they are
 * looked up before anyone knows the org (an invitation link, an IdP subject);
 * every row still carries its org_id and is deleted with the org.
 */
export const identityPublicMigrations: PgMigration[] = [
  {
    name: '0101_identity',
    async up(knex) {
      await knex.schema.withSchema('public').alterTable('users', (t) => {
        t.timestamp('totp_enabled_at', { useTz: true });
      });
      await knex.schema.withSchema('public').alterTable('memberships', (t) => {
        t.timestamp('deactivated_at', { useTz: true });
      });
      await knex.schema.withSchema('public').alterTable('refresh_tokens', (t) => {
        t.string('ip', 64);
        t.string('user_agent', 300);
        t.string('method', 60);
        t.index(['user_id', 'org_id']);
      });
      await knex.schema.withSchema('public').createTable('user_identities', (t) => {
        t.string('provider', 40).notNullable();
        t.string('subject', 255).notNullable();
        t.uuid('user_id').notNullable().references('id').inTable('public.users').onDelete('CASCADE');
        t.string('email', 320);
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('last_login_at', { useTz: true });
        t.primary(['provider', 'subject']);
      });
      await knex.schema.withSchema('public').createTable('invitations', (t) => {
        t.uuid('id').primary();
        t.uuid('org_id').notNullable().references('id').inTable('public.orgs').onDelete('CASCADE');
        t.string('email', 320).notNullable();
        t.string('role', 20).notNullable();
        t.jsonb('departments').notNullable().defaultTo('[]');
        t.string('token_hash', 64).notNullable().unique();
        t.uuid('invited_by');
        t.integer('sent_count').notNullable().defaultTo(0);
        t.timestamp('last_sent_at', { useTz: true });
        t.timestamp('expires_at', { useTz: true }).notNullable();
        t.timestamp('accepted_at', { useTz: true });
        t.timestamp('revoked_at', { useTz: true });
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.index(['org_id', 'email']);
      });
    },
  },
];
