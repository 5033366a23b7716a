/**
 * Exports and scheduled reports: every dataset out as streamed CSV, JSON and
 * NDJSON with no row cap, background export jobs with progress, and the
 * audit record of each export. See README.md.
 */
import { cohortFilterRef, definePlugin, exportSourceRef, metricSourceRef, need, trendsRef } from '@orrery/plugin-sdk';
import { pgMigrations } from './migrations.ts';
import { EXPORT_PERMISSION, registerStreamRoutes } from './routes/stream.ts';
import { registerJobRoutes, registerJobHousekeeping } from './routes/jobs.ts';
import { registerPdfRoutes } from './routes/pdf.ts';
import { REPORTS_PERMISSION, registerReportRoutes } from './reports.ts';
import { ARCHIVE_PERMISSION, registerArchiveRoutes } from './archive.ts';
import { pages, widgets } from '../widgets.ts';

export interface ExportsConfig {
  /** folder for background exports' files; default `<ORRERY_DATA_DIR or ./data>/exports` */
  dir?: string;
  /** rows read from ClickHouse per page of an export (memory per export is about one page) */
  pageRows?: number;
  /** rows per page of an events CSV that ClickHouse writes as text; default 5 × pageRows */
  csvPageRows?: number;
  /** the Chromium that draws PDFs; default CHROMIUM_PATH or /usr/bin/chromium */
  chromiumPath?: string;
  /** where the portal is reached from this node, for renders no request asked for; default: the last request's host */
  portalUrl?: string;
}

export default definePlugin<ExportsConfig>({
  from: import.meta.url,
  id: 'exports',
  version: '1.0.0',
  sdk: '^2.0.0',
  title: 'Exports and reports',
  description: 'Events and plugin datasets as streamed CSV, JSON and NDJSON, background export jobs with progress, audited',
  routePrefix: 'export',
  extraRoutePrefixes: ['reports'],
  permissions: { [EXPORT_PERMISSION]: ['Admin', 'Manager', 'Developer'], [REPORTS_PERMISSION]: ['Admin', 'Manager'], [ARCHIVE_PERMISSION]: ['Admin'] },
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { dir: { type: 'string', minLength: 1 }, pageRows: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 20_000 },
      csvPageRows: { type: 'integer', minimum: 1, maximum: 5_000_000 },
      chromiumPath: { type: 'string', minLength: 1 },
      portalUrl: { type: 'string', pattern: '^https?://' },
    },
  },
  migrations: { pg: pgMigrations },
  // every plugin's tables as datasets beside `events` (backend/provided.ts)
  // and, for the support and executive reports (backend/kinds.ts), metrics, cohorts and trends
  needs: [
    need(exportSourceRef, '^1.0.0', { optional: true }),
    need(metricSourceRef, '^1.0.0', { optional: true }),
    need(cohortFilterRef, '^1.0.0', { optional: true }),
    need(trendsRef, '^1.0.0', { optional: true }),
  ],
  frontend: { remoteName: 'exports', distDir: './frontend/dist', widgets, pages },
  register(env) {
    registerStreamRoutes(env);
    registerJobRoutes(env);
    registerPdfRoutes(env);
    registerReportRoutes(env);
    registerJobHousekeeping(env);
    registerArchiveRoutes(env);
  },
});
