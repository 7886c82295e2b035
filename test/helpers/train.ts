import { expect } from 'vitest';
import { selectBackend } from '../../core/train/backend.js';
import type { RunConfig } from '../../core/schema/run-config.js';
import { makeDataset } from '../../core/tasks/dataset.js';
import { Trainer } from '../../core/train/trainer.js';

/** The training loss before each of `steps` steps and after the last, on the current backend. */
export async function trainingLosses(config: RunConfig, steps: number): Promise<number[]> {
  const ds = makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: config.seed });
  const t = new Trainer(config, ds);
  const out: number[] = [];
  try {
    for (let i = 0; i < steps; i++) {
      out.push(await t.trainLoss());
      await t.trainStep();
    }
    out.push(await t.trainLoss());
  } finally {
    t.dispose();
  }
  return out;
}

/**
 * The fused host step against plain wasm (tfjs autodiff) on the same run: the training loss before
 * each of 50 steps within 1e-5, and train accuracy at evaluations every 10 steps (taken between
 * steps, so an evaluation must not disturb training) identical.
 */
export async function expectTrainsLikePlainWasm(config: RunConfig): Promise<void> {
  const ds = makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: config.seed });
  const run = async (): Promise<{ losses: number[]; acc: number[] }> => {
    const t = new Trainer(config, ds);
    const losses: number[] = [];
    const acc: number[] = [];
    for (let i = 0; i < 50; i++) {
      losses.push(await t.trainLoss());
      if (i % 10 === 0) acc.push((await t.evaluate(false)).train_acc);
      await t.trainStep();
    }
    t.dispose();
    return { losses, acc };
  };
  await selectBackend('wasm');
  const plain = await run();
  await selectBackend('wasm+openblas');
  expect(Trainer.fusedStepApplies(config)).toBe(true);
  const fused = await run();
  fused.losses.forEach((l, i) => expect(Math.abs(l - plain.losses[i]), `step ${i}`).toBeLessThanOrEqual(1e-5));
  expect(fused.acc).toEqual(plain.acc);
}

/** ‖θ‖ of `config` trained alone, before the first step and after each of `steps` (the norm-matched control's targets). */
export async function normTrajectory(config: RunConfig, steps: number): Promise<Float64Array> {
  const t = new Trainer(config, makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: config.seed }));
  const out = new Float64Array(steps + 1);
  out[0] = t.weightNorm;
  for (let s = 1; s <= steps; s++) {
    await t.trainStep();
    out[s] = t.weightNorm;
  }
  t.dispose();
  return out;
}
