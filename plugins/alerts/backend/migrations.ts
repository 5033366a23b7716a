/** The plugin's PostgreSQL tables, in each org's schema. */
import { randomUUID } from 'node:crypto';
import type { PgMigration } from '@orrery/plugin-sdk';

/** Contact points that read through to the org's notification settings (the kernel notifier's two URLs). */
export const ORG_NOTIFICATION_CONTACT_POINTS = [
  { name: 'Org Slack (notification settings)', type: 'org_slack' },
  { name: 'Org webhook (notification settings)', type: 'org_webhook' },
] as const;

export const pgMigrations: PgMigration[] = [
  {
    name: '0001_alerts',
    async up(knex, schema) {
      const s = () => knex.schema.withSchema(schema);
      await s().createTable('alert_contact_points', (t) => {
        t.uuid('id').primary();
        t.string('name', 200).notNullable().unique();
        t.string('type', 20).notNullable();
        t.jsonb('settings').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      await s().createTable('alert_rules', (t) => {
        t.uuid('id').primary();
        t.string('name', 200).notNullable();
        t.jsonb('query').notNullable();
        t.integer('window_seconds').notNullable();
        t.jsonb('condition').notNullable();
        t.integer('interval_seconds').notNullable();
        t.integer('for_seconds').notNullable().defaultTo(0);
        t.integer('keep_firing_for_seconds').notNullable().defaultTo(0);
        t.string('no_data', 20).notNullable();
        t.string('on_error', 20).notNullable();
        t.jsonb('labels').notNullable();
        t.jsonb('annotations').notNullable();
        t.jsonb('flapping');
        t.uuid('contact_point_id');
        // departments whose events the rule reads (null = all): the creator's visibility
        t.jsonb('department_scope');
        t.boolean('paused').notNullable().defaultTo(false);
        t.timestamp('deleted_at', { useTz: true });
        t.timestamp('next_eval_at', { useTz: true }).notNullable();
        t.uuid('created_by');
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      // the last evaluation of each rule, written for all rules of a round in one statement
      await s().createTable('alert_rule_runs', (t) => {
        t.uuid('rule_id').primary();
        t.timestamp('last_eval_at', { useTz: true }).notNullable();
        t.integer('last_eval_ms').notNullable();
        t.text('last_error');
      });
      await s().createTable('alert_instances', (t) => {
        t.uuid('rule_id').notNullable();
        t.string('fingerprint', 32).notNullable();
        t.jsonb('labels').notNullable();
        t.jsonb('annotations').notNullable();
        t.jsonb('machine').notNullable();
        t.string('state', 20).notNullable();
        // what routing sees: firing or resolved (frozen while the instance flaps)
        t.string('routed_status', 20).notNullable().defaultTo('resolved');
        t.double('value');
        t.timestamp('starts_at', { useTz: true });
        t.timestamp('ends_at', { useTz: true });
        t.timestamp('acked_at', { useTz: true });
        t.uuid('acked_by');
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(['rule_id', 'fingerprint']);
      });
      await s().createTable('alert_history', (t) => {
        t.bigIncrements('id');
        t.uuid('rule_id');
        t.string('fingerprint', 32);
        t.string('kind', 20).notNullable();
        t.string('from_state', 20);
        t.string('to_state', 20);
        t.double('value');
        t.jsonb('detail');
        t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.index(['rule_id', 'at']);
        t.index(['at']);
      });
      await s().createTable('alert_silences', (t) => {
        t.uuid('id').primary();
        t.jsonb('matchers').notNullable();
        t.timestamp('starts_at', { useTz: true }).notNullable();
        t.timestamp('ends_at', { useTz: true }).notNullable();
        t.text('comment').notNullable();
        t.uuid('created_by');
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
      await s().createTable('alert_groups', (t) => {
        t.string('key', 600).primary();
        t.string('route_path', 100).notNullable();
        t.uuid('contact_point_id').notNullable();
        t.jsonb('group_labels').notNullable();
        t.jsonb('timing').notNullable();
        // fingerprint → status last notified
        t.jsonb('sent').notNullable();
        t.timestamp('first_seen_at', { useTz: true }).notNullable();
        t.timestamp('last_flush_at', { useTz: true });
        t.timestamp('last_notified_at', { useTz: true });
        t.jsonb('escalated').notNullable().defaultTo('[]');
      });
      await s().createTable('alert_deliveries', (t) => {
        t.uuid('id').primary();
        t.bigIncrements('seq', { primaryKey: false });
        // one ordered queue per target: `cp:<id>` or `wh:<id>`
        t.string('target', 100).notNullable();
        t.string('channel', 20).notNullable();
        t.string('event', 100).notNullable();
        t.uuid('rule_id');
        t.text('body').notNullable();
        t.string('status', 20).notNullable();
        t.integer('attempts').notNullable().defaultTo(0);
        t.timestamp('next_attempt_at', { useTz: true }).notNullable();
        t.text('last_error');
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('sent_at', { useTz: true });
        t.index(['status', 'next_attempt_at']);
        t.index(['target', 'seq']);
      });
      await s().createTable('webhook_subscriptions', (t) => {
        t.uuid('id').primary();
        t.text('url').notNullable();
        t.jsonb('events').notNullable();
        t.text('secret');
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });
    },
  },
  {
    // the kernel notifier's per-org Slack and webhook URLs become contact points: they read the
    // URL from the org's settings at send time, and get retries, dead letters and history
    name: '0002_org_notification_contact_points',
    async up(knex, schema) {
      for (const cp of ORG_NOTIFICATION_CONTACT_POINTS) {
        await knex.withSchema(schema).table('alert_contact_points').insert({ id: randomUUID(), name: cp.name, type: cp.type, settings: JSON.stringify({}) }).onConflict('name').ignore();
      }
    },
  },
  {
    // rules over signals the platform publishes (data quality, support flags) instead of a metrics query
    name: '0003_alert_signals',
    async up(knex, schema) {
      await knex.schema.withSchema(schema).createTable('alert_signals', (t) => {
        t.bigIncrements('id');
        t.string('source', 40).notNullable();
        t.string('key', 200).notNullable();
        t.string('state', 20).notNullable();
        t.double('value');
        t.text('message');
        t.timestamp('at', { useTz: true }).notNullable();
        t.index(['source', 'key', 'at']);
      });
      await knex.schema.withSchema(schema).alterTable('alert_rules', (t) => {
        t.jsonb('source');
        t.jsonb('query').nullable().alter();
      });
    },
  },
];
