import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'data/**', '.tmp/**', '.exp/**', '.tmp-scaffold-*/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', fetch: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', performance: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', window: 'readonly', document: 'readonly', navigator: 'readonly', localStorage: 'readonly' } },
    rules: {
      // the kernel works with JSON rows and plugin-supplied shapes; `any` is used at those seams on purpose
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['**/*.tsx', 'plugin-sdk/src/frontend/**/*.ts', 'host-ui/src/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'warn' },
  },
  {
    // the SDK sits below the kernel: the kernel and its test harness import the SDK, never the reverse
    files: ['plugin-sdk/**/*.{ts,tsx,mjs}'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/core/**', '@orrery/core', '@orrery/core/*', '@orrery/backend-test-utils'], message: 'the SDK never imports the kernel (@orrery/core) or the test harness (@orrery/backend-test-utils)' }] }],
    },
  },
  {
    // plugins reach the platform only through the SDK
    files: ['plugins/**/*.{ts,tsx}', 'core/test/fixtures/plugins/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/core/**', '@orrery/core', '@orrery/core/*'], message: 'plugins import @orrery/plugin-sdk only' },
            { group: ['@orrery/plugin-sdk/testing'], message: 'the test harness moved to @orrery/backend-test-utils' },
          ],
        },
      ],
    },
  },
  {
    // and their code never reaches the kernel's tables (their tests may inspect rows through the harness)
    files: ['plugins/*/backend/**/*.ts', 'plugins/*/widgets.ts', 'core/test/fixtures/plugins/*/backend/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[property.name='knex']", message: 'raw knex is not part of the SDK: use ctx.db.table / ctx.db.raw for your tables, ctx.directory for people' },
        { selector: "CallExpression[callee.property.name='withSchema'][arguments.0.value='public']", message: "the public schema is the kernel's: use ctx.directory" },
        { selector: 'Literal[value=/\\bpublic\\s*\\.\\s*"?(users|memberships|orgs|plugin_settings|api_tokens|refresh_tokens|job_runs|invitations|user_identities)\\b/]', message: "the public schema is the kernel's: use ctx.directory" },
      ],
    },
  },
);
