/**
 * Jest runs TypeScript as native ESM (hence `--experimental-vm-modules` in `npm test`).
 * ts-jest transpiles only (isolatedModules): `npm run typecheck` is the type check.
 *
 * Two projects, so that each global setup runs only when a test of its project is selected:
 * - `default` (unit and integration tests): worker threads cannot load .ts, so the pipeline thread's
 *   sources are compiled for runInThread first.
 * - `e2e` (test/e2e): the tests start `node dist/src/main.js` processes, so dist/ is rebuilt first
 *   when any source under src/ or migrations/ is newer than its output (a no-op after `npm ci`).
 * - `e2e-s3`: the service e2e suite (uploads, download links, bad uploads, cancel, files removed)
 *   once more with every process on `STORAGE_BACKEND=s3`, against a loopback S3 server the test
 *   starts (test/support/object-store.ts). Only this suite: the s3 backend's own cases (contract,
 *   reconciler, result cache, an object store that stops mid-job) run in the default project, so the
 *   second pass costs one suite's time, not the whole e2e run's.
 * @type {import('jest').Config}
 */
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, isolatedModules: true, diagnostics: false }],
  },
};

export default {
  testTimeout: 60_000,
  projects: [
    {
      ...common,
      displayName: 'default',
      roots: ['<rootDir>/src', '<rootDir>/test'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/e2e/'],
      globalSetup: '<rootDir>/test/support/build-thread.global-setup.ts',
    },
    {
      ...common,
      displayName: 'e2e',
      roots: ['<rootDir>/test/e2e'],
      globalSetup: '<rootDir>/test/support/dist-build.global-setup.ts',
    },
    {
      ...common,
      displayName: 'e2e-s3',
      roots: ['<rootDir>/test/e2e'],
      testMatch: ['**/service.e2e.test.ts'],
      setupFiles: ['<rootDir>/test/support/s3-backend.setup.ts'],
      globalSetup: '<rootDir>/test/support/dist-build.global-setup.ts',
    },
  ],
};
