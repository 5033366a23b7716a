import { defineConfig } from 'vitest/config';

// Each test file runs in its own process (forks): chDB binds one data folder
// per process, and a fresh process keeps kernels from sharing state.
export default defineConfig({
  test: {
    include: ['**/*.test.ts', '**/*.test.tsx'],
    // browser tests run when scripts/test.mjs found Chromium (it sets ORRERY_TEST_BROWSER)
    exclude: ['**/node_modules/**', '**/dist/**', 'data/**', '.tmp/**', ...(process.env.ORRERY_TEST_BROWSER ? [] : ['tests/browser/**'])],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
