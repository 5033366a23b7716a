import type { PgMigration } from '@orrery/plugin-sdk';

/** Default interventions every org starts with; Admins edit, add and disable them. */
export const DEFAULT_INTERVENTIONS = [
  { key: 'getting-started', title: 'Getting started with the AI assistant', kind: 'training', url: '/learn/getting-started', triggers: ['low_score', 'low_usage', 'bottom_of_department'] },
  { key: 'daily-habits', title: 'Five daily habits: where the assistant saves time', kind: 'doc', url: '/learn/daily-habits', triggers: ['low_usage', 'score_drop'] },
  { key: 'command-tour', title: 'Tour of the slash commands', kind: 'help', url: '/learn/commands', triggers: ['limited_commands'] },
  { key: 'fixing-errors', title: 'Reading and fixing agent errors', kind: 'doc', url: '/learn/errors', triggers: ['error_rate', 'error_rate_24h'] },
  { key: 'workflow-clinic', title: 'Workflow clinic: finishing what you start', kind: 'training', url: '/learn/workflows', triggers: ['workflow_failures'] },
  { key: 'office-hours', title: 'Book a pairing session with an expert', kind: 'help', url: '/learn/office-hours', triggers: ['score_drop', 'bottom_of_department'] },
];

export const pgMigrations: PgMigration[] = [
  {
    name: '0001_adoption',
    async up(knex, schema) {
      // a fresh builder per table: a knex SchemaBuilder replays every statement it has queued when awaited again
      const s = { createTable: (name: string, fn: (t: import('knex').Knex.CreateTableBuilder) => void) => knex.schema.withSchema(schema).createTable(name, fn) };
      // one row per user per day: rerunning a day overwrites it (idempotent jobs)
      await s.createTable('adoption_scores', (t) => {
        t.string('user_id', 64).notNullable();
        t.date('day').notNullable();
        t.float('score').notNullable();
        t.float('frequency').notNullable();
        t.float('diversity').notNullable();
        t.float('success').notNullable();
        t.float('workflow').notNullable();
        t.float('percentile');
        t.jsonb('departments').notNullable().defaultTo('[]');
        t.jsonb('features').notNullable().defaultTo('{}');
        t.timestamp('computed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(['user_id', 'day']);
        t.index(['day']);
      });
      await s.createTable('adoption_flags', (t) => {
        t.uuid('id').primary();
        t.string('user_id', 64).notNullable().index();
        t.string('status', 12).notNullable();
        t.date('raised_day').notNullable();
        t.date('resolved_day');
        // what raised the flag (kept as it was) and what the latest run still sees
        t.jsonb('triggers').notNullable();
        t.jsonb('signals').notNullable();
        t.jsonb('latest_triggers');
        t.jsonb('latest_signals');
        t.jsonb('departments').notNullable().defaultTo('[]');
        t.jsonb('notifications');
        t.timestamp('raised_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('resolved_at', { useTz: true });
      });
      // at most one open flag per user, even if two scoring runs race
      await knex.raw(`CREATE UNIQUE INDEX adoption_flags_one_open ON ??.adoption_flags (user_id) WHERE status = 'open'`, [schema]);
      // users with new events since their last scoring (the near-real-time queue; survives restarts)
      await s.createTable('adoption_dirty', (t) => {
        t.string('user_id', 64).primary();
        t.timestamp('marked_at', { useTz: true }).notNullable();
        t.timestamp('first_event_at', { useTz: true });
      });
      await s.createTable('adoption_interventions', (t) => {
        t.uuid('id').primary();
        t.string('key', 80).notNullable().unique();
        t.string('title', 300).notNullable();
        t.string('kind', 20).notNullable();
        t.string('url', 1000);
        t.text('description');
        t.jsonb('triggers').notNullable();
        t.boolean('enabled').notNullable().defaultTo(true);
        t.integer('position').notNullable().defaultTo(0);
      });
      await s.createTable('adoption_assignments', (t) => {
        t.uuid('id').primary();
        t.uuid('flag_id').notNullable().index();
        t.string('user_id', 64).notNullable().index();
        t.uuid('intervention_id').notNullable();
        t.date('assigned_day').notNullable();
        t.timestamp('shown_at', { useTz: true });
        t.timestamp('followed_at', { useTz: true });
        t.timestamp('dismissed_at', { useTz: true });
        t.unique(['flag_id', 'intervention_id']);
      });
      await s.createTable('adoption_expertise', (t) => {
        t.string('user_id', 64).primary();
        t.date('day').notNullable();
        t.jsonb('reasons').notNullable();
        t.timestamp('recorded_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      await knex
        .withSchema(schema)
        .table('adoption_interventions')
        .insert(DEFAULT_INTERVENTIONS.map((d, i) => ({ id: globalThis.crypto.randomUUID(), ...d, triggers: JSON.stringify(d.triggers), position: i })));
    },
    async down(knex, schema) {
      for (const t of ['adoption_expertise', 'adoption_assignments', 'adoption_interventions', 'adoption_dirty', 'adoption_flags', 'adoption_scores'])
        await knex.schema.withSchema(schema).dropTableIfExists(t);
    },
  },
  {
    name: '0002_flag_kinds',
    async up(knex, schema) {
      // the kind of support need and its severity (kept current by every run), and the hold of
      // flags raised by a back-fill or a threshold change until an Admin confirms them
      await knex.schema.withSchema(schema).alterTable('adoption_flags', (t) => {
        t.string('kind', 16);
        t.float('severity');
        t.string('pending', 16);
      });
      await knex.raw(`CREATE INDEX adoption_flags_pending ON ??.adoption_flags (pending) WHERE pending IS NOT NULL`, [schema]);
    },
    async down(knex, schema) {
      await knex.schema.withSchema(schema).alterTable('adoption_flags', (t) => {
        t.dropColumn('kind');
        t.dropColumn('severity');
        t.dropColumn('pending');
      });
    },
  },
];
