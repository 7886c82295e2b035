import { Rng } from '../rng.js';
import { makeTask, type GroupTask, type TaskName } from './groups.js';

/** Every pair of the group as `[a, b, =]`, its label, and a seeded train/test split. */
export interface Dataset {
  task: GroupTask;
  /** Token id of `=`; the vocabulary size is eqToken + 1. */
  eqToken: number;
  vocab: number;
  classes: number;
  /** N × 3 token ids, row-major. */
  inputs: Int32Array;
  labels: Int32Array;
  trainIndices: Int32Array;
  testIndices: Int32Array;
}

export interface SplitSpec {
  task: TaskName;
  p: number;
  trainFraction: number;
  /** Seed of the split (by default the run's seed). */
  seed: number;
}

export function allPairs(task: GroupTask): { inputs: Int32Array; labels: Int32Array } {
  const rows: number[] = [];
  const labels: number[] = [];
  for (let a = 0; a < task.order; a++) {
    for (let b = 0; b < task.order; b++) {
      if (!task.valid(a, b)) continue;
      rows.push(a, b, task.order);
      labels.push(task.op(a, b));
    }
  }
  return { inputs: Int32Array.from(rows), labels: Int32Array.from(labels) };
}

/**
 * A pure function of (task, p, fraction, seed): the same arguments always give the same split.
 * The train set has round(fraction · N) examples, at least 1 and at most N − 1.
 */
export function makeDataset(spec: SplitSpec): Dataset {
  if (!(spec.trainFraction > 0 && spec.trainFraction < 1)) {
    throw new Error(`trainFraction must be in (0, 1) (got ${spec.trainFraction})`);
  }
  const task = makeTask(spec.task, spec.p);
  const { inputs, labels } = allPairs(task);
  const n = labels.length;
  const order = Int32Array.from({ length: n }, (_, i) => i);
  Rng.derive(spec.seed, 'split').shuffle(order);
  const nTrain = Math.min(n - 1, Math.max(1, Math.round(spec.trainFraction * n)));
  const trainIndices = order.slice(0, nTrain).sort();
  const testIndices = order.slice(nTrain).sort();
  return { task, eqToken: task.order, vocab: task.order + 1, classes: task.order, inputs, labels, trainIndices, testIndices };
}
