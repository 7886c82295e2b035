import type { MessagePort } from 'node:worker_threads';
import type { RunConfig } from '../schema/run-config.js';
import type { EvalRecord } from '../schema/eval-record.js';

/** The task a training worker receives: one run. */
export interface TrainTask {
  runId: string;
  config: RunConfig;
  /** Folder for this run's checkpoints. */
  checkpointDir: string;
  /** Checkpoint file to resume from, if any. */
  resumeFrom?: string;
  /** Metrics stream back to the host. */
  port: MessagePort;
  /** Int32 flag on a SharedArrayBuffer: set index 0 to 1 to ask the run to stop at the next step. */
  stopFlag: Int32Array;
  /** norm-matched runs: the target ‖θ‖ after each step (index = step). */
  normTargets?: Float64Array;
}

export type WorkerMessage =
  | { type: 'started'; backend: string; backendNote: string; tfjsVersion: string; startStep: number }
  | { type: 'eval'; record: EvalRecord }
  | { type: 'progress'; step: number; stepsPerSecond: number }
  /** ‖θ‖ after steps fromStep, fromStep + 1, … */
  | { type: 'norms'; fromStep: number; norms: number[] }
  | { type: 'checkpoint'; step: number; file: string }
  /** Always the last message: the host knows the stream is complete. */
  | { type: 'done' };

export interface TrainResult {
  status: 'completed' | 'stopped';
  step: number;
  /** Last checkpoint written (the resume point). */
  checkpoint: string | null;
}

/** A timing task for `grokscope bench`. */
export interface BenchTask {
  config: RunConfig;
  steps: number;
  evals: number;
}

export interface BenchResult {
  backend: string;
  backendNote: string;
  msPerStep: number[];
  msPerEval: number[];
}
