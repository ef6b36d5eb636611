// Jest on Node 20 cannot load ES modules with require(). NestJS 12, otplib 13 and a
// few others ship only ES modules, so Jest compiles them to CommonJS, `import()` and
// `import.meta.url` included. The built app needs none of this: Node 20 requires them natively.

module.exports = {
  babelrc: false,
  configFile: false,
  plugins: [
    require.resolve('./babel-plugin-import-meta.js'),
    '@babel/plugin-transform-dynamic-import',
    ['@babel/plugin-transform-modules-commonjs', { importInterop: 'node' }],
  ],
};
