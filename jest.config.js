/**
 * Jest runs TypeScript as native ESM (hence `--experimental-vm-modules` in `npm test`).
 * ts-jest transpiles only (isolatedModules): `npm run typecheck` is the type check.
 *
 * Two projects, so that each global setup runs only when a test of its project is selected:
 * - `default` (unit and integration tests): worker threads cannot load .ts, so the pipeline thread's
 *   sources are compiled for runInThread first.
 * - `e2e` (test/e2e): the tests start `node dist/src/main.js` processes, so dist/ is rebuilt first
 *   when any source under src/ or migrations/ is newer than its output (a no-op after `npm ci`).
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
  ],
};
