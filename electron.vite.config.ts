import { defineConfig, externalizeDepsPlugin } from 'electron-vite';
import vue from '@vitejs/plugin-vue';
import { resolve } from 'node:path';

export default defineConfig({
  main: {
    plugins: [externalizeDepsPlugin()],
    build: { rollupOptions: { input: { index: resolve(__dirname, 'main/electron/index.ts') } } },
  },
  preload: {
    plugins: [externalizeDepsPlugin()],
    // One CommonJS file: a sandboxed preload cannot be an ES module (electron-vite would write
    // index.mjs for a "type": "module" package) nor load files beside it; main names index.cjs.
    build: { rollupOptions: { input: { index: resolve(__dirname, 'preload/index.ts') }, output: { format: 'cjs', entryFileNames: '[name].cjs' } } },
  },
  renderer: {
    root: resolve(__dirname, 'renderer'),
    build: { rollupOptions: { input: { index: resolve(__dirname, 'renderer/index.html') } } },
    plugins: [vue()],
  },
});
