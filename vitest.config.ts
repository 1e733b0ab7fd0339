import { configDefaults, defineConfig } from 'vitest/config';

// The conformance suite (issue 16): store and scheduler tests written once against the store contract
// (src/store/conn.ts), run on both engines. test/integration/engine.ts hands each test its engine.
const CONFORMANCE = ['test/integration/store/**/*.test.ts', 'test/integration/scheduler/**/*.test.ts'];

export default defineConfig({
  test: {
    // The e2e suite shares one Asterisk and fixed SIP ports: files run one at a time.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'sqlite', include: CONFORMANCE, env: { CALLBACKD_TEST_ENGINE: 'sqlite' } },
      },
      {
        extends: true,
        test: {
          name: 'pg',
          include: CONFORMANCE,
          env: { CALLBACKD_TEST_ENGINE: 'pg' },
          // One PostgreSQL cluster per run, a migrated template database (CI=true: no cluster = failure).
          globalSetup: ['test/lab/pg-global.ts'],
          setupFiles: ['test/lab/pg-skip.ts'],
        },
      },
      {
        extends: true,
        test: { name: 'rest', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...CONFORMANCE] },
      },
    ],
  },
});
