const base = require('../jest.base.js');

/**
 * npm run test:postgres (test/postgres/run.js): the e2e suite and the two-instance
 * specs (*.pg-spec.ts) on a throw-away PostgreSQL database named by TEST_DATABASE_URL.
 * One file at a time (--runInBand): every spec resets the database's `public` schema.
 */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/e2e', '<rootDir>/test/postgres'],
  testRegex: '.*\\.(e2e-spec|pg-spec)\\.ts$',
  testTimeout: 60000,
  maxWorkers: 1,
};
