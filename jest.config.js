/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // test/cluster needs the multi-service cluster of jest.cluster.config.js (npm run test:cluster); test/load
  // and the tests marked loadTest belong to the load tier (jest.load.config.js, npm run test:load); test/fuzz
  // is the fuzz tier (jest.fuzz.config.js, npm run test:fuzz).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/', '<rootDir>/test/load/', '<rootDir>/test/fuzz/'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }],
    // openid-client and its two dependencies ship only ES modules, which Jest's module system (on Node
    // below 24.9) cannot require: compiled to CommonJS like our own files. Node itself loads them as they are.
    '/node_modules/(openid-client|oauth4webapi|jose)/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(openid-client|oauth4webapi|jose)/)'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // Server-backed tests share one Temporal dev server and one FerretDB; two workers fit two cores.
  maxWorkers: 2,
  testTimeout: 60_000,
};
