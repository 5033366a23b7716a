/**
 * `npm start`: the platform on whatever app-config.yaml and the environment
 * say (embedded stores by default), with demo data on a first start, kept current on later ones.
 */
import { createKernel } from './kernel.ts';
import { loadDemoData } from './demo/load.ts';
import { catchUpDemoData } from './demo/catchUp.ts';
import { stopOnSignals } from './stopOnSignals.ts';

const started = Date.now();
let kernel: Awaited<ReturnType<typeof createKernel>>;
try {
  kernel = await createKernel();
} catch (err) {
  // a config error is one line naming the key; anything else gets its message, not a stack
  console.error(`orrery: cannot start: ${(err as Error).message}`);
  process.exit(1);
}
const { config, services } = kernel;
if (kernel.bootstrap?.created && config.bootstrap.demoData) {
  const t = Date.now();
  const n = await loadDemoData(services, kernel.bootstrap.org);
  // then each plugin's own examples over those events (an experiment, …), through the SDK
  const seeded = await services.pluginHost.seedDemoData(kernel.bootstrap.org, { from: n.from, to: n.to });
  const examples = seeded.filter((x) => x.ok).map((x) => x.description);
  console.log(`orrery: loaded demo data: ${n.users} people in ${n.departments} departments, ${n.events.toLocaleString('en')} events${examples.length ? `; ${examples.join(', ')}` : ''} (${Date.now() - t} ms)`);
}
const url = await kernel.listen();
const modes = [
  `database=${services.storage.mode === 'embedded' ? 'PGlite (embedded)' : 'PostgreSQL'}`,
  `analytics=${services.analytics.mode === 'embedded' ? 'chDB (embedded)' : 'ClickHouse server'}`,
  `bus=${services.bus.mode}`,
];
console.log(`orrery: listening on ${url} (${modes.join(', ')}; data in ${config.storage.dataDir}) — ready in ${Date.now() - started} ms`);
if (kernel.bootstrap?.created) {
  console.log(`orrery: first start — organization "${kernel.bootstrap.org.slug}", admin ${kernel.bootstrap.email}`);
  if (kernel.bootstrap.password) console.log(`orrery: admin password (shown once): ${kernel.bootstrap.password}`);
}

// a later start brings the demo org's data up to today, after the port is open: the days since
// it was last written, so "Last 7 days" is not empty a week after the first start
if (kernel.bootstrap && !kernel.bootstrap.created && config.bootstrap.demoData) {
  const org = kernel.bootstrap.org;
  const t = Date.now();
  catchUpDemoData(services, org).then(
    (n) => {
      if (!n?.events) return;
      services.pluginHost.dataChanged(org.id);
      console.log(`orrery: demo data brought up to date: ${n.events.toLocaleString('en')} events since ${n.from.toISOString()} (${Date.now() - t} ms)`);
    },
    (err: Error) => console.error(`orrery: the demo data could not be brought up to date: ${err.message}`),
  );
}

stopOnSignals(() => kernel.close());
