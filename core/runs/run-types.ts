import type { RunConfig } from '../schema/run-config.js';
import type { RunEvents } from '../analysis/events.js';
import type { RunStatus } from '../library/library.js';
import type { EvalRecord } from '../schema/eval-record.js';

// What a caller of executeGroup (run-executor.ts) gives and gets per run, below the modules that
// use it (run-executor.ts, prepare.ts, group-store.ts) so none imports another's types back.

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

/** One run of a group: a new run from a config, or a stopped one to resume. */
export interface MemberRequest {
  config?: RunConfig;
  resumeRunId?: string;
  onProgress?: (p: RunProgress) => void;
  /** Called once the run exists in the library (before training starts). */
  onCreated?: (runId: string) => void | Promise<void>;
  /** A study's planned key to point at the run, in the transaction that creates it (library/runs.ts createRun). */
  studyKey?: { study: string; key: string };
  /** Stops this run alone (the others of its group go on). */
  signal?: AbortSignal;
  /**
   * Stops this run alone once it reaches this step, checkpointed and resumable like a stop
   * request — but at a step known in advance, whatever the machine's speed (a script that trains
   * part of a run now and the rest later; the tests of stop and resume).
   */
  stopAtStep?: number;
}
