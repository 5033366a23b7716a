/** The plugin's PostgreSQL tables, in each org's schema. */
import type { PgMigration } from '@orrery/plugin-sdk';

export const pgMigrations: PgMigration[] = [
  {
    name: '0001_executive',
    async up(knex, schema) {
      const s = () => knex.schema.withSchema(schema);
      await s().createTable('executive_budgets', (t) => {
        t.uuid('id').primary();
        t.string('name', 200).notNullable();
        // org | department | agent; scope_id names the department id or the agent name
        t.string('scope', 20).notNullable();
        t.string('scope_id', 200);
        t.double('amount_usd').notNullable();
        t.string('period', 20).notNullable();
        t.uuid('created_by');
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      await s().createTable('executive_kpi_targets', (t) => {
        t.string('key', 64).primary();
        t.double('target').notNullable();
        t.uuid('updated_by');
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
    },
  },
];
