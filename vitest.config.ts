import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'libs/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // the cluster suites spawn processes; two cores, so keep files from piling up
    fileParallelism: true,
    maxWorkers: 2,
  },
});
