// One ESLint config for every package (each runs `eslint .` from its folder) and the root scripts: typescript-eslint's
// type-checked rules, with formatting left to Prettier.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', '**/test-output/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `_`-prefixed names are deliberately unused (a field left out of a copy by destructuring).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // `async` is how a function says it returns a promise (handlers, probes, close steps), with or without an await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests read untyped JSON (HTTP bodies, job data, log lines) and assert on it with expect's any-typed matchers.
    files: ['**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // http.createServer(app.callback()) is how Koa apps are served in tests; Koa settles each request itself.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
    },
  },
  {
    // Plain JavaScript (scripts, bench) has no types to check against, and the tool configs are outside the projects.
    files: ['**/*.js', '**/*.mjs', '**/vitest.config.ts', 'vitest.shared.ts', 'kysely.config.ts'],
    ...tseslint.configs.disableTypeChecked,
  },
  prettier,
);
