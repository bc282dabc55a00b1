'use strict';
// ESLint flat config for the Service Bus emulator (run by `make lint`).

const js = require('@eslint/js');
const globals = require('globals');

module.exports = [
  { ignores: ['node_modules/**'] },
  js.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'commonjs',
      globals: globals.node,
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'no-unused-vars': ['error', { args: 'after-used', argsIgnorePattern: '^_', caughtErrors: 'all' }],
      eqeqeq: ['error', 'always'],
      'no-var': 'error',
      'prefer-const': 'error',
      strict: ['error', 'global'],
      'no-shadow': 'error',
      'no-implicit-globals': 'error',
      'no-throw-literal': 'error',
      'no-return-assign': 'error',
      'no-constant-binary-expression': 'error',
      'consistent-return': 'error',
    },
  },
];
