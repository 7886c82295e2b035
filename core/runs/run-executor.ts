import { checkpointDirFor } from '../library/paths.js';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import type { RunConfig } from '../schema/run-config.js';
import type { RunEvents } from '../analysis/events.js';
import { eventsFromMetrics } from '../library/traces.js';
import { Library, type RunStatus } from '../library/library.js';
import type { EvalRecord } from '../schema/eval-record.js';
import type { TrainResult, TrainTask, WorkerMessage } from './protocol.js';
import { versions } from '../versions.js';
import { firstLine } from '../errors.js';

/**
 * Host side of one run: records it in the library, hands it to a pool worker, batches the
 * worker's evaluations into the library (one transaction a second at most), and on the end
 * computes the run's events. Stopping (AbortSignal) asks the worker to checkpoint and return.
 */
export interface RunProgress {
  runId: string;
  step: number;
  totalSteps: number;
  stepsPerSecond: number | null;
  latest: EvalRecord | null;
  backend: string | null;
}

export interface RunOutcome {
  runId: string;
  status: RunStatus;
  backend: string | null;
  backendNote: string | null;
  steps: number;
  final: EvalRecord | null;
  events: RunEvents | null;
  error: string | null;
}

export interface ExecuteOptions {
  libraryDir: string;
  pool: Piscina;
  /** A new run from this config … */
  config?: RunConfig;
  /** … or resume this run from its latest checkpoint. */
  resumeRunId?: string;
  onProgress?: (p: RunProgress) => void;
  /** Called once the run exists in the library (before training starts). */
  onCreated?: (runId: string) => void | Promise<void>;
  signal?: AbortSignal;
  /** Longest time evaluations wait in memory before being written. */
  flushIntervalMs?: number;
}

export { checkpointDirFor };

export function latestCheckpoint(dir: string): string | null {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /^step-\d+\.ckpt$/.test(f));
  } catch {
    return null;
  }
  files.sort();
  return files.length ? path.join(dir, files[files.length - 1]) : null;
}


/**
 * The weight-norm trajectory a norm-matched run replays: that of its `mix` run, every step. The
 * mix run must have trained at least as many steps (mix runs never stop early; see
 * docs/decisions.md for why holding a final norm instead was tried and dropped).
 */
export async function loadNormTargets(libraryDir: string, config: RunConfig): Promise<Float64Array | undefined> {
  if (config.condition !== 'norm-matched') return undefined;
  const target = config.normTargetRun!;
  return Library.with(libraryDir, async (lib) => {
    const id = await lib.resolveRunId(target);
    const run = await lib.getRun(id);
    if (run.config.condition !== 'mix') throw new Error(`norm-matched target ${id} is a '${run.config.condition}' run, not 'mix'`);
    const norms = await lib.getStepNorms(id);
    const missing = Array.from({ length: config.steps }, (_, i) => i + 1).find((s) => !(s < norms.length && Number.isFinite(norms[s])));
    if (missing !== undefined) throw new Error(`norm-matched target ${id} has no weight norm for step ${missing} (it ran ${norms.length - 1} of ${config.steps} steps and is ${run.status})`);
    return norms;
  });
}

export async function executeRun(opts: ExecuteOptions): Promise<RunOutcome> {
  const { libraryDir } = opts;
  let runId: string;
  let config: RunConfig;
  let resumeFrom: string | undefined;
  let normTargets: Float64Array | undefined;
  if (opts.resumeRunId) {
    const found = await Library.with(libraryDir, async (lib) => {
      const id = await lib.resolveRunId(opts.resumeRunId!);
      return { id, run: await lib.getRun(id) };
    });
    runId = found.id;
    config = found.run.config;
    if (found.run.status === 'completed') throw new Error(`run ${runId} is already completed`);
    const ckpt = latestCheckpoint(checkpointDirFor(libraryDir, runId));
    if (!ckpt) throw new Error(`run ${runId} has no checkpoint to resume from`);
    resumeFrom = ckpt;
    normTargets = await loadNormTargets(libraryDir, config);
  } else if (opts.config) {
    config = opts.config;
    normTargets = await loadNormTargets(libraryDir, config);
    runId = await Library.with(libraryDir, (lib) => lib.createRun(config, versions()));
  } else {
    throw new Error('executeRun needs a config or a run to resume');
  }

  await opts.onCreated?.(runId);
  const progress: RunProgress = { runId, step: 0, totalSteps: config.steps, stepsPerSecond: null, latest: null, backend: null };
  const pending: EvalRecord[] = [];
  const pendingNorms: { step: number; norm: number }[] = [];
  let flushing: Promise<void> = Promise.resolve();
  let lastFlush = Date.now();
  let backend: string | null = null;
  let backendNote: string | null = null;
  const flush = (): Promise<void> => {
    const batch = pending.splice(0);
    const norms = pendingNorms.splice(0);
    lastFlush = Date.now();
    flushing = flushing.then(() => (batch.length || norms.length ? Library.with(libraryDir, (lib) => lib.appendEvals(runId, batch, norms)) : undefined));
    return flushing;
  };

  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  const onAbort = (): void => {
    Atomics.store(stopFlag, 0, 1);
  };
  opts.signal?.addEventListener('abort', onAbort);
  if (opts.signal?.aborted) onAbort();

  const { port1, port2 } = new MessageChannel();
  let resolveDone!: () => void;
  const streamDone = new Promise<void>((r) => (resolveDone = r));
  port1.on('message', (m: WorkerMessage) => {
    switch (m.type) {
      case 'started':
        backend = m.backend;
        backendNote = m.backendNote;
        progress.backend = m.backend;
        progress.step = m.startStep;
        flushing = flushing.then(() =>
          Library.with(libraryDir, async (lib) => {
            if (m.startStep > 0) await lib.deleteEvalsFrom(runId, m.startStep);
            await lib.updateRun(runId, { status: 'running', backend: m.backend, backendNote: m.backendNote });
          }),
        );
        break;
      case 'eval':
        pending.push(m.record);
        progress.latest = m.record;
        progress.step = m.record.step;
        if (Date.now() - lastFlush >= (opts.flushIntervalMs ?? 1000)) void flush();
        break;
      case 'progress':
        progress.step = m.step;
        progress.stepsPerSecond = m.stepsPerSecond;
        break;
      case 'norms':
        m.norms.forEach((norm, i) => pendingNorms.push({ step: m.fromStep + i, norm }));
        break;
      case 'checkpoint':
        break;
      case 'done':
        resolveDone();
        return;
    }
    opts.onProgress?.({ ...progress });
  });

  const task: TrainTask = { runId, config, checkpointDir: checkpointDirFor(libraryDir, runId), resumeFrom, port: port2, stopFlag, normTargets };
  let result: TrainResult | null = null;
  let error: string | null = null;
  try {
    result = (await opts.pool.run(task, { transferList: [port2] })) as TrainResult;
    await streamDone;
  } catch (err) {
    error = firstLine(err);
    // A worker that threw still posts 'done'; one that died cannot: don't wait on it forever.
    await Promise.race([streamDone, new Promise((r) => setTimeout(r, 1000))]);
  } finally {
    port1.close();
    opts.signal?.removeEventListener('abort', onAbort);
  }
  await flush();
  const status: RunStatus = error ? 'failed' : result!.status;
  const { events, metrics } = await Library.with(libraryDir, async (lib) => {
    const rows = await lib.getMetrics(runId);
    const ev = rows.length ? eventsFromMetrics(config, rows) : null;
    await lib.updateRun(runId, { status, events: ev, error, ...(rows.length ? { stepsDone: rows[rows.length - 1].step } : {}) });
    return { events: ev, metrics: rows };
  });
  return {
    runId,
    status,
    backend,
    backendNote,
    steps: result?.step ?? (metrics.length ? metrics[metrics.length - 1].step : 0),
    final: progress.latest,
    events,
    error,
  };
}
