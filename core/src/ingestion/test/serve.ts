/**
 * A platform process on embedded stores for the crash test: prints one JSON
 * line with its URL once it listens, stops cleanly on SIGTERM.
 * Env: DATA_DIR (required), ADMIN_PASSWORD.
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
      ingestion: { batchSize: Number(process.env.BATCH_SIZE ?? 2000), maxDelayMs: Number(process.env.MAX_DELAY_MS ?? 10) },
    },
  },
  pluginRoots: [],
  modules: extraModules(),
});
const url = await kernel.listen();
process.stdout.write(JSON.stringify({ url, org: kernel.bootstrap?.org.id }) + '\n');
process.on('SIGTERM', () => void kernel.close().then(() => process.exit(0), () => process.exit(1)));
