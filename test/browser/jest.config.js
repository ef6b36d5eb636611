const base = require('../jest.base.js');

/**
 * Browser journeys: the real app in-process, driven by Debian's Chromium through playwright-core
 * (never a downloaded browser). `npm run test:browser` runs them one file at a time (--runInBand).
 */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/browser'],
  testRegex: '.*\\.browser-spec\\.ts$',
  testTimeout: 120000,
};
