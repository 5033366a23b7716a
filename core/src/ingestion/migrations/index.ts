/**
 * The events table's ClickHouse migrations, next to the ingestion that writes the table. The
 * kernel runs them first, as the set `kernel:events`, before every module's and plugin's set
 * (rollups and plugins' tables read `events`); names stay as first recorded in
 * `schema_migrations`, so a store migrated before the move sees nothing new to run.
 */
import type { ChMigration } from '@orrery/plugin-sdk';
import { events } from './0001_events.ts';
import { eventsInsertedAt } from './0002_events_inserted_at.ts';
import { eventsInsertDedup } from './0003_events_insert_dedup.ts';

export { events, eventsInsertedAt, eventsInsertDedup };
export const eventsMigrations: ChMigration[] = [events, eventsInsertedAt, eventsInsertDedup];
