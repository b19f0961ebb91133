import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'helm/', 'coverage/', 'reports/', '.stryker-tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'sim/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // assert.ok(value) and assert(value) without a message: when they fail, Node.js makes the message from
    // the source of the call, which under tsx is at best the call's first line ("assert.ok(") and on
    // Node.js 20 can block the test for minutes (docs/development.md, "Assertion messages").
    files: ['test/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression[callee.object.name='assert'][callee.property.name='ok'][arguments.length<2]",
          message:
            'assert.ok needs a message saying what was expected (docs/development.md, "Assertion messages").',
        },
        {
          selector: "CallExpression[callee.name='assert'][arguments.length<2]",
          message:
            'assert() needs a message saying what was expected (docs/development.md, "Assertion messages").',
        },
      ],
    },
  },
  {
    // The watchdog's worker thread (test/helpers/watchdog-worker.mjs): plain JavaScript, started without tsx.
    files: ['test/**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setTimeout: 'readonly',
        TextDecoder: 'readonly',
      },
    },
  },
  {
    // The mutation-test scripts: plain Node.js modules that print the scores.
    files: ['stryker/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: { 'no-console': 'off' },
  },
  prettier,
);
