import { LOGPROB_QUANTILES } from '../../schema/eval-record.js';
import type { Dataset } from '../../tasks/dataset.js';

/**
 * What a record keeps of the per-example numbers of an evaluation (every input of the task):
 * means over the training and test pairs, the logit statistics' means and the log-probability
 * quantiles. An engine either hands the per-example arrays to the record (summariseExamples) or
 * reduces them where they live and hands this (the WGSL engine: gpu/example-summary.ts).
 */
export interface ExampleSummary {
  train_loss: number;
  test_loss: number;
  train_acc: number;
  test_acc: number;
  logprob_quantiles: number[];
  logits?: { scale: number; max_softmax: number; train_margin: number };
}

/**
 * The order statistics each quantile of LOGPROB_QUANTILES reads over n examples (ascending
 * −loss, 0-based): linear between order statistics lo and hi at position q·(n − 1).
 */
export function quantileRanks(n: number): { at: number; lo: number; hi: number }[] {
  return LOGPROB_QUANTILES.map((q) => {
    const at = q * (n - 1);
    const lo = Math.floor(at);
    return { at, lo, hi: Math.min(n - 1, lo + 1) };
  });
}

/** The quantiles from the order statistics (values at quantileRanks' lo and hi, in that order per quantile). */
export function quantilesFromOrderStatistics(n: number, values: ArrayLike<number>): number[] {
  return quantileRanks(n).map(({ at, lo }, k) => values[2 * k] + (at - lo) * (values[2 * k + 1] - values[2 * k]));
}

/** Quantiles (linear between order statistics) of −loss, the log-probability of the correct class, over every example. */
export function logProbQuantiles(loss: ArrayLike<number>): number[] {
  const x = Float64Array.from(loss, (l) => -l).sort();
  return quantilesFromOrderStatistics(
    x.length,
    quantileRanks(x.length).flatMap(({ lo, hi }) => [x[lo], x[hi]]),
  );
}

function meanAt(values: ArrayLike<number>, idx: Int32Array): number {
  let s = 0;
  for (let i = 0; i < idx.length; i++) s += values[idx[i]];
  return idx.length ? s / idx.length : NaN;
}

export interface ExampleArrays {
  /** Per example of the whole task: cross-entropy, and 1/0 for a correct argmax. */
  loss: ArrayLike<number>;
  correct: ArrayLike<number>;
  /** Per example: the logits' standard deviation across classes, the largest softmax probability, correct logit − largest other. */
  logitStats?: { std: ArrayLike<number>; maxProb: ArrayLike<number>; margin: ArrayLike<number> };
}

/** The summary from every example's numbers, on the host. */
export function summariseExamples(m: ExampleArrays, dataset: Dataset): ExampleSummary {
  const out: ExampleSummary = {
    train_loss: meanAt(m.loss, dataset.trainIndices),
    train_acc: meanAt(m.correct, dataset.trainIndices),
    test_loss: meanAt(m.loss, dataset.testIndices),
    test_acc: meanAt(m.correct, dataset.testIndices),
    logprob_quantiles: logProbQuantiles(m.loss),
  };
  if (m.logitStats) {
    const { std, maxProb, margin } = m.logitStats;
    let s = 0;
    let q = 0;
    for (let i = 0; i < std.length; i++) {
      s += std[i];
      q += maxProb[i];
    }
    out.logits = { scale: s / std.length, max_softmax: q / maxProb.length, train_margin: meanAt(margin, dataset.trainIndices) };
  }
  return out;
}
