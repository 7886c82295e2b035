import { checkpointDirFor, speedFileFor } from '../library/paths.js';
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { Library } from '../library/library.js';
import type { TrainTask, WorkerMessage } from './protocol.js';
import { groupMismatch } from '../train/engine.js';
import { prepare, type Prepared } from './prepare.js';
import { GroupStore, type MemberStream } from './group-store.js';
import { versions } from '../versions.js';
import type { MemberRequest, RunOutcome } from './run-types.js';
export type { MemberRequest, RunOutcome, RunProgress } from './run-types.js';
import { firstLine, GrokscopeError } from '../errors.js';

/**
 * Host side of a run group (executeGroup below; one run is a group of one): records its runs in
 * the library, hands the group to a pool worker, batches the worker's evaluations into the library
 * (one transaction a second at most), and as each run ends computes its events. Stopping
 * (AbortSignal) asks the worker to checkpoint and return.
 */
export interface ExecuteGroupOptions {
  libraryDir: string;
  pool: Piscina;
  members: MemberRequest[];
  /** Stops every run of the group. */
  signal?: AbortSignal;
  /** Longest time evaluations wait in memory before being written. */
  flushIntervalMs?: number;
  /** Called once every member that can start exists in the library, before training starts. */
  onCreated?: (runIds: (string | null)[]) => void;
}

export interface ExecuteOptions extends MemberRequest {
  libraryDir: string;
  pool: Piscina;
  flushIntervalMs?: number;
}

/** A member that could not start (its run was never created, or could not be resumed). */
export interface PreparationFailure {
  runId: null;
  status: 'failed';
  error: string;
}

export type MemberOutcome = RunOutcome | PreparationFailure;

export { checkpointDirFor };
export { loadNormTargets } from './prepare.js';

/** Train one run: a group of one (see executeGroup); throws when it cannot start. */
export async function executeRun(opts: ExecuteOptions): Promise<RunOutcome> {
  const { libraryDir, pool, flushIntervalMs, ...member } = opts;
  const [outcome] = await executeGroup({ libraryDir, pool, flushIntervalMs, members: [member] });
  if (outcome.runId === null) throw new GrokscopeError(outcome.error);
  return outcome;
}

/**
 * Train a run group in one pool task (core/train/run-group.ts): records each run in the library,
 * streams every member's evaluations into it (one transaction a second at most, for the whole
 * group), and as each member ends computes its events and writes its status, while the others
 * go on. A member that cannot start is failed alone; a worker that dies fails the members that
 * had not ended, which resume from their checkpoints. The members must share the group's shape
 * (groupMismatch says why not, before anything is created).
 */
export async function executeGroup(opts: ExecuteGroupOptions): Promise<MemberOutcome[]> {
  const { libraryDir } = opts;
  const prepared: (Prepared | PreparationFailure)[] = [];
  for (const request of opts.members) {
    prepared.push(await prepare(libraryDir, request).catch((err: unknown): PreparationFailure => ({ runId: null, status: 'failed', error: firstLine(err) })));
  }
  const ready = prepared.filter((p): p is Prepared => !('status' in p));
  const mismatch = groupMismatch(ready.map((p) => p.config));
  if (ready.length && mismatch) throw new GrokscopeError(mismatch);
  for (const p of ready) {
    if (p.runId === null) p.runId = await Library.with(libraryDir, (lib) => lib.createRun(p.config, versions(), undefined, p.request.studyKey));
    await p.request.onCreated?.(p.runId);
  }
  opts.onCreated?.(prepared.map((p) => p.runId));
  if (ready.length === 0) return prepared as PreparationFailure[];

  const streams: MemberStream[] = ready.map((p) => ({
    prepared: p,
    runId: p.runId!,
    progress: { runId: p.runId!, step: 0, totalSteps: p.config.steps, stepsPerSecond: null, latest: null, backend: null },
    pending: [],
    pendingNorms: [],
    backend: null,
    backendNote: null,
    result: null,
    outcome: null,
  }));
  const stopFlags = new Int32Array(new SharedArrayBuffer(4 * streams.length));
  const store = new GroupStore(libraryDir, streams, () => {
    for (let i = 0; i < streams.length; i++) Atomics.store(stopFlags, i, 1);
  });

  const cleanups: (() => void)[] = [];
  const watch = (signal: AbortSignal | undefined, indices: number[]): void => {
    if (!signal) return;
    const onAbort = (): void => {
      for (const i of indices) Atomics.store(stopFlags, i, 1);
    };
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort);
    cleanups.push(() => signal.removeEventListener('abort', onAbort));
  };
  watch(opts.signal, streams.map((_, i) => i));
  streams.forEach((m, i) => watch(m.prepared.request.signal, [i]));

  const { port1, port2 } = new MessageChannel();
  let resolveDone!: () => void;
  const streamDone = new Promise<void>((r) => (resolveDone = r));
  port1.on('message', (msg: WorkerMessage) => {
    if (msg.type === 'done') {
      resolveDone();
      return;
    }
    const m = streams[msg.run];
    const progress = m.progress;
    switch (msg.type) {
      case 'started':
        m.backend = msg.backend;
        m.backendNote = msg.backendNote;
        progress.backend = msg.backend;
        progress.step = msg.startStep;
        store.started(m, msg.startStep);
        break;
      case 'eval':
        m.pending.push(msg.record);
        progress.latest = msg.record;
        progress.step = msg.record.step;
        store.flushIfDue(opts.flushIntervalMs ?? 1000);
        break;
      case 'progress':
        progress.step = msg.step;
        progress.stepsPerSecond = msg.stepsPerSecond;
        break;
      case 'norms':
        msg.norms.forEach((norm, k) => m.pendingNorms.push({ step: msg.fromStep + k, norm }));
        break;
      case 'checkpoint':
        break;
      case 'ended':
        m.result = msg.result;
        m.outcome = store.finalise(m, null);
        break;
    }
    m.prepared.request.onProgress?.({ ...progress });
  });

  const task: TrainTask = {
    members: streams.map((m) => ({
      runId: m.runId,
      config: m.prepared.config,
      checkpointDir: checkpointDirFor(libraryDir, m.runId),
      resumeFrom: m.prepared.resumeFrom,
      normTargets: m.prepared.normTargets,
      logitTargets: m.prepared.logitTargets,
      stopAtStep: m.prepared.request.stopAtStep,
    })),
    port: port2,
    stopFlags,
    speedFile: speedFileFor(libraryDir),
  };
  let error: string | null = null;
  try {
    await opts.pool.run(task, { transferList: [port2] });
    await streamDone;
  } catch (err) {
    error = firstLine(err);
    // A worker that threw still posts 'done'; one that died cannot: don't wait on it forever.
    await Promise.race([streamDone, new Promise((r) => setTimeout(r, 1000))]);
  } finally {
    port1.close();
    for (const c of cleanups) c();
  }
  for (const m of streams) if (!m.outcome) m.outcome = store.finalise(m, error ?? 'the worker ended without finishing this run');
  const outcomes = new Map<Prepared, RunOutcome>();
  for (const m of streams) outcomes.set(m.prepared, await m.outcome!);
  return prepared.map((p) => ('status' in p ? p : outcomes.get(p)!));
}
