import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../core/train/backend.js';
import { createGroupEngine } from '../core/train/group-engine.js';
import type { GroupEngine } from '../core/train/engine.js';
import { runTrainingLoop, type LoopMember } from '../core/train/loop.js';
import { deviceWorkPerStep } from '../core/train/gpu/webgpu.js';
import { loadCheckpoint } from '../core/train/checkpoint.js';
import { evalCounters, resetEvalCounters } from '../core/train/eval/counters.js';
import type { BenchResult, BenchTask, TrainResult, TrainTask, WorkerMessage } from '../core/runs/protocol.js';

/**
 * piscina worker entry: the thin host of a run group's training loop (core/train/loop.ts, where
 * the evaluation cadence, early stop and checkpoint timing live): it picks the backend, builds the
 * group's engine (core/train/group-engine.ts) from the members and their checkpoints, and wires the
 * loop's events to the task's port (tagged with the member's index) and its stop requests to the
 * task's shared flags.
 */
export default async function train(task: TrainTask): Promise<TrainResult[]> {
  const post = (m: WorkerMessage): void => task.port.postMessage(m);
  try {
    return await trainGroup(task, post);
  } finally {
    post({ type: 'done' });
  }
}

async function trainGroup(task: TrainTask, post: (m: WorkerMessage) => void): Promise<TrainResult[]> {
  const config0 = task.members[0].config;
  const backend = await selectBackend(config0.backend, task.speedFile ? { file: task.speedFile, config: config0, group: task.members.length } : undefined);
  const resumed = task.members.map((m) => (m.resumeFrom ? loadCheckpoint(m.resumeFrom) : undefined));
  const group = await createGroupEngine(
    task.members.map((m, i) => ({ config: m.config, state: resumed[i], normTargets: m.normTargets, logitTargets: m.logitTargets })),
    backend.name,
  );
  try {
    const note = engineNote(backend.note, group);
    for (let i = 0; i < group.size; i++) post({ type: 'started', backend: backend.name, backendNote: note, tfjsVersion: tf.version_core, startStep: group.stepOf(i), run: i });
    const members: LoopMember[] = task.members.map((m, i) => {
      const r = resumed[i];
      return {
        checkpointDir: m.checkpointDir,
        stopAtStep: m.stopAtStep,
        normTargets: m.normTargets,
        logitTargets: m.logitTargets,
        ...(r && m.resumeFrom ? { resumed: { file: m.resumeFrom, step: r.step, solvedEvals: r.solvedEvals ?? 0, updateEdge: r.updateEdge ?? null } } : {}),
      };
    });
    return await runTrainingLoop(group, members, {
      emit: (run, event) => post({ ...event, run }),
      stopRequested: (i) => Atomics.load(task.stopFlags, i) !== 0,
      warn: (i, line) => process.stderr.write(`run ${task.members[i].runId}: ${line}\n`),
    });
  } finally {
    group.dispose();
  }
}

const BENCH_BLOCK = 5;
const COUNT_STEPS = 16;

/** The run's backend note, with the engine where it is not the backend's obvious one. */
function engineNote(note: string, group: GroupEngine): string {
  if (group.size > 1) return `${note}; run group of ${group.size} (${group.engine})`;
  return group.namesEngine ? `${note}; ${group.engine}` : note;
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
    // One evaluation first, untimed and uncounted: first-call costs (JIT, LAPACK's workspace query, pipelines) are not an evaluation's.
    await group.evaluate([0], false);
    resetEvalCounters();
    for (let i = 0; i < task.evals; i++) {
      const t0 = performance.now();
      await group.evaluate([0], false);
      msPerEval.push(performance.now() - t0);
    }
    const perEval = (x: number): number => (evalCounters.records ? x / evalCounters.records : 0);
    const readBytesPerEval = perEval(evalCounters.readBytes);
    const hostMsPerEval = perEval(evalCounters.hostMs);
    // One spectrum evaluation too (every probe's spectrum, every 2-D matrix's ESD): its bytes apart.
    resetEvalCounters();
    await group.evaluate([0], true);
    const readBytesPerSpectrumEval = perEval(evalCounters.readBytes);
    return { backend: backend.name, backendNote: engineNote(backend.note, group), msPerStep, msPerEval, group: size, counts, readBytesPerEval, readBytesPerSpectrumEval, hostMsPerEval };
  } finally {
    group.dispose();
  }
}
