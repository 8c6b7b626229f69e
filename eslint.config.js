// ESLint flat config. The layer boundaries of STYLE.md are enforced here (no-restricted-imports,
// and eslint/core-folder-index.js between core/ folders); test/lint/boundaries.test.ts proves
// that each rule fires.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';
import coreFolderIndex from './eslint/core-folder-index.js';

const CORE_BOUNDARY = {
  paths: [
    { name: 'electron', message: 'core/ is plain TypeScript: no electron import.' },
    { name: 'react', message: 'core/ is plain TypeScript: no react import.' },
    { name: 'react-dom', message: 'core/ is plain TypeScript: no react-dom import.' },
  ],
  patterns: [
    { regex: '^(react|react-dom)/', message: 'core/ is plain TypeScript: no react import.' },
    { regex: '^(?!electron$)(.*/)?(renderer|electron)(/|$)', message: 'core/ must not import from renderer/ or electron/.' },
  ],
};

const RENDERER_BOUNDARY = {
  paths: [{ name: 'electron', message: 'The renderer talks to the main process only through the client (window.tidemark).' }],
  patterns: [
    {
      regex: '(^|/)core/(?!(api|query)(/|$))',
      message: 'renderer/ may import from core/ only core/api (contract types) and core/query (the DuckDB-wasm engine).',
    },
    { regex: '(^|/)electron/', message: 'renderer/ must not import from electron/.' },
    { regex: '^node:', message: 'renderer/ runs in a browser: no Node built-ins.' },
  ],
};

export default tseslint.config(
  {
    ignores: ['node_modules/', 'renderer/dist/', 'electron/dist/', 'dist/', 'test-results/', 'bench/results/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'off',
    },
  },
  { files: ['core/**/*.{ts,tsx}'], rules: { 'no-restricted-imports': ['error', CORE_BOUNDARY] } },
  {
    // Each core/ folder is used through its index.ts: what another folder may rely on is listed there.
    files: ['core/**/*.{ts,tsx}'],
    plugins: { tidemark: { rules: { 'core-folder-index': coreFolderIndex } } },
    rules: { 'tidemark/core-folder-index': 'error' },
  },
  { files: ['renderer/**/*.{ts,tsx}'], ignores: ['renderer/vite.config.ts'], rules: { 'no-restricted-imports': ['error', RENDERER_BOUNDARY] } },
  {
    // Hooks called in a stable order, and effects that name everything they read.
    files: ['renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
  {
    files: ['**/*.{js,mjs,cjs}', 'bin/*'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', __dirname: 'readonly' } },
  },
);
