/**
 * The fuzz tier (`npm run test:fuzz`, also run by .ci/run): OpenAPI-driven fuzzing of every operation with
 * schemathesis, and malformed bodies sent to every operation that takes one, against the API and worker run
 * as processes on the same kind of servers as `npm test` (test/fuzz/README.md).
 * @type {import('jest').Config}
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/fuzz/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  // The fuzzer and the processes it attacks already share the two cores.
  maxWorkers: 1,
  testTimeout: 600_000,
};
