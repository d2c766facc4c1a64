import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources, so tests need no build step. Tests run
  // in vite's server-side environment, whose resolver takes its conditions from `ssr`.
  resolve: { conditions: ['@envworker/source'] },
  ssr: { resolve: { conditions: ['@envworker/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'bench/test/**/*.test.ts'],
    // The JSON report is what .ci/run reads for its summary line.
    reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
