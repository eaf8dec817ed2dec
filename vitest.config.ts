import { defineConfig } from 'vitest/config';

export default defineConfig({
  // src/analysis/typescript.cts is CommonJS TypeScript; Vite's default leaves `.cts` out.
  esbuild: { include: /\.[cm]?tsx?$/ },
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // PGlite instances are large (hundreds of MB each); two forks suit the 2-core machines.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
