import { defineConfig } from 'vitest/config';

/** Test settings every package shares: sources only (never the compiled copies in dist/), real services, generous timeouts. */
export const sharedTestConfig = defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['dist/**', 'node_modules/**'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Files share one Postgres and one Redis; they isolate by database and key, so they may run in parallel.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
