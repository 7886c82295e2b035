import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

export default defineConfig({
  // Single-file components for the renderer's component tests (test/components.test.ts).
  plugins: [vue()],
  test: {
    include: ['test/**/*.test.ts'],
    // Each file gets its own process: tfjs keeps one global backend per process.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
