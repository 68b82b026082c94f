import { defineConfig } from 'vitest/config';

// The bench's own test runs the whole bench once in --quick mode (about 30 s), so it gets a long timeout.
export default defineConfig({
  test: {
    include: ['test/**/*.test.js'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 30_000,
  },
});
