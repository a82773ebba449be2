import { defineConfig } from 'vitest/config';

// Tests in layers (STYLE.md): `unit` is pure (deciders, checkers, scenario loading, the embedded
// engine, the architecture) and has no global setup, so it runs with no Redis and no build:
// `npm run test:unit`. `integration` is everything else: Redis suites, the CLI as a process, the
// cluster suites, and the slow engine runs at the size limits; test/support/global-setup.ts gives them
// one Redis. `npm test` runs both.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // the cluster suites spawn processes; two cores, so keep files from piling up
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.unit.test.ts', 'libs/**/*.unit.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts', 'libs/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/*.unit.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
