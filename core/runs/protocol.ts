import type { MessagePort } from 'node:worker_threads';
import type { RunConfig } from '../schema/run-config.js';
import type { LogitTargets } from '../train/logit-temperature.js';
import type { LoopEvent, LoopResult } from '../train/loop.js';

/** One run of a group task. */
export interface MemberTask {
  runId: string;
  config: RunConfig;
  /** Folder for this run's checkpoints. */
  checkpointDir: string;
  /** Checkpoint file to resume from, if any. */
  resumeFrom?: string;
  /** norm-matched runs: the target ‖θ‖ after each step (index = step). */
  normTargets?: Float64Array;
  /** logit-matched runs: the mix run's logit scale at its evaluations. */
  logitTargets?: LogitTargets;
  /** Stop (checkpointed, resumable) once the run reaches this step, as a stop request would. */
  stopAtStep?: number;
}

/** The task a training worker receives: a run group (core/train/run-group.ts), often of one run. */
export interface TrainTask {
  members: MemberTask[];
  /** Metrics stream back to the host; member messages name their member by index. */
  port: MessagePort;
  /** Int32 flags on a SharedArrayBuffer, one per member: set index i to 1 to ask member i to stop at its next step. */
  stopFlags: Int32Array;
  /** Where `auto` keeps its measured backend speeds (the library's backend-speed.json). */
  speedFile?: string;
}

export type MemberMessage = { type: 'started'; backend: string; backendNote: string; tfjsVersion: string; startStep: number } | LoopEvent;

export type WorkerMessage =
  | (MemberMessage & { run: number })
  /** Always the last message of the task: the host knows the stream is complete. */
  | { type: 'done' };

/** How a member's training ended (core/train/loop.ts). */
export type TrainResult = LoopResult;

/** A timing task for `grokscope bench`: `group` runs (seeds 0…group−1) stepped together. */
export interface BenchTask {
  config: RunConfig;
  steps: number;
  evals: number;
  group?: number;
}

export interface BenchResult {
  backend: string;
  backendNote: string;
  /** Milliseconds per group step (all members). */
  msPerStep: number[];
  /** Milliseconds per evaluation of one member. */
  msPerEval: number[];
  group: number;
  /** Per run-evaluation: bytes read back from the compute device, and host milliseconds building the record (core/train/eval/counters.ts). */
  readBytesPerEval?: number;
  /** The same for one evaluation with spectra (every probe's spectrum, every 2-D weight matrix's ESD). */
  readBytesPerSpectrumEval?: number;
  hostMsPerEval?: number;
  /** What one group step sent to the WebGPU device (Dawn's counts; null off WebGPU). */
  counts?: { dispatchesPerStep: number; submitsPerStep: number; readsPerStep: number } | null;
}
