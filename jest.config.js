const base = require('./test/jest.base.js');

/** Unit tests beside the code (src/**\/*.spec.ts) and e2e tests (test/e2e) on real SQLite files. */
module.exports = {
  ...base,
  roots: ['<rootDir>/src', '<rootDir>/test/e2e'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  testTimeout: 30000,
  maxWorkers: 2,
};
