// ESLint flat config for the whole repository: typescript-eslint's recommended rules, not
// type-aware (fast: no program is built). Each workspace's `lint` script runs `eslint .` and finds
// this file; `npm run lint` runs them all through turbo.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', '**/artifacts/**', '**/.turbo/**', '**/*.d.ts'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_name` marks a deliberately unused parameter or destructured field.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // Kubernetes objects and parsed JSON are `unknown` at the edges; tests poke at them with `any`.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['**/test/**', '**/*.test.ts', '**/*.test.tsx'],
    languageOptions: { globals: { ...globals.jest } },
  },
  {
    // Plain CommonJS scripts, benches and configs.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['apps/grafana-panel/src/**', 'apps/grafana-panel/test/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
