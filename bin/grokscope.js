#!/usr/bin/env node
// The CLI runs from the compiled dist/ (built by `npm install` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/main/cli/index.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write("grokscope: not built yet; run 'npm install' (or 'npm run build:node') in the project folder\n");
  process.exit(1);
}
await import(entry.href);
