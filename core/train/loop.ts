import { UPDATE_WINDOW, type EvalRecord, type FinalProgress } from '../schema/eval-record.js';
import { inUpdateWindow, type SpectralEdge } from '../spectra/spectral-edge.js';
import { makeDataset } from '../tasks/dataset.js';
import { checkpointPath, saveCheckpoint } from './checkpoint.js';
import { recordsUpdateGap, type GroupEngine } from './engine.js';
import { finalProgress, keepsProgressSnapshot, saveProgressSnapshot } from './final-progress.js';
import type { LogitTargets } from './logit-temperature.js';

/**
 * The training loop of a run group, whatever computes it (engine.ts): per member an evaluation at
 * its first step, every `evalEvery` steps and at the last step (full spectra every
 * `spectrumEvery` and at a run's last evaluation); early stop after `earlyStopEvals` evaluations
 * in a row at test accuracy ≥ the grokking threshold; checkpoints every `checkpointEvery` steps, at
 * the end and when asked to stop. A checkpoint or stop that falls inside the update window before
 * an evaluation waits for that evaluation (at most W − 1 steps), so a resumed run never lacks
 * updates its uninterrupted twin had. A member that ends (completed, early-stopped or stopped) is
 * frozen and the others go on.
 *
 * It knows no worker pool: what it says goes to `emit`, stop requests come from `stopRequested`
 * (the worker wires them to its port and shared flags; test/training-loop.test.ts drives it with
 * a scripted engine).
 */

/** What the loop says about a member, in order (the worker forwards them as member messages). */
export type LoopEvent =
  | { type: 'eval'; record: EvalRecord }
  | { type: 'progress'; step: number; stepsPerSecond: number }
  /** ‖θ‖ after steps fromStep, fromStep + 1, … */
  | { type: 'norms'; fromStep: number; norms: number[] }
  | { type: 'checkpoint'; step: number; file: string }
  /** The member's last event: it completed or stopped. */
  | { type: 'ended'; result: LoopResult };

export interface LoopResult {
  status: 'completed' | 'stopped';
  step: number;
  /** Last checkpoint written (the resume point). */
  checkpoint: string | null;
  /** A completed run of a residue task: its progress measures with its final key frequencies (final-progress.ts). */
  finalProgress?: FinalProgress | null;
}

/** A member as the loop needs it beside the engine: where its checkpoints go and where it resumed from. */
export interface LoopMember {
  checkpointDir: string;
  /** The checkpoint file it resumed from, and what that checkpoint carried. */
  resumed?: { file: string; step: number; solvedEvals: number; updateEdge: SpectralEdge | null };
  /** Stop (checkpointed, resumable) once the run reaches this step, as a stop request would. */
  stopAtStep?: number;
  normTargets?: Float64Array;
  logitTargets?: LogitTargets;
}

export interface LoopHost {
  emit(member: number, event: LoopEvent): void;
  /** Whether the member was asked to stop (checked after every step). */
  stopRequested(member: number): boolean;
  /** A completed member's progress measures with its final key frequencies (default: from its snapshots, final-progress.ts). */
  finalProgress?(member: number, step: number, keyFreqs: number[]): Promise<FinalProgress | null>;
  /** Where a measure that could not be computed is said (default: stderr). */
  warn?(member: number, line: string): void;
  /** Milliseconds, for the steps-per-second of progress events (default: performance.now). */
  now?(): number;
}

interface MemberState {
  lastCheckpoint: string | null;
  normsFrom: number;
  solvedEvals: number;
  /** The key frequencies of the member's latest evaluation (residue tasks). */
  keyFreqs: number[];
  /** A checkpoint fell due inside an open update window: written at the window's end. */
  checkpointDue: boolean;
  /**
   * The member's latest evaluation: its step, the early-stop count before it and its spectral-edge
   * gap — what a checkpoint at that step carries, and, read back from that checkpoint, where a
   * resumed member starts (its re-evaluation there has no window of updates, so it takes the gap).
   */
  lastEval: { step: number; solvedBefore: number; edge: SpectralEdge | null } | null;
  result: LoopResult | null;
}

/** How often progress events go out (ms). */
const PROGRESS_EVERY_MS = 500;

export async function runTrainingLoop(group: GroupEngine, members: LoopMember[], host: LoopHost): Promise<LoopResult[]> {
  const now = host.now ?? (() => performance.now());
  const states: MemberState[] = members.map((m, i) => {
    const r = m.resumed;
    const lastEval = r ? { step: r.step, solvedBefore: r.solvedEvals, edge: r.updateEdge } : null;
    return { lastCheckpoint: r?.file ?? null, normsFrom: group.stepOf(i) + 1, solvedEvals: r?.solvedEvals ?? 0, keyFreqs: [], checkpointDue: false, lastEval, result: null };
  });
  const stepOf = (i: number): number => group.stepOf(i);
  const atEnd = (i: number): boolean => stepOf(i) >= group.configOf(i).steps;
  const atEvaluation = (i: number): boolean => stepOf(i) % group.configOf(i).evalEvery === 0 || atEnd(i);
  /** Whether member i is inside an update window: the updates before its next evaluation have begun. */
  const windowOpen = (i: number): boolean => {
    const c = group.configOf(i);
    return recordsUpdateGap(c) && !atEvaluation(i) && inUpdateWindow(stepOf(i), c.evalEvery, c.steps, UPDATE_WINDOW);
  };
  const checkpoint = async (i: number): Promise<void> => {
    const step = stepOf(i);
    const file = checkpointPath(members[i].checkpointDir, step);
    // What a run resumed here re-does is its evaluation at this step: the count from before it.
    const last = states[i].lastEval?.step === step ? states[i].lastEval : null;
    saveCheckpoint(file, await group.snapshot(i), { updateEdge: last?.edge ?? null, solvedEvals: last ? last.solvedBefore : states[i].solvedEvals });
    states[i].lastCheckpoint = file;
    host.emit(i, { type: 'checkpoint', step, file });
  };
  const checkpointUnlessHere = async (i: number): Promise<void> => {
    if (states[i].lastCheckpoint !== checkpointPath(members[i].checkpointDir, stepOf(i))) await checkpoint(i);
  };
  const flushNorms = async (i: number): Promise<void> => {
    const norms = await group.takeNorms(i);
    if (norms.length) host.emit(i, { type: 'norms', fromStep: states[i].normsFrom, norms });
    states[i].normsFrom = stepOf(i) + 1;
  };
  const end = (i: number, result: LoopResult): void => {
    states[i].result = result;
    group.freeze(i);
    host.emit(i, { type: 'ended', result });
  };
  const finalProgressOf = async (i: number): Promise<FinalProgress | null> => {
    const step = stepOf(i);
    if (host.finalProgress) return host.finalProgress(i, step, states[i].keyFreqs);
    const c = group.configOf(i);
    try {
      const dataset = makeDataset({ task: c.task, p: c.p, trainFraction: c.trainFraction, seed: c.splitSeed ?? c.seed });
      return await finalProgress(c, dataset, members[i].checkpointDir, step, states[i].keyFreqs, { normTargets: members[i].normTargets, logitTargets: members[i].logitTargets });
    } catch (err) {
      // Derived data: the run still completes, without it, and says so.
      (host.warn ?? ((_, line) => process.stderr.write(`${line}\n`)))(i, `progress measures with the final key frequencies not computed: ${(err as Error).message}`);
      return null;
    }
  };
  /** Evaluate members (batched where the engine batches), full spectra where asked. */
  const evaluate = async (indices: number[], spectra: (i: number) => boolean): Promise<Map<number, EvalRecord>> => {
    const out = new Map<number, EvalRecord>();
    for (const flag of [false, true]) {
      const part = indices.filter((i) => spectra(i) === flag);
      if (part.length) (await group.evaluate(part, flag)).forEach((r, k) => out.set(part[k], r));
    }
    return out;
  };

  /** The evaluations due now; returns the members that early-stop at them. */
  const evaluateDue = async (): Promise<Set<number>> => {
    const earlyStop = new Set<number>();
    const due = group.active().filter(atEvaluation);
    if (!due.length) return earlyStop;
    for (const i of due) await flushNorms(i);
    const records = await evaluate(due, (i) => stepOf(i) % group.configOf(i).spectrumEvery === 0 || atEnd(i));
    for (const i of due) {
      const config = group.configOf(i);
      const step = stepOf(i);
      const prev = states[i].lastEval;
      // A gap read back from a checkpoint at this step stays, for the re-evaluation below.
      states[i].lastEval = { step, solvedBefore: states[i].solvedEvals, edge: prev?.step === step ? prev.edge : null };
      states[i].solvedEvals = records.get(i)!.test_acc >= config.grokThreshold ? states[i].solvedEvals + 1 : 0;
      if (config.earlyStopEvals > 0 && states[i].solvedEvals >= config.earlyStopEvals && !atEnd(i)) earlyStop.add(i);
    }
    // The last evaluation of a run always carries the full spectra.
    const redo = [...earlyStop].filter((i) => !records.get(i)!.spectra);
    if (redo.length) (await group.evaluate(redo, true)).forEach((r, k) => records.set(redo[k], r));
    for (const i of due) {
      const record = records.get(i)!;
      // The spectral-edge gap comes from the engine's window; at the step a member resumed
      // from, that window is gone and the gap comes from the checkpoint (docs/methods.md).
      const last = states[i].lastEval!;
      if (record.update_edge) last.edge = record.update_edge;
      else if (last.edge) record.update_edge = last.edge;
      if (record.progress) states[i].keyFreqs = record.progress.key_freqs;
      if (keepsProgressSnapshot(group.configOf(i), record.step, atEnd(i) || earlyStop.has(i))) {
        saveProgressSnapshot(members[i].checkpointDir, record.step, (await group.snapshot(i)).params);
      }
      host.emit(i, { type: 'eval', record });
    }
    return earlyStop;
  };

  let windowStart = now();
  let windowSteps = 0;
  for (;;) {
    const earlyStop = await evaluateDue();
    // Checkpoints fall due after a step and are written here, after that step's evaluation (a
    // checkpoint at an evaluation step carries its gap) and outside an open update window.
    for (const i of group.active()) {
      if (!states[i].checkpointDue || atEnd(i) || earlyStop.has(i) || windowOpen(i)) continue;
      await flushNorms(i);
      await checkpoint(i);
      states[i].checkpointDue = false;
    }
    for (const i of group.active()) {
      const step = stepOf(i);
      if (atEnd(i) || earlyStop.has(i)) {
        await checkpointUnlessHere(i);
        end(i, { status: 'completed', step, checkpoint: states[i].lastCheckpoint, finalProgress: await finalProgressOf(i) });
      } else if ((host.stopRequested(i) || step >= (members[i].stopAtStep ?? Infinity)) && !windowOpen(i)) {
        await flushNorms(i);
        await checkpointUnlessHere(i);
        end(i, { status: 'stopped', step, checkpoint: states[i].lastCheckpoint });
      }
    }
    const active = group.active();
    if (active.length === 0) break;
    await group.trainStep();
    windowSteps++;
    for (const i of active) if (stepOf(i) % group.configOf(i).checkpointEvery === 0) states[i].checkpointDue = true;
    const t = now();
    if (t - windowStart > PROGRESS_EVERY_MS) {
      const stepsPerSecond = (windowSteps * 1000) / (t - windowStart);
      for (const i of active) host.emit(i, { type: 'progress', step: stepOf(i), stepsPerSecond });
      windowStart = t;
      windowSteps = 0;
    }
  }
  return states.map((s) => s.result!);
}
