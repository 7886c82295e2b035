import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

export default defineConfig({
  // Single-file components for the renderer's component tests (test/components.test.ts).
  plugins: [vue()],
  test: {
    include: ['test/**/*.test.ts'],
    // Each file gets its own process: tfjs keeps one global backend per process.
    pool: 'forks',
    // Two files at a time on the 2-core machines: vitest's default (cores − 1) ran the suite one
    // file after another, and many files wait on subprocesses, Chromium or Redis rather than
    // compute. Measured on a clean clone of b67e2e6: 725 s with two, about 1,000 s with one.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
