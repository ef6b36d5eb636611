// Used by esm-to-cjs.babel.js; a file of its own because Jest passes transformer options to its workers as JSON.

/** `import.meta.url` → the file's URL from `__filename` (no `require`: modules may shadow it). */
module.exports = function importMetaUrl({ types: t }) {
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
};
