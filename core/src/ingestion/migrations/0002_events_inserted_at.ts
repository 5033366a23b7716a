import type { ChMigration } from '@orrery/plugin-sdk';

/**
 * When ClickHouse stored each event: the watermark of the rollup folds (core/src/rollups).
 * Neither the event's `timestamp` (events arrive late) nor `received_at` (stamped before the
 * event waits in the ingestion log) says whether a row was already there when a fold ran;
 * `inserted_at` is set by ClickHouse at insert (`DEFAULT now64(3)`, no writer sends it).
 *
 * Rows stored before this column existed take their `received_at`, written once (a column
 * added with `DEFAULT now64(3)` would read as "now" on every query). The minmax index lets a
 * fold or a fresh-rows read skip the granules of parts written before the watermark.
 */
export const eventsInsertedAt: ChMigration = {
  name: '0002_events_inserted_at',
  statements: [
    `ALTER TABLE {db}.events{cluster} ADD COLUMN IF NOT EXISTS inserted_at DateTime64(3, 'UTC') DEFAULT received_at`,
    `ALTER TABLE {db}.events{cluster} MATERIALIZE COLUMN inserted_at SETTINGS mutations_sync = 2`,
    `ALTER TABLE {db}.events{cluster} MODIFY COLUMN inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)`,
    `ALTER TABLE {db}.events{cluster} ADD INDEX IF NOT EXISTS inserted_at_minmax inserted_at TYPE minmax GRANULARITY 1`,
  ],
};
