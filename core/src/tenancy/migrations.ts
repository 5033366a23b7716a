import type { PgMigration } from '@orrery/plugin-sdk';

/** The public catalogue: orgs, identities, memberships, credentials, plugin enablement, job runs. */
export const publicMigrations: PgMigration[] = [
  {
    name: '0001_catalogue',
    async up(knex) {
      await knex.schema.withSchema('public').createTable('orgs', (t) => {
        t.uuid('id').primary();
        t.string('slug', 63).notNullable().unique();
        t.string('name', 200).notNullable();
        t.string('schema', 80).notNullable().unique();
        t.string('tier', 40).notNullable().defaultTo('standard');
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      await knex.schema.withSchema('public').createTable('users', (t) => {
        t.uuid('id').primary();
        t.string('email', 320).notNullable().unique();
        t.string('display_name', 200).notNullable().defaultTo('');
        t.text('password_hash');
        t.boolean('operator').notNullable().defaultTo(false);
        t.text('totp_secret');
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      await knex.schema.withSchema('public').createTable('memberships', (t) => {
        t.uuid('org_id').notNullable().references('id').inTable('public.orgs').onDelete('CASCADE');
        t.uuid('user_id').notNullable().references('id').inTable('public.users').onDelete('CASCADE');
        t.string('role', 20).notNullable();
        t.boolean('active').notNullable().defaultTo(true);
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(['org_id', 'user_id']);
      });
      await knex.schema.withSchema('public').createTable('refresh_tokens', (t) => {
        t.uuid('id').primary();
        t.uuid('family_id').notNullable().index();
        t.uuid('user_id').notNullable().references('id').inTable('public.users').onDelete('CASCADE');
        t.uuid('org_id').notNullable().references('id').inTable('public.orgs').onDelete('CASCADE');
        t.string('token_hash', 64).notNullable().unique();
        t.timestamp('expires_at', { useTz: true }).notNullable();
        t.timestamp('used_at', { useTz: true });
        t.timestamp('revoked_at', { useTz: true });
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      await knex.schema.withSchema('public').createTable('api_tokens', (t) => {
        t.uuid('id').primary();
        t.uuid('org_id').notNullable().references('id').inTable('public.orgs').onDelete('CASCADE');
        t.uuid('user_id').notNullable().references('id').inTable('public.users').onDelete('CASCADE');
        t.string('name', 120).notNullable();
        t.string('kind', 10).notNullable();
        t.string('token_hash', 64).notNullable().unique();
        t.string('prefix', 16).notNullable();
        t.timestamp('expires_at', { useTz: true });
        t.timestamp('revoked_at', { useTz: true });
        t.timestamp('last_used_at', { useTz: true });
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      await knex.schema.withSchema('public').createTable('plugin_settings', (t) => {
        t.uuid('org_id').notNullable().references('id').inTable('public.orgs').onDelete('CASCADE');
        t.string('plugin_id', 80).notNullable();
        t.boolean('enabled').notNullable();
        t.jsonb('settings').notNullable().defaultTo('{}');
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(['org_id', 'plugin_id']);
      });
      await knex.schema.withSchema('public').createTable('job_runs', (t) => {
        t.string('job', 160).notNullable();
        t.string('org_id', 40).notNullable();
        t.timestamp('locked_until', { useTz: true });
        t.string('locked_by', 80);
        t.timestamp('last_started_at', { useTz: true });
        t.timestamp('last_finished_at', { useTz: true });
        t.string('last_status', 20);
        t.text('last_error');
        t.jsonb('last_result');
        t.primary(['job', 'org_id']);
      });
      await knex.schema.withSchema('public').createTable('platform_settings', (t) => {
        t.string('key', 120).primary();
        t.text('value').notNullable();
      });
      // records that must outlive an org (its deletion, operator actions)
      await knex.schema.withSchema('public').createTable('platform_audit', (t) => {
        t.bigIncrements('id');
        t.string('actor', 320).notNullable();
        t.string('action', 120).notNullable();
        t.string('target', 200);
        t.jsonb('detail');
        t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
    },
  },
];

/** Tables in every org's schema. */
export const orgMigrations: PgMigration[] = [
  {
    name: '0001_org_core',
    async up(knex, schema) {
      await knex.schema.withSchema(schema).createTable('departments', (t) => {
        t.uuid('id').primary();
        t.string('name', 200).notNullable().unique();
        t.boolean('restricted').notNullable().defaultTo(false);
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      await knex.schema.withSchema(schema).createTable('department_members', (t) => {
        t.uuid('department_id').notNullable().references('id').inTable(`${schema}.departments`).onDelete('CASCADE');
        t.uuid('user_id').notNullable();
        t.boolean('manager').notNullable().defaultTo(false);
        t.primary(['department_id', 'user_id']);
      });
      await knex.schema.withSchema(schema).createTable('audit_log', (t) => {
        t.bigIncrements('id');
        t.uuid('actor_id');
        t.string('actor_email', 320);
        t.string('action', 120).notNullable();
        t.string('target', 300);
        t.jsonb('before');
        t.jsonb('after');
        t.string('ip', 64);
        t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now()).index();
      });
      await knex.schema.withSchema(schema).createTable('org_settings', (t) => {
        t.string('key', 120).primary();
        t.jsonb('value').notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
    },
  },
];
