/**
 * A platform process on embedded stores for the crash tests: prints one JSON
 * line with its URL once it listens, stops cleanly on SIGTERM (printing the
 * loader's counters as a last JSON line).
 * Env: DATA_DIR (required), ADMIN_PASSWORD, PLUGINS=all (every first-party
 * plugin, as `npm start` runs), STOP_MERGES=1 (no background merges of the
 * events table, so a row inserted twice stays visible twice), BATCH_SIZE,
 * MAX_DELAY_MS, LOAD_BATCH_SIZE, plus the loader's crash hook
 * (ORRERY_TEST_CRASH_AFTER_INSERT, ORRERY_TEST_CRASH_AFTER_SEQ).
 */
import { createKernel } from '../../kernel.ts';
import { extraModules } from './helpers.ts';

const kernel = await createKernel({
  load: {
    file: '/nonexistent/app-config.yaml',
    overrides: {
      server: { host: '127.0.0.1', port: 0, logLevel: 'warn' },
      storage: { dataDir: process.env.DATA_DIR },
      bootstrap: { org: 'crash', adminEmail: 'admin@crash.local', adminPassword: process.env.ADMIN_PASSWORD ?? 'Crash-test-passw0rd!', demoData: false },
      ingestion: {
        batchSize: Number(process.env.BATCH_SIZE ?? 2000),
        maxDelayMs: Number(process.env.MAX_DELAY_MS ?? 10),
        loadBatchSize: Number(process.env.LOAD_BATCH_SIZE ?? 20000),
      },
    },
  },
  pluginRoots: process.env.PLUGINS === 'all' ? undefined : [],
  modules: extraModules(),
});
const { services } = kernel as unknown as { services: { analytics: { client: { command(q: { query: string }): Promise<unknown> }; database: string } } };
if (process.env.STOP_MERGES === '1') await services.analytics.client.command({ query: `SYSTEM STOP MERGES ${services.analytics.database}.events` });
const url = await kernel.listen();
process.stdout.write(JSON.stringify({ url, org: kernel.bootstrap?.org.id }) + '\n');
process.on('SIGTERM', () => {
  const ing = (kernel as unknown as { app: { ingestion?: { loader?: { stats: unknown } } } }).app?.ingestion;
  void kernel.close().then(() => {
    process.stdout.write(JSON.stringify({ loader: ing?.loader?.stats ?? null }) + '\n');
    process.exit(0);
  }, () => process.exit(1));
});
