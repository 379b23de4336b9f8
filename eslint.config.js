// Lint rules that carry the house rules: process.env only in config and entry files, node:
// imports, type-only imports, no console outside entry files; type-aware: no floating or misused
// promises, exhaustive switches.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'layer/dist/**', '**/fixtures/**'] },
  js.configs.recommended,
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', performance: 'readonly' } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', exports: 'writable', __filename: 'readonly', __dirname: 'readonly', process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
  },
  ...tseslint.configs.recommended,
  { files: ['**/*.cjs', 'layer/src/import-meta-url.mjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  {
    files: ['packages/*/src/**/*.ts', 'packages/*/test/**/*.ts', 'test/src/**/*.ts', 'test/test/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test() returns a promise the runner awaits itself.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', { selector: 'ExportAllDeclaration', message: 'export names explicitly' }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'only the config package and entry files read process.env' }],
      'no-console': 'error',
    },
  },
  {
    // Entry files (CLIs, worker and process entries), the config package and tests may use these.
    files: ['**/src/cli.ts', '**/src/bin/**', '**/src/runtime-client/**', 'packages/config/**', '**/test/**', 'bench/**', 'scripts/**'],
    rules: { 'no-restricted-properties': 'off', 'no-console': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
);
