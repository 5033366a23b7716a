import type { ChMigration } from '@orrery/plugin-sdk';

/**
 * The ingestion loader inserts each range of its log with an
 * `insert_deduplication_token`; a range inserted again after a crash between
 * the insert and the loader's position commit must then be dropped. A
 * replicated table keeps the hashes of its recent blocks by default
 * (`replicated_deduplication_window`); a plain MergeTree keeps none unless told,
 * so the embedded and single-server table keeps the last 10,000 blocks (far
 * more than the loader can have in flight).
 */
export const eventsInsertDedup: ChMigration = {
  name: '0003_events_insert_dedup',
  statements: [`ALTER TABLE {db}.events{cluster} MODIFY SETTING non_replicated_deduplication_window = 10000`],
};
