import { resolveLibraryDir } from '../../core/library/paths.js';
import { createTrainingPool, defaultWorkerCount } from '../../core/runs/pool.js';
import { startQueueWorker } from '../../core/queue/worker.js';
import { UserError } from './errors.js';
import { BACKEND_CHOICES, type BackendChoice } from '../../core/schema/backend-choices.js';
import { queueOptions } from './queue-options.js';

/**
 * `grokscope worker --queue URL [--results DIR] [--workers N] [--backend B]`: trains a study's run groups from the
 * queue on this machine until Ctrl-C (docs/scale-out.md). Ctrl-C (or SIGTERM) stops the runs in
 * training at their next step and hands their jobs back to the queue.
 */
export async function cmdWorker(opts: { library?: string; queue?: string; results?: string; workers?: string; lockMs?: string; uploadEvery?: string; backend?: string }): Promise<number> {
  if (opts.queue === undefined) throw new UserError('worker needs --queue redis://[:PASSWORD@]HOST:PORT/DB');
  const { connection, store, where } = await queueOptions(opts.queue, opts.results);
  const workers = opts.workers === undefined ? defaultWorkerCount() : Number(opts.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new UserError(`--workers expects a positive integer (got '${opts.workers}')`);
  const lockMs = opts.lockMs === undefined ? undefined : Number(opts.lockMs);
  if (lockMs !== undefined && !(Number.isInteger(lockMs) && lockMs >= 1000)) throw new UserError(`--lock-ms expects a whole number of milliseconds ≥ 1000 (got '${opts.lockMs}')`);
  const uploadEvery = opts.uploadEvery === undefined ? 60 : Number(opts.uploadEvery);
  if (!(uploadEvery > 0)) throw new UserError(`--upload-every expects seconds > 0 (got '${opts.uploadEvery}')`);
  if (opts.backend !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(opts.backend)) throw new UserError(`--backend expects one of ${BACKEND_CHOICES.join(', ')} (got '${opts.backend}')`);
  const libraryDir = resolveLibraryDir(opts.library);
  const pool = createTrainingPool(workers);
  const queue = startQueueWorker({ connection, store, libraryDir, pool, concurrency: workers, lockMs, uploadEveryMs: uploadEvery * 1000, backend: opts.backend as BackendChoice | undefined, log: (line) => process.stderr.write(`${line}\n`) });
  process.stderr.write(`worker: up to ${workers} job(s) at a time from ${connection.display}; ${where}; library ${libraryDir}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stderr.write('worker: stopping; runs in training stop at their next step and their jobs go back to the queue…\n');
  try {
    await queue.stop();
  } finally {
    await pool.destroy();
    await store.close();
  }
  return 0;
}
