import type { PgMigration } from '@orrery/plugin-sdk';

type Create = (name: string, fn: (t: import('knex').Knex.CreateTableBuilder) => void) => Promise<void>;

export const pgMigrations: PgMigration[] = [
  {
    name: '0001_exports',
    async up(knex, schema) {
      // a fresh builder per table: a knex SchemaBuilder replays every statement it has queued when awaited again
      const create: Create = async (name, fn) => {
        await knex.schema.withSchema(schema).createTable(name, fn);
      };
      // background exports: the file lives in the plugin's folder of the data dir, named by id
      await create('export_jobs', (t) => {
        t.uuid('id').primary();
        t.string('created_by', 64).notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('finished_at', { useTz: true });
        t.string('dataset', 64).notNullable();
        t.string('format', 16).notNullable();
        t.jsonb('request').notNullable();
        t.string('status', 16).notNullable();
        t.float('progress').notNullable().defaultTo(0);
        t.bigInteger('total').notNullable().defaultTo(0);
        t.bigInteger('rows').notNullable().defaultTo(0);
        t.bigInteger('bytes').notNullable().defaultTo(0);
        t.text('file');
        t.text('error');
        t.index(['created_by', 'created_at']);
      });
      await create('reports', (t) => {
        t.uuid('id').primary();
        t.string('name', 200).notNullable();
        t.string('kind', 32).notNullable();
        t.jsonb('definition').notNullable();
        t.jsonb('schedule');
        t.jsonb('delivery').notNullable();
        t.boolean('skip_when_empty').notNullable().defaultTo(false);
        t.string('created_by', 64).notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('next_run_at', { useTz: true });
      });
      await create('report_runs', (t) => {
        t.uuid('id').primary();
        t.uuid('report_id').notNullable().references('id').inTable(`${schema}.reports`).onDelete('CASCADE');
        t.string('trigger', 16).notNullable();
        t.string('status', 16).notNullable();
        t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('finished_at', { useTz: true });
        t.jsonb('delivered');
        t.text('error');
        t.index(['report_id', 'started_at']);
      });
    },
  },
  {
    name: '0002_report_opens',
    async up(knex, schema) {
      // each run's link carries a token; a member who follows it is one open of that run
      await knex.schema.withSchema(schema).alterTable('report_runs', (t) => {
        t.string('open_token', 64);
        t.index(['open_token']);
      });
      await knex.schema.withSchema(schema).createTable('report_opens', (t) => {
        t.uuid('run_id').notNullable().references('id').inTable(`${schema}.report_runs`).onDelete('CASCADE');
        t.uuid('report_id').notNullable();
        t.string('user_id', 64).notNullable();
        t.timestamp('opened_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.integer('count').notNullable().defaultTo(1);
        t.primary(['run_id', 'user_id']);
        t.index(['report_id']);
      });
    },
  },
  {
    name: '0003_job_restarts',
    async up(knex, schema) {
      // an org archive left unfinished by a stopped process is started again from the beginning
      await knex.schema.withSchema(schema).alterTable('export_jobs', (t) => {
        t.integer('restarts').notNullable().defaultTo(0);
      });
    },
  },
];
