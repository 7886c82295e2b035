import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../core/train/backend.js';
import { RunGroup } from '../core/train/run-group.js';
import { checkpointPath, loadCheckpoint, saveCheckpoint } from '../core/train/checkpoint.js';
import type { BenchResult, BenchTask, MemberMessage, TrainResult, TrainTask, WorkerMessage } from '../core/runs/protocol.js';

/**
 * piscina worker entry: trains a run group (core/train/run-group.ts) and streams each member's
 * evaluations through the task's port, tagged with the member's index. Per member: evaluation at
 * its step 0, every `evalEvery` steps and at the last step; checkpoints every `checkpointEvery`
 * steps, at the end and when asked to stop. A member that ends (completed, early-stopped or
 * stopped) is frozen and the others go on.
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
  norms: number[];
  normsFrom: number;
  solvedEvals: number;
  result: TrainResult | null;
}

async function trainGroup(task: TrainTask, post: (m: WorkerMessage) => void): Promise<TrainResult[]> {
  const backend = await selectBackend(task.members[0].config.backend);
  const group = new RunGroup(
    task.members.map((m) => ({ config: m.config, state: m.resumeFrom ? loadCheckpoint(m.resumeFrom) : undefined, normTargets: m.normTargets })),
  );
  const say = (run: number, m: MemberMessage): void => post({ ...m, run });
  const states: MemberState[] = task.members.map((m, i) => ({
    lastCheckpoint: m.resumeFrom ?? null,
    norms: [],
    normsFrom: group.trainers[i].step + 1,
    solvedEvals: 0,
    result: null,
  }));
  group.trainers.forEach((t, i) => say(i, { type: 'started', backend: backend.name, backendNote: backend.note, tfjsVersion: tf.version_core, startStep: t.step }));
  const checkpoint = (i: number): void => {
    const trainer = group.trainers[i];
    const file = checkpointPath(task.members[i].checkpointDir, trainer.step);
    saveCheckpoint(file, trainer.snapshot());
    states[i].lastCheckpoint = file;
    say(i, { type: 'checkpoint', step: trainer.step, file });
  };
  const flushNorms = (i: number): void => {
    const s = states[i];
    if (s.norms.length) say(i, { type: 'norms', fromStep: s.normsFrom, norms: s.norms });
    s.normsFrom = group.trainers[i].step + 1;
    s.norms = [];
  };
  const end = (i: number, result: TrainResult): void => {
    states[i].result = result;
    group.freeze(i);
    say(i, { type: 'ended', result });
  };
  try {
    let windowStart = performance.now();
    let windowSteps = 0;
    for (;;) {
      for (const i of group.active()) {
        const trainer = group.trainers[i];
        const config = trainer.config;
        const step = trainer.step;
        const atEnd = step >= config.steps;
        let earlyStop = false;
        if (step % config.evalEvery === 0 || atEnd) {
          flushNorms(i);
          let record = await trainer.evaluate(step % config.spectrumEvery === 0 || atEnd);
          states[i].solvedEvals = record.test_acc >= config.grokThreshold ? states[i].solvedEvals + 1 : 0;
          earlyStop = config.earlyStopEvals > 0 && states[i].solvedEvals >= config.earlyStopEvals && !atEnd;
          // The last evaluation of a run always carries the full spectra.
          if (earlyStop && !record.spectra) record = await trainer.evaluate(true);
          say(i, { type: 'eval', record });
        }
        if (atEnd || earlyStop) {
          if (states[i].lastCheckpoint !== checkpointPath(task.members[i].checkpointDir, step)) checkpoint(i);
          end(i, { status: 'completed', step, checkpoint: states[i].lastCheckpoint });
        } else if (Atomics.load(task.stopFlags, i) !== 0) {
          flushNorms(i);
          checkpoint(i);
          end(i, { status: 'stopped', step, checkpoint: states[i].lastCheckpoint });
        }
      }
      const active = group.active();
      if (active.length === 0) break;
      await group.trainStep();
      windowSteps++;
      for (const i of active) {
        const trainer = group.trainers[i];
        states[i].norms.push(trainer.weightNorm);
        if (trainer.step % trainer.config.checkpointEvery === 0 && trainer.step < trainer.config.steps) checkpoint(i);
      }
      const now = performance.now();
      if (now - windowStart > 500) {
        const stepsPerSecond = (windowSteps * 1000) / (now - windowStart);
        for (const i of active) say(i, { type: 'progress', step: group.trainers[i].step, stepsPerSecond });
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
 * `grokscope bench`: times group steps (seeds 0…group−1 of the config, stepped together) and
 * evaluations of one member (run as piscina task 'bench').
 */
export async function bench(task: BenchTask): Promise<BenchResult> {
  const { config } = task;
  const size = task.group ?? 1;
  const backend = await selectBackend(config.backend);
  const group = new RunGroup(Array.from({ length: size }, (_, seed) => ({ config: { ...config, seed } })));
  try {
    for (let i = 0; i < 2; i++) await group.trainStep(); // warm-up: kernel set-up, memory growth
    const msPerStep: number[] = [];
    for (let i = 0; i < task.steps; i++) {
      const t0 = performance.now();
      await group.trainStep();
      msPerStep.push(performance.now() - t0);
    }
    const msPerEval: number[] = [];
    for (let i = 0; i < task.evals; i++) {
      const t0 = performance.now();
      await group.trainers[0].evaluate(false);
      msPerEval.push(performance.now() - t0);
    }
    return { backend: backend.name, backendNote: backend.note, msPerStep, msPerEval, group: size };
  } finally {
    group.dispose();
  }
}
