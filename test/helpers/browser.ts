import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { GrokscopeService } from '../../core/service/service.js';
import { createTrainingPool } from '../../core/runs/pool.js';
import { serve, type RunningServer } from '../../main/server/serve.js';
import { root } from './cli.js';
import { tempDir } from './tmp.js';

/** Where browser tests keep their screenshots (ignored by git; CI keeps them). */
export const artifacts = path.join(root, 'test', 'artifacts');

export interface Workbench {
  page: Page;
  server: RunningServer;
  browser: Browser;
  /** The run library the workbench serves. */
  libraryDir: string;
  close(): Promise<void>;
}

/**
 * The real renderer (dist/renderer, built by `npm test`) in Debian's Chromium against
 * `grokscope serve` on a fresh library that `fill` puts runs into first (e.g. with
 * makeFixtureRun). One per test file: each file's tests share its page.
 */
export async function openWorkbench(fill: (libraryDir: string) => Promise<void>, viewport = { width: 1280, height: 800 }): Promise<Workbench> {
  const exe = [process.env.GROKSCOPE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => p && existsSync(p));
  if (!exe) throw new Error('no Chromium: run `node scripts/setup-browser.mjs` (npm test does)');
  mkdirSync(artifacts, { recursive: true });
  const tmp = tempDir();
  const libraryDir = path.join(tmp.dir, 'lib');
  await fill(libraryDir);
  const pool = createTrainingPool(1);
  const server = await serve({ service: new GrokscopeService(libraryDir, pool), staticDir: path.join(root, 'dist', 'renderer') });
  const browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage({ viewport });
  await page.goto(server.url);
  return {
    page,
    server,
    browser,
    libraryDir,
    async close() {
      await browser.close();
      await server.close();
      await pool.destroy();
      tmp.cleanup();
    },
  };
}
