/**
 * What the benches share: the kernel started the way the tests start it (embedded stores in a
 * temp folder, port 0), with logs at `warn` so log writing does not sit in the figures, and
 * the seeded generator, so every run measures the same data.
 */
import { startTestBackend, type StartOptions, type TestBackend } from '@orrery/backend-test-utils';

export { rng } from '@orrery/backend-test-utils/random';
export { freePort } from '@orrery/backend-test-utils/net';

/** startTestBackend with bench defaults (`server.logLevel: 'warn'`); `opts.config` is merged over them. */
export function startBenchBackend(opts: StartOptions = {}): Promise<TestBackend> {
  const config = (opts.config ?? {}) as Record<string, any>;
  return startTestBackend({ ...opts, config: { ...config, server: { logLevel: 'warn', ...(config.server ?? {}) } } });
}
