import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../core/train/backend.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { Trainer } from '../core/train/trainer.js';
import { checkpointPath, loadCheckpoint, saveCheckpoint } from '../core/train/checkpoint.js';
import type { BenchResult, BenchTask, TrainResult, TrainTask, WorkerMessage } from '../core/runs/protocol.js';

/**
 * piscina worker entry: trains one run and streams its evaluations through the task's port.
 * Evaluation happens at step 0, every `evalEvery` steps and at the last step; checkpoints every
 * `checkpointEvery` steps, at the end and when asked to stop.
 */
export default async function train(task: TrainTask): Promise<TrainResult> {
  const post = (m: WorkerMessage): void => task.port.postMessage(m);
  try {
    return await trainRun(task, post);
  } finally {
    post({ type: 'done' });
  }
}

async function trainRun(task: TrainTask, post: (m: WorkerMessage) => void): Promise<TrainResult> {
  const { config } = task;
  const backend = await selectBackend(config.backend);
  const state = task.resumeFrom ? loadCheckpoint(task.resumeFrom) : undefined;
  const dataset = makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: config.splitSeed ?? config.seed });
  const trainer = new Trainer(config, dataset, state, { normTargets: task.normTargets });
  post({ type: 'started', backend: backend.name, backendNote: backend.note, tfjsVersion: tf.version_core, startStep: trainer.step });
  let lastCheckpoint: string | null = task.resumeFrom ?? null;
  const checkpoint = (): void => {
    lastCheckpoint = checkpointPath(task.checkpointDir, trainer.step);
    saveCheckpoint(lastCheckpoint, trainer.snapshot());
    post({ type: 'checkpoint', step: trainer.step, file: lastCheckpoint });
  };
  let norms: number[] = [];
  let normsFrom = trainer.step + 1;
  const flushNorms = (): void => {
    if (norms.length) post({ type: 'norms', fromStep: normsFrom, norms });
    normsFrom = trainer.step + 1;
    norms = [];
  };
  let solvedEvals = 0;
  const solved = config.grokThreshold;
  try {
    let windowStart = performance.now();
    let windowSteps = 0;
    for (;;) {
      const step = trainer.step;
      const atEnd = step >= config.steps;
      let earlyStop = false;
      if (step % config.evalEvery === 0 || atEnd) {
        flushNorms();
        let record = await trainer.evaluate(step % config.spectrumEvery === 0 || atEnd);
        solvedEvals = record.test_acc >= solved ? solvedEvals + 1 : 0;
        earlyStop = config.earlyStopEvals > 0 && solvedEvals >= config.earlyStopEvals && !atEnd;
        // The last evaluation of a run always carries the full spectra.
        if (earlyStop && !record.spectra) record = await trainer.evaluate(true);
        post({ type: 'eval', record });
      }
      if (atEnd || earlyStop) {
        if (lastCheckpoint !== checkpointPath(task.checkpointDir, step)) checkpoint();
        return { status: 'completed', step, checkpoint: lastCheckpoint };
      }
      if (Atomics.load(task.stopFlag, 0) !== 0) {
        flushNorms();
        checkpoint();
        return { status: 'stopped', step, checkpoint: lastCheckpoint };
      }
      await trainer.trainStep();
      norms.push(trainer.weightNorm);
      windowSteps++;
      const now = performance.now();
      if (now - windowStart > 500) {
        post({ type: 'progress', step: trainer.step, stepsPerSecond: (windowSteps * 1000) / (now - windowStart) });
        windowStart = now;
        windowSteps = 0;
      }
      if (trainer.step % config.checkpointEvery === 0 && trainer.step < config.steps) checkpoint();
    }
  } finally {
    trainer.dispose();
  }
}

/** `grokscope bench`: times single training steps and evaluations (run as piscina task 'bench'). */
export async function bench(task: BenchTask): Promise<BenchResult> {
  const { config } = task;
  const backend = await selectBackend(config.backend);
  const dataset = makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: config.seed });
  const trainer = new Trainer(config, dataset);
  try {
    for (let i = 0; i < 2; i++) await trainer.trainStep(); // warm-up: kernel set-up, memory growth
    const msPerStep: number[] = [];
    for (let i = 0; i < task.steps; i++) {
      const t0 = performance.now();
      await trainer.trainStep();
      msPerStep.push(performance.now() - t0);
    }
    const msPerEval: number[] = [];
    for (let i = 0; i < task.evals; i++) {
      const t0 = performance.now();
      await trainer.evaluate(false);
      msPerEval.push(performance.now() - t0);
    }
    return { backend: backend.name, backendNote: backend.note, msPerStep, msPerEval };
  } finally {
    trainer.dispose();
  }
}
