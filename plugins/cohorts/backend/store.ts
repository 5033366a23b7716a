/**
 * The plugin's own PostgreSQL tables (in each org's schema): saved cohorts,
 * their current members, and every join and leave.
 */
import type { PgMigration } from '@orrery/plugin-sdk';

export const COHORTS = 'cohorts_cohorts';
export const MEMBERS = 'cohorts_members';
export const HISTORY = 'cohorts_membership_history';

export const pgMigrations: PgMigration[] = [
  {
    name: '0001_cohorts',
    async up(knex, schema) {
      await knex.schema.withSchema(schema).createTable(COHORTS, (t) => {
        t.uuid('id').primary();
        t.string('name', 200).notNullable();
        t.string('description', 2000).notNullable().defaultTo('');
        t.string('kind', 16).notNullable(); // static | dynamic
        t.jsonb('criteria').notNullable().defaultTo('[]');
        t.string('department_id', 64).nullable();
        t.integer('size').notNullable().defaultTo(0);
        t.string('created_by', 64).nullable();
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('computed_at', { useTz: true }).nullable();
        t.unique(['name']);
      });
      await knex.schema.withSchema(schema).createTable(MEMBERS, (t) => {
        t.uuid('cohort_id').notNullable().references('id').inTable(`${schema}.${COHORTS}`).onDelete('CASCADE');
        t.string('user_id', 200).notNullable();
        t.timestamp('since', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(['cohort_id', 'user_id']);
      });
      await knex.schema.withSchema(schema).createTable(HISTORY, (t) => {
        t.bigIncrements('id');
        t.uuid('cohort_id').notNullable().references('id').inTable(`${schema}.${COHORTS}`).onDelete('CASCADE');
        t.string('user_id', 200).notNullable();
        t.string('change', 8).notNullable(); // joined | left
        t.timestamp('at', { useTz: true }).notNullable();
        t.index(['cohort_id', 'at']);
      });
    },
  },
];
