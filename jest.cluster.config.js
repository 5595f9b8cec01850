/**
 * The cluster tier (`npm run test:cluster`, also run by .ci/run): the HTTP end-to-end suite and the fault
 * tests against a real multi-service Temporal cluster on PostgreSQL instead of the dev server.
 * @type {import('jest').Config}
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/api/**/*.test.ts', '<rootDir>/test/cluster/**/*.test.ts'],
  testPathIgnorePatterns: [],
  globalSetup: '<rootDir>/test/support/cluster-global-setup.ts',
  globalTeardown: '<rootDir>/test/support/cluster-global-teardown.ts',
  // Four server processes and PostgreSQL already share the two cores.
  maxWorkers: 1,
  testTimeout: 120_000,
};
