import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Modules the pure audio core must never reach for: it takes typed arrays and returns plain data. */
const IMPURE_MODULES = [
  'fs',
  'node:fs',
  'fs/promises',
  'node:fs/promises',
  'child_process',
  'node:child_process',
  'net',
  'node:net',
  'http',
  'node:http',
  'https',
  'node:https',
  'worker_threads',
  'node:worker_threads',
  'winston',
  'ioredis',
  'bee-queue',
  '@mikro-orm/core',
  '@mikro-orm/postgresql',
];

/**
 * The layers outside the audio core, as a relative import from inside src/audio spells them. The core
 * is the innermost layer (audio ← platform ← modules ← graphql / worker / cli ← main): it owns the
 * errors its stages throw (src/audio/errors.ts) and defines ports such as `CompressedDecoder` that the
 * shell implements, so it never needs to import the shell.
 */
const OUTER_LAYERS = /^(\.\.\/)+(platform|modules|graphql|worker|cli|generated|main\.js|services\.js)(\/|$)/.source;

/**
 * Layers point one way: audio ← platform ← modules ← graphql / worker / cli ← main (main.ts and the
 * composition root services.ts). Each layer lists the layers it must not import; src/audio has its
 * own rule above. Relative imports only (the code uses no path aliases).
 */
const LAYERS = {
  platform: ['modules', 'worker', 'graphql', 'cli'],
  modules: ['worker', 'graphql', 'cli'],
  worker: ['graphql', 'cli'],
  graphql: ['worker', 'cli'],
  cli: ['worker', 'graphql'],
};

/** no-restricted-imports patterns that keep `layer` off the layers above it and off the composition root. */
function layerPatterns(layer) {
  return [
    ...LAYERS[layer].map((above) => ({
      regex: `^(\\.\\./)+${above}(/|$)`,
      message: `Layers point one way (audio ← platform ← modules ← graphql/worker/cli ← main): src/${layer} must not import src/${above}.`,
    })),
    {
      regex: '^(\\.\\./)+(main|services)\\.js$',
      message: `src/${layer} must not import the entry point or the composition root (src/main.ts, src/services.ts).`,
    },
  ];
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'docs/examples/**', 'src/generated/**', 'web/src/generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['bin/**/*.js', 'scripts/**/*.js', '*.config.js', 'test/**/*.mjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', AbortController: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
  },
  {
    // Principle 1 of CONVENTIONS.md: pure core, I/O shell.
    files: ['src/audio/**/*.ts'],
    ignores: ['src/audio/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: IMPURE_MODULES.map((name) => ({ name, message: 'src/audio is pure: no I/O here; the CLI and worker feed it bytes.' })),
          patterns: [
            {
              regex: OUTER_LAYERS,
              message:
                'src/audio is the innermost layer: it may not import src/platform (or any layer outside it); errors live in src/audio/errors.ts.',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'No clock in src/audio: pass times in.' },
        { object: 'Math', property: 'random', message: 'No unseeded randomness in src/audio: use the seeded PRNG.' },
        { object: 'performance', property: 'now', message: 'No clock in src/audio: the caller times stages.' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'No environment in src/audio.' },
        { name: 'console', message: 'No logging in src/audio.' },
      ],
    },
  },
  ...Object.keys(LAYERS).map((layer) => ({
    files: [`src/${layer}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: layerPatterns(layer) }] },
  })),
);
