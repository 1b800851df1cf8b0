import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'test-output/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // With noUncheckedIndexedAccess, `a[i]!` after a bounds check is the plain idiom.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // The CLI is a client of the compiler like any other: its public API, never its modules.
    files: ['src/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)compiler/(?!(onnx/)?index\\.js$)',
              message:
                "import the compiler's public API, compiler/index.js (compiler/onnx/index.js for the ONNX exporter)",
            },
          ],
        },
      ],
    },
  },
);
