import { archiveRun } from '../library/archive.js';
import { checkpointDirFor } from '../library/paths.js';
import { dropProgressSnapshots } from '../train/final-progress.js';
import { Library, type RunStatus } from '../library/library.js';
import { eventsFromMetrics } from '../library/traces.js';
import type { EvalRecord } from '../schema/eval-record.js';
import { firstLine } from '../errors.js';
import type { Prepared } from './prepare.js';
import type { TrainResult } from './protocol.js';
import type { RunOutcome, RunProgress } from './run-types.js';

/** What the host keeps per member while its group trains. */
export interface MemberStream {
  prepared: Prepared;
  runId: string;
  progress: RunProgress;
  pending: EvalRecord[];
  pendingNorms: { step: number; norm: number }[];
  backend: string | null;
  backendNote: string | null;
  result: TrainResult | null;
  /** Settles with the run's outcome once it is written to the library. */
  outcome: Promise<RunOutcome> | null;
}

/**
 * The library side of a training group (run-executor.ts): every write for its members goes
 * through one chain, in order — a member's start, batches of evaluations (one transaction for the
 * whole group, at most once a `flushIntervalMs`), each member's end with its events and status,
 * and the saved run of a completed one.
 *
 * The first write that fails (no room on the disk, a damaged file) is kept: training on without
 * storing anything would waste the user's hours, so `onStorageFailure` stops every member at its
 * next step (with a checkpoint), later batches are not attempted, and each member ends failed
 * with that message. The stored past stays as it was, and a resume starts from the latest
 * checkpoint whose past is stored whole (prepare.ts).
 */
export class GroupStore {
  private chain: Promise<void> = Promise.resolve();
  private storageError: unknown = null;
  private lastFlush = Date.now();

  constructor(
    private readonly libraryDir: string,
    private readonly streams: MemberStream[],
    private readonly onStorageFailure: () => void,
  ) {}

  private storing(write: () => Promise<void>): void {
    this.chain = this.chain.then(write).catch((err: unknown) => {
      if (this.storageError === null) {
        this.storageError = err;
        this.onStorageFailure();
      }
    });
  }

  /** A member started (or resumed) training at `startStep` on `backend`. */
  started(m: MemberStream, startStep: number): void {
    this.storing(() =>
      Library.with(this.libraryDir, async (lib) => {
        // A resumed run replaces its records from the resume point on (from step 0 when no
        // checkpoint had its past stored whole: prepare.ts, resumePoint).
        if (startStep > 0 || m.prepared.resumed) await lib.deleteEvalsFrom(m.runId, startStep);
        await lib.updateRun(m.runId, { status: 'running', backend: m.backend, backendNote: m.backendNote });
      }),
    );
  }

  /** Write the pending evaluations when the last write is `intervalMs` old. */
  flushIfDue(intervalMs: number): void {
    if (Date.now() - this.lastFlush >= intervalMs) void this.flush();
  }

  /** Write every member's pending evaluations and per-step norms; settles when written (or failed). */
  flush(): Promise<void> {
    const batches = this.streams.map((m) => ({ m, evals: m.pending.splice(0), norms: m.pendingNorms.splice(0) })).filter((b) => b.evals.length || b.norms.length);
    this.lastFlush = Date.now();
    if (batches.length && this.storageError === null) {
      this.storing(() =>
        Library.with(this.libraryDir, async (lib) => {
          for (const b of batches) await lib.appendEvals(b.m.runId, b.evals, b.norms);
        }),
      );
    }
    return this.chain;
  }

  /** Write a member's end: its remaining evaluations, events and status. */
  async finalise(m: MemberStream, workerError: string | null): Promise<RunOutcome> {
    await this.flush();
    // A failed library write comes first: it is why the run stopped, and the worker's own error
    // (often its stop checkpoint failing for the same lack of room) follows from it.
    const error = this.storageError !== null ? `${firstLine(this.storageError)}; the run stopped (resume it: grokscope run --resume ${m.runId})` : workerError;
    const status: RunStatus = error ? 'failed' : m.result!.status;
    // The run's end when the library cannot take it (or anything after the first failed write).
    const failedOutcome = (message: string, stored: boolean): RunOutcome => ({
      runId: m.runId,
      status: 'failed',
      backend: m.backend,
      backendNote: m.backendNote,
      steps: m.result?.step ?? m.progress.step,
      final: m.progress.latest,
      events: null,
      error: stored ? message : `${message} (the run's end could not be stored either: the library lists it as it was; resume it once there is room)`,
    });
    if (this.storageError !== null) {
      // One more attempt to record the failure: a status is small, and the disk may have room again.
      const stored = await Library.with(this.libraryDir, (lib) => lib.updateRun(m.runId, { status: 'failed', error })).then(
        () => true,
        () => false,
      );
      return failedOutcome(error!, stored);
    }
    const config = m.prepared.config;
    const outcome = await Library.with(this.libraryDir, async (lib): Promise<RunOutcome> => {
      if (m.result?.finalProgress) await lib.replaceFinalProgress(m.runId, m.result.finalProgress);
      // Stored (or not computable): a completed run's progress snapshots have served.
      if (status === 'completed') dropProgressSnapshots(checkpointDirFor(this.libraryDir, m.runId));
      const rows = await lib.getMetrics(m.runId);
      const events = rows.length ? eventsFromMetrics(config, rows) : null;
      await lib.updateRun(m.runId, { status, events, error, ...(rows.length ? { stepsDone: rows[rows.length - 1].step } : {}) });
      return {
        runId: m.runId,
        status,
        backend: m.backend,
        backendNote: m.backendNote,
        steps: m.result?.step ?? (rows.length ? rows[rows.length - 1].step : 0),
        final: m.progress.latest,
        events,
        error,
      };
    }).catch((err: unknown) => failedOutcome(firstLine(err), false));
    // A completed run is also kept as a saved run beside the database, so that the library can
    // be rebuilt from files (library/archive.ts). A failure here loses nothing the database
    // holds; `grokscope library check` lists completed runs without their saved run.
    if (outcome.status === 'completed') await archiveRun(this.libraryDir, m.runId).catch(() => undefined);
    return outcome;
  }
}
