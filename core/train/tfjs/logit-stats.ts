import * as tf from '@tensorflow/tfjs-core';
import type { MeasureInput } from '../eval/record.js';

/**
 * Per-example logit statistics on the device: the standard deviation across classes (population),
 * the largest softmax probability and the margin of the correct logit over the largest other.
 * `logits` has its classes on `axis` (the last); the three come back stacked at `axis − 1`, so
 * [N, C] gives [3, N] and a group's [S, N, C] gives [S, 3, N] (one run's three rows contiguous).
 * `labels` is the one-hot of the correct classes.
 */
export function logitStatsOf(logits: tf.Tensor, labels: tf.Tensor, axis: number): tf.Tensor {
  const { variance } = tf.moments(logits, axis);
  const std = tf.sqrt(variance);
  const maxProb = tf.exp(tf.sub(tf.max(logits, axis), tf.logSumExp(logits, axis)));
  const correctLogit = tf.sum(tf.mul(labels, logits), axis);
  // The largest other logit: the correct one pushed far below every other.
  const otherMax = tf.max(tf.sub(logits, tf.mul(labels, 1e30)), axis);
  return tf.stack([std, maxProb, tf.sub(correctLogit, otherMax)], axis - 1);
}

/** One run's [3, N] read of logitStatsOf as the three per-example arrays. */
export function splitLogitStats(a: Float32Array): NonNullable<MeasureInput['logitStats']> {
  const n = a.length / 3;
  return { std: a.subarray(0, n), maxProb: a.subarray(n, 2 * n), margin: a.subarray(2 * n) };
}

