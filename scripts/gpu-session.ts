/**
 * The entry the GPU kit bundles (scripts/gpu-session-main.ts says what it measures). One file for
 * both sides of the paper slice: the main thread runs the session; a worker thread started from this
 * same file (so that the kit's single bundle serves both) trains one group of the slice.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { sliceWorker } from './gpu-paper-slice.js';

if (isMainThread) {
  // The file the slice's workers start from: this one (or, in the kit, the bundle it became).
  process.env.GPU_SESSION_ENTRY = import.meta.url;
  await import('./gpu-session-main.js');
}
else await sliceWorker(workerData);
