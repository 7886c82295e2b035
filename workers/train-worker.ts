import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../core/train/backend.js';
import { createGroupEngine } from '../core/train/group-engine.js';
import { recordsUpdateGap, type GroupEngine } from '../core/train/run-group.js';
import { inUpdateWindow, type SpectralEdge } from '../core/spectra/spectral-edge.js';
import { WgslGroup } from '../core/train/gpu/wgsl-group.js';
import { deviceWorkPerStep } from '../core/train/gpu/webgpu.js';
import { UPDATE_WINDOW, type EvalRecord, type FinalProgress } from '../core/schema/eval-record.js';
import { checkpointPath, loadCheckpoint, saveCheckpoint } from '../core/train/checkpoint.js';
import { finalProgress, keepsProgressSnapshot, saveProgressSnapshot } from '../core/train/final-progress.js';
import { makeDataset } from '../core/tasks/dataset.js';
import type { BenchResult, BenchTask, MemberMessage, TrainResult, TrainTask, WorkerMessage } from '../core/runs/protocol.js';

/**
 * piscina worker entry: trains a run group (core/train/run-group.ts) and streams each member's
 * evaluations through the task's port, tagged with the member's index. Per member: evaluation at
 * its step 0, every `evalEvery` steps and at the last step; checkpoints every `checkpointEvery`
 * steps, at the end and when asked to stop — a checkpoint or stop that falls inside the update
 * window before an evaluation waits for that evaluation (at most W − 1 steps). A member that ends
 * (completed, early-stopped or stopped) is frozen and the others go on.
 */
export default async function train(task: TrainTask): Promise<TrainResult[]> {
  const post = (m: WorkerMessage): void => task.port.postMessage(m);
  try {
    return await trainGroup(task, post);
  } finally {
    post({ type: 'done' });
  }
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
  result: TrainResult | null;
}

async function trainGroup(task: TrainTask, post: (m: WorkerMessage) => void): Promise<TrainResult[]> {
  const config0 = task.members[0].config;
  const backend = await selectBackend(config0.backend, task.speedFile ? { file: task.speedFile, config: config0, group: task.members.length } : undefined);
  const resumed = task.members.map((m) => (m.resumeFrom ? loadCheckpoint(m.resumeFrom) : undefined));
  const group = await createGroupEngine(
    task.members.map((m, i) => ({ config: m.config, state: resumed[i], normTargets: m.normTargets, logitTargets: m.logitTargets })),
    backend.name,
  );
  const note = engineNote(backend.note, group);
  const say = (run: number, m: MemberMessage): void => post({ ...m, run });
  const states: MemberState[] = task.members.map((m, i) => {
    const r = resumed[i];
    const lastEval = r ? { step: r.step, solvedBefore: r.solvedEvals ?? 0, edge: r.updateEdge ?? null } : null;
    return { lastCheckpoint: m.resumeFrom ?? null, normsFrom: group.stepOf(i) + 1, solvedEvals: r?.solvedEvals ?? 0, keyFreqs: [], checkpointDue: false, lastEval, result: null };
  });
  for (let i = 0; i < group.size; i++) say(i, { type: 'started', backend: backend.name, backendNote: note, tfjsVersion: tf.version_core, startStep: group.stepOf(i) });
  const atEvaluation = (i: number): boolean => group.stepOf(i) % group.configOf(i).evalEvery === 0 || group.stepOf(i) >= group.configOf(i).steps;
  /**
   * Whether member i is inside an update window: the updates before its next evaluation have
   * begun. No checkpoint is written there (stops and checkpoints wait for the evaluation, at most
   * W − 1 steps), so a resumed run never lacks updates its uninterrupted twin had.
   */
  const windowOpen = (i: number): boolean => {
    const c = group.configOf(i);
    return recordsUpdateGap(c) && !atEvaluation(i) && inUpdateWindow(group.stepOf(i), c.evalEvery, c.steps, UPDATE_WINDOW);
  };
  const checkpoint = async (i: number): Promise<void> => {
    const step = group.stepOf(i);
    const file = checkpointPath(task.members[i].checkpointDir, step);
    // What a run resumed here re-does is its evaluation at this step: the count from before it.
    const last = states[i].lastEval?.step === step ? states[i].lastEval : null;
    saveCheckpoint(file, await group.snapshot(i), { updateEdge: last?.edge ?? null, solvedEvals: last ? last.solvedBefore : states[i].solvedEvals });
    states[i].lastCheckpoint = file;
    say(i, { type: 'checkpoint', step, file });
  };
  const flushNorms = async (i: number): Promise<void> => {
    const norms = await group.takeNorms(i);
    if (norms.length) say(i, { type: 'norms', fromStep: states[i].normsFrom, norms });
    states[i].normsFrom = group.stepOf(i) + 1;
  };
  const end = (i: number, result: TrainResult): void => {
    states[i].result = result;
    group.freeze(i);
    say(i, { type: 'ended', result });
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
  try {
    let windowStart = performance.now();
    let windowSteps = 0;
    for (;;) {
      const atEnd = (i: number): boolean => group.stepOf(i) >= group.configOf(i).steps;
      const due = group.active().filter((i) => group.stepOf(i) % group.configOf(i).evalEvery === 0 || atEnd(i));
      const earlyStop = new Set<number>();
      if (due.length) {
        for (const i of due) await flushNorms(i);
        const records = await evaluate(due, (i) => group.stepOf(i) % group.configOf(i).spectrumEvery === 0 || atEnd(i));
        for (const i of due) {
          const config = group.configOf(i);
          const step = group.stepOf(i);
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
            saveProgressSnapshot(task.members[i].checkpointDir, record.step, (await group.snapshot(i)).params);
          }
          say(i, { type: 'eval', record });
        }
      }
      // Checkpoints fall due after a step and are written here, after that step's evaluation (a
      // checkpoint at an evaluation step carries its gap) and outside an open update window.
      for (const i of group.active()) {
        if (!states[i].checkpointDue || atEnd(i) || earlyStop.has(i) || windowOpen(i)) continue;
        await flushNorms(i);
        await checkpoint(i);
        states[i].checkpointDue = false;
      }
      for (const i of group.active()) {
        const step = group.stepOf(i);
        if (atEnd(i) || earlyStop.has(i)) {
          if (states[i].lastCheckpoint !== checkpointPath(task.members[i].checkpointDir, step)) await checkpoint(i);
          end(i, { status: 'completed', step, checkpoint: states[i].lastCheckpoint, finalProgress: await finalProgressOf(task.members[i], step, states[i].keyFreqs) });
        } else if ((Atomics.load(task.stopFlags, i) !== 0 || step >= (task.members[i].stopAtStep ?? Infinity)) && !windowOpen(i)) {
          await flushNorms(i);
          if (states[i].lastCheckpoint !== checkpointPath(task.members[i].checkpointDir, step)) await checkpoint(i);
          end(i, { status: 'stopped', step, checkpoint: states[i].lastCheckpoint });
        }
      }
      const active = group.active();
      if (active.length === 0) break;
      await group.trainStep();
      windowSteps++;
      for (const i of active) if (group.stepOf(i) % group.configOf(i).checkpointEvery === 0) states[i].checkpointDue = true;
      const now = performance.now();
      if (now - windowStart > 500) {
        const stepsPerSecond = (windowSteps * 1000) / (now - windowStart);
        for (const i of active) say(i, { type: 'progress', step: group.stepOf(i), stepsPerSecond });
        windowStart = now;
        windowSteps = 0;
      }
    }
    return states.map((s) => s.result!);
  } finally {
    group.dispose();
  }
}

/**
 * A completed member's progress measures with its final key frequencies, from its snapshots (the
 * host drops them once it has stored the result: a worker that dies first leaves them for the
 * resumed run). Derived data: where it cannot be computed the run still completes, without it
 * (null), and says so on stderr.
 */
async function finalProgressOf(member: TrainTask['members'][number], step: number, keyFreqs: number[]): Promise<FinalProgress | null> {
  const c = member.config;
  try {
    const dataset = makeDataset({ task: c.task, p: c.p, trainFraction: c.trainFraction, seed: c.splitSeed ?? c.seed });
    return await finalProgress(c, dataset, member.checkpointDir, step, keyFreqs, { normTargets: member.normTargets, logitTargets: member.logitTargets });
  } catch (err) {
    process.stderr.write(`run ${member.runId}: progress measures with the final key frequencies not computed: ${(err as Error).message}\n`);
    return null;
  }
}

const BENCH_BLOCK = 5;
const COUNT_STEPS = 16;

/** The run's backend note, with the engine where it is not the backend's obvious one. */
function engineNote(note: string, group: GroupEngine): string {
  if (group.size > 1) return `${note}; run group of ${group.size} (${group.engine})`;
  return group instanceof WgslGroup ? `${note}; ${group.engine}` : note;
}

/**
 * `grokscope bench`: times group steps (seeds 0…group−1 of the config, stepped together) and
 * evaluations of one member (run as piscina task 'bench').
 */
export async function bench(task: BenchTask): Promise<BenchResult> {
  const { config } = task;
  const size = task.group ?? 1;
  const backend = await selectBackend(config.backend);
  const group = await createGroupEngine(
    Array.from({ length: size }, (_, seed) => ({ config: { ...config, seed } })),
    backend.name,
  );
  try {
    for (let i = 0; i < 2; i++) await group.trainStep(); // warm-up: kernel set-up, memory growth
    await group.takeNorms(0);
    // Counted first, with no read in between: what a step sends to the device (Dawn only).
    const work = await deviceWorkPerStep(COUNT_STEPS, () => group.trainStep());
    const counts = backend.name === 'webgpu' || process.env.GROKSCOPE_GROUP_ENGINE === 'wgsl' ? work : null;
    await group.takeNorms(0);
    // Steps are timed in blocks ended by a read (the per-step norms): on a device, a step returns
    // once its work is queued, and only a read waits for the work itself. Each block's time is
    // spread over its steps; blocks of BENCH_BLOCK steps keep the read's own cost small.
    const msPerStep: number[] = [];
    for (let done = 0; done < task.steps; ) {
      const block = Math.min(BENCH_BLOCK, task.steps - done);
      const t0 = performance.now();
      for (let i = 0; i < block; i++) await group.trainStep();
      await group.takeNorms(0);
      const each = (performance.now() - t0) / block;
      for (let i = 0; i < block; i++) msPerStep.push(each);
      done += block;
    }
    const msPerEval: number[] = [];
    for (let i = 0; i < task.evals; i++) {
      const t0 = performance.now();
      await group.evaluate([0], false);
      msPerEval.push(performance.now() - t0);
    }
    return { backend: backend.name, backendNote: engineNote(backend.note, group), msPerStep, msPerEval, group: size, counts };
  } finally {
    group.dispose();
  }
}
