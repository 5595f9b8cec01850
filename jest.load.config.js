/**
 * The load tier (`npm run test:load`, also run by .ci/run after `npm test`): the tests marked with
 * `loadTest` (test/support/tiers.ts) wherever they live, and test/load/. Same servers as `npm test`.
 * @type {import('jest').Config}
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/', '<rootDir>/test/fuzz/'],
  globals: { convoflowTestTier: 'load' },
  testNamePattern: '\\[load\\]',
  testTimeout: 240_000,
};
