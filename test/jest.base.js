const { resolve } = require('node:path');

const root = resolve(__dirname, '..');

/** ES-module-only packages that Jest must compile to CommonJS (see test/esm-to-cjs.babel.js). */
const ESM_PACKAGES = [
  '@nestjs',
  'otplib',
  '@otplib',
  '@noble',
  '@scure',
  'csrf-csrf',
  'file-type',
  'strtok3',
  'token-types',
  'uint8array-extras',
  '@tokenizer',
  'load-esm',
  '@borewit',
  'peek-readable',
  'intl-messageformat',
  '@formatjs',
];

/** Shared by the unit/e2e config and the browser config. */
const base = {
  testEnvironment: 'node',
  rootDir: root,
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: resolve(root, 'tsconfig.test.json') }],
    '^.+\\.m?js$': ['babel-jest', require('./esm-to-cjs.babel.js')],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_PACKAGES.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
};

module.exports = base;
