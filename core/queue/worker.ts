import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Piscina } from 'piscina';
import { Library } from '../library/library.js';
import { importSources } from '../library/transfer.js';
import { firstLine } from '../errors.js';
import { resolveStudySpec } from '../study/spec.js';
import { runStudy } from '../study/runner.js';
import { QUEUE_NAME, type GroupJob, type GroupJobResult } from './jobs.js';
import { savedRunName, storeRun, type ResultStore } from './result-store.js';
import { checkpointSteps } from '../train/checkpoint.js';
import { checkpointDirFor } from '../library/paths.js';
import type { QueueConnection } from './connection.js';
import type { BackendChoice } from '../schema/backend-choices.js';

/**
 * `grokscope worker --queue URL --results DIR`: pulls run-group jobs, trains each with this
 * machine's pool into its own library (the study's runner, restricted to the job's keys), and
 * leaves every finished run as a saved run in the shared results folder. A job whose spec does
 * not validate is refused for good (no retry); any other failure fails the attempt and BullMQ
 * retries it, here or on another worker. A worker that dies holding a job stops renewing its lock;
 * BullMQ moves the job back to the queue once the lock expires (`lockMs`), and another worker
 * trains it from the start — the runs are deterministic, so nothing differs.
 */
export interface QueueWorkerOptions {
  connection: QueueConnection;
  /** Where results go (a shared folder, or Redis): result-store.ts. */
  store: ResultStore;
  libraryDir: string;
  pool: Piscina;
  /** Jobs trained at once (each one run group through the pool). */
  concurrency: number;
  /** How long a job's lock lasts without renewal (BullMQ renews it at half that). */
  lockMs?: number;
  /** How often the runs in training are uploaded with their checkpoints (ms; default a minute). */
  uploadEveryMs?: number;
  /** Train on this backend instead of the spec's (each run records the backend it used). */
  backend?: BackendChoice;
  log?: (line: string) => void;
}

export function startQueueWorker(o: QueueWorkerOptions): { worker: Worker; stop: () => Promise<void> } {
  const abort = new AbortController();
  const log = o.log ?? (() => {});
  const lockDuration = o.lockMs ?? 30_000;
  const worker = new Worker<GroupJob, GroupJobResult>(QUEUE_NAME, (job) => trainJob(job, o, abort.signal, log), {
    connection: o.connection.options,
    concurrency: o.concurrency,
    lockDuration,
    stalledInterval: Math.max(500, Math.floor(lockDuration / 2)),
    autorun: true,
  });
  worker.on('error', (err) => log(`queue: ${firstLine(err)}`));
  return {
    worker,
    // Ctrl-C: runs stop at their next step with a checkpoint, the attempt fails and the job goes
    // back to the queue for another worker (its retries allow it).
    stop: async () => {
      abort.abort();
      await worker.close();
    },
  };
}

async function trainJob(job: Job<GroupJob, GroupJobResult>, o: QueueWorkerOptions, signal: AbortSignal, log: (line: string) => void): Promise<GroupJobResult> {
  let spec;
  try {
    spec = resolveStudySpec(job.data.spec);
  } catch (err) {
    throw new UnrecoverableError(`job ${job.id}: ${firstLine(err)}`);
  }
  if (spec.name !== job.data.study || !Array.isArray(job.data.keys) || job.data.keys.length === 0) throw new UnrecoverableError(`job ${job.id}: malformed (study ${job.data.study}, keys ${JSON.stringify(job.data.keys)})`);
  log(`job ${job.id}: training ${job.data.keys.join(', ')}`);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'grokscope-job-'));
  try {
    /** Import a stored saved run and record it under its study key. */
    const adopt = async (key: string, ref: string): Promise<string | null> => {
      const local = await o.store.fetch(ref, scratch);
      if (!local) return `${ref} is not in the results store`;
      const [report] = await importSources(o.libraryDir, [local]);
      if (!report.ok) return report.error;
      await Library.with(o.libraryDir, async (lib) => {
        await lib.upsertStudy(spec.name, JSON.stringify(spec), 'running');
        await lib.setStudyRun(spec.name, key, report.outcomes[0].id);
      });
      return null;
    };
    // The runs this group replays arrive as saved runs.
    for (const dep of job.data.deps ?? []) {
      const problem = await adopt(dep.key, dep.file);
      if (problem) throw new Error(`job ${job.id}: dependency ${dep.key}: ${problem}`);
    }
    // A job taken over from a worker that died resumes its runs from their uploaded checkpoints.
    for (const key of job.data.keys) {
      const ref = await o.store.find(savedRunName(spec.name, key, true));
      if (!ref) continue;
      const problem = await adopt(key, ref);
      log(problem ? `job ${job.id}: ${key}: its upload cannot be used (${problem}); training it from the start` : `job ${job.id}: ${key}: resuming from its uploaded checkpoints`);
    }
    const uploads = new Uploader(o, spec.name, job.data.keys, scratch, (line) => log(`job ${job.id}: ${line}`));
    let results;
    try {
      results = await runStudy({ spec, libraryDir: o.libraryDir, pool: o.pool, only: new Set(job.data.keys), signal, backend: o.backend });
    } finally {
      await uploads.stop();
    }
    if (signal.aborted) {
      // Stopping: the runs stopped at a checkpoint; upload them as they are, and fail this
      // attempt so that the job goes back to the queue for a worker that resumes them.
      await uploads.upload();
      throw new Error(`job ${job.id}: handed back (this worker is stopping)`);
    }
    const mine = results.filter((r) => job.data.keys.includes(r.key));
    const bad = mine.find((r) => r.status !== 'completed' || !r.runId);
    if (bad) throw new Error(`job ${job.id}: ${bad.key} ${bad.status}${bad.error ? `: ${bad.error}` : ''}`);
    const runs: GroupJobResult['runs'] = [];
    for (const r of mine) {
      runs.push({ key: r.key, file: await storeRun(o.store, o.libraryDir, r.runId!, savedRunName(spec.name, r.key), scratch) });
      await o.store.remove(savedRunName(spec.name, r.key, true));
    }
    log(`job ${job.id}: done`);
    return { runs };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Every `uploadEveryMs`, the job's runs that are still training go to the results store as saved
 * runs with their checkpoints. A run resumed from such an upload continues from its latest
 * checkpoint whose past the upload holds whole (core/runs/prepare.ts).
 */
class Uploader {
  private readonly timer: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly o: QueueWorkerOptions,
    private readonly study: string,
    private readonly keys: string[],
    private readonly scratch: string,
    private readonly log: (line: string) => void,
  ) {
    // A failed upload is only a later resume point lost: say so and go on training.
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.upload()).catch((err) => log(`upload: ${firstLine(err)}`));
    }, o.uploadEveryMs ?? 60_000);
  }

  /** Upload every run of the job that is not completed and has a checkpoint (now). */
  async upload(): Promise<void> {
    const { libraryDir } = this.o;
    const inTraining = await Library.with(libraryDir, async (lib) => {
      const map = await lib.getStudyRuns(this.study);
      const out: { key: string; id: string; steps: number }[] = [];
      for (const key of this.keys) {
        const id = map.get(key);
        const run = id ? await lib.getRun(id) : null;
        if (id && run && run.status !== 'completed' && checkpointSteps(checkpointDirFor(libraryDir, id)).length) out.push({ key, id, steps: run.stepsDone });
      }
      return out;
    });
    for (const { key, id, steps } of inTraining) {
      await storeRun(this.o.store, libraryDir, id, savedRunName(this.study, key, true), this.scratch, { checkpoints: true, inProgress: true });
      this.log(`${key}: uploaded with its checkpoints at step ${steps}`);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
