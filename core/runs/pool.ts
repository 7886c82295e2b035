import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';

/**
 * The pool of training workers (piscina): one task = one run; a crashed worker fails only its run.
 * The worker is the compiled `dist/workers/train-worker.js` (built by `npm install`/`npm test`),
 * also when this module itself runs from TypeScript source under the test runner.
 */
export function trainWorkerFile(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const besides = path.resolve(here, '../../workers/train-worker.js');
  if (existsSync(besides)) return besides;
  const fromRoot = path.resolve(here, '../../dist/workers/train-worker.js');
  if (existsSync(fromRoot)) return fromRoot;
  throw new Error(`training worker not built (looked for ${besides} and ${fromRoot}); run 'npm run build:node'`);
}

/**
 * Default pool size on CPU: one core is left for the host (DuckDB writes, UI) — except on a
 * machine of two cores or fewer, where idling one core would halve throughput while the host needs
 * only a few per cent of one (it writes a batch a second).
 */
export function defaultWorkerCount(cores = os.availableParallelism()): number {
  return cores <= 2 ? Math.max(1, cores) : cores - 1;
}

/** idleTimeoutMs: how long an idle worker lives (1 s: a finished worker gives its memory and device back soon). */
export function createTrainingPool(maxThreads = defaultWorkerCount(), idleTimeoutMs = 1000): Piscina {
  return new Piscina({ filename: trainWorkerFile(), minThreads: 0, maxThreads, idleTimeout: idleTimeoutMs, concurrentTasksPerWorker: 1 });
}
