// Jest on Node 20 cannot load ES modules with require(). NestJS 12, otplib 13 and a
// few others ship only ES modules, so Jest compiles them to CommonJS, `import()` and
// `import.meta.url` included. The built app needs none of this: Node 20 requires them natively.

/** `import.meta.url` → the file's URL from `__filename` (no `require`: modules may shadow it). */
function importMetaUrl({ types: t }) {
  return {
    visitor: {
      MetaProperty(path) {
        const parent = path.parentPath;
        if (path.node.meta.name !== 'import' || !parent.isMemberExpression()) return;
        if (parent.node.property.name === 'url') {
          parent.replaceWith(t.binaryExpression('+', t.stringLiteral('file://'), t.identifier('__filename')));
        } else if (parent.node.property.name === 'dirname') {
          parent.replaceWith(t.identifier('__dirname'));
        } else if (parent.node.property.name === 'filename') {
          parent.replaceWith(t.identifier('__filename'));
        }
      },
    },
  };
}

module.exports = {
  babelrc: false,
  configFile: false,
  plugins: [importMetaUrl, '@babel/plugin-transform-dynamic-import', ['@babel/plugin-transform-modules-commonjs', { importInterop: 'node' }]],
};
