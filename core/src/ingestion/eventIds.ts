/**
 * Event ids by org, sorted for point lookups: the store-side half of dedup
 * (is this id already stored?). The events table is sorted by type and time
 * for analytics, so an id lookup there reads a whole column; here it is a
 * primary-key search per part. A materialized view fills it in the same
 * insert as the events, so a committed event is always findable.
 */
import type { ChMigration } from '@orrery/plugin-sdk';

export const eventIdsTable: ChMigration = {
  name: '0002_event_ids',
  statements: [
    `CREATE TABLE IF NOT EXISTS {db}.event_ids{cluster} (
      org_id LowCardinality(String),
      event_id String,
      user_id String,
      received_at DateTime64(3, 'UTC')
    ) ENGINE = {engine:ReplacingMergeTree}
    ORDER BY (org_id, event_id)`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.event_ids_mv{cluster} TO {db}.event_ids
      AS SELECT org_id, event_id, user_id, received_at FROM {db}.events`,
  ],
};
