// esbuild inject: `import.meta.url` inside the CommonJS bundles means the bundle file itself.
export const importMetaUrl = require('node:url').pathToFileURL(__filename).href;
