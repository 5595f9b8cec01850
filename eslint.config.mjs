// Lint guards what the type checker cannot: floating promises, type-only imports, import cycles, and
// the workflow sandbox (STYLE habit 11): workflows/** imports no Node built-in, no database or HTTP
// library, and nothing from activities/, api/, worker/, store/ or infra/ except types.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);
const sandboxPaths = [...nodeBuiltins, 'mongodb', 'express', 'pino', '@temporalio/worker', '@temporalio/client', '@temporalio/activity'].map((name) => ({
  name,
  message: 'workflow code runs in the deterministic sandbox: no Node built-ins, IO libraries or non-workflow SDK packages',
}));
const outsideWorkflows = {
  group: ['**/activities/**', '**/api/**', '**/worker/**', '**/store/**', '**/infra/**'],
  allowTypeImports: true,
  message: 'workflow code may import only types from outside workflows/',
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'dist/**', 'coverage/**', 'bench/results/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'import-x/no-cycle': 'error',
      // STYLE habit 2: a switch over a union names every case, so a new case breaks the build where it
      // is not handled (a `default` does not count as handling it).
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: false }],
    },
  },
  {
    // Tests read JSON answers whose shape is the assertion itself.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: sandboxPaths, patterns: [outsideWorkflows] }],
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'setImmediate', 'process', 'require', 'Buffer'],
    },
  },
  {
    // STYLE habit 15: the pure core says by its folder that it needs no workflow. Nothing from the SDK
    // (not even types), no IO library, no Node built-in, and from the shell beside it (which defines the
    // messages with the SDK) only types. The worker shares every module here across workflows
    // (worker/worker.ts), which is safe only because of this rule.
    files: ['workflows/*/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: sandboxPaths,
          patterns: [
            outsideWorkflows,
            { group: ['@temporalio/*'], message: 'the pure core imports nothing from Temporal: it decides, the shell beside it talks to Temporal' },
            { regex: '^\.\./[^./][^/]*$', allowTypeImports: true, message: 'the core may import only types from the workflow shell beside it' },
          ],
        },
      ],
    },
  },
);
