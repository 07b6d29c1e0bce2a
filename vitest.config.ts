import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Temporal's worker uses native threads that vitest's thread pool cannot host.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    // One set of services (Temporal, PostgreSQL, MariaDB, S3) and one workflow bundle per run.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
