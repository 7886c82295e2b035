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
