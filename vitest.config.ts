import { defineConfig } from 'vitest/config';

// One suite; slow tiers are separate files so a newcomer can run one folder at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // The golden model spawns its own worker threads; two vitest workers on a 2-core box is plenty.
    maxWorkers: 2,
  },
});
