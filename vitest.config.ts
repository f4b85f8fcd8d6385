import { defineConfig } from 'vitest/config';

// Integration tests run twice: once on the real PostgreSQL server and once on embedded PGlite,
// the two databases aisre supports. Unit tests need neither and run once.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      // Some unit tests start the CLI as a child process, which takes seconds on a loaded machine;
      // projects do not inherit the root's timeouts.
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000 },
      },
      {
        test: {
          name: 'postgres',
          include: ['test/integration/**/*.test.ts'],
          env: { AISRE_TEST_DB: 'postgres' },
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'pglite',
          include: ['test/integration/**/*.test.ts'],
          env: { AISRE_TEST_DB: 'pglite' },
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
