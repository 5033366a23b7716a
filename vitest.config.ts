import { defineConfig } from 'vitest/config';

// Each test file runs in its own process (forks): chDB binds one data folder
// per process, and a fresh process keeps kernels from sharing state.
export default defineConfig({
  test: {
    include: ['**/*.test.ts', '**/*.test.tsx'],
    exclude: ['**/node_modules/**', '**/dist/**', 'data/**', '.tmp/**', 'tests/browser/**', ...(process.env.ORRERY_TEST_INCLUDE_BROWSER ? [] : [])],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
