/**
 * Jest runs TypeScript as native ESM (hence `--experimental-vm-modules` in `npm test`).
 * ts-jest transpiles only (isolatedModules): `npm run typecheck` is the type check.
 * @type {import('jest').Config}
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, isolatedModules: true, diagnostics: false }],
  },
  testTimeout: 60_000,
  // Worker threads cannot load .ts: compile the pipeline thread's sources for runInThread first.
  globalSetup: '<rootDir>/test/support/build-thread.global-setup.ts',
};
