// esbuild inject: `import.meta.url` inside the CommonJS bundles means the bundle file itself.
// (`require` and `__filename` are those of the CommonJS bundle this text is inlined into.)
/* global require, __filename */
export const importMetaUrl = require('node:url').pathToFileURL(__filename).href;
