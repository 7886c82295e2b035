import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../schema/run-config.js';

/**
 * The output temperature of a run (docs/methods.md, "Logit-matched control"). A run's loss and
 * every evaluation see logits / τ, τ non-trainable:
 * - a fixed `temperature` in the config (absent = 1: the baseline, and then nothing is divided);
 * - `logit-matched`: τ is set before every step so that the effective logit scale — the mean over
 *   every example of the task of the logits' standard deviation across classes, the statistic an
 *   evaluation records as `logit_scale` — equals its `mix` run's recorded scale at that step:
 *   τ_t = scale(z_t) / target(t). The target is the mix run's `logit_scale`, linearly interpolated
 *   between its evaluations. Measured on every example (not the training batch) so that the
 *   matched statistic is exactly the one the target run recorded.
 */
export interface LogitTargets {
  /** Evaluation steps of the target run, ascending, and its logit scale at each. */
  steps: Float64Array;
  values: Float64Array;
}

/** The target scale at `step` (linear between the target run's evaluations); throws past its last one. */
export function targetScaleAt(targets: LogitTargets, step: number): number {
  const { steps, values } = targets;
  if (steps.length === 0 || step < steps[0] || step > steps[steps.length - 1]) {
    throw new Error(`the logit-matched target has no logit scale for step ${step} (it covers steps ${steps[0] ?? '—'}–${steps[steps.length - 1] ?? '—'})`);
  }
  let hi = 0;
  while (steps[hi] < step) hi++;
  if (steps[hi] === step) return values[hi];
  const lo = hi - 1;
  const f = (step - steps[lo]) / (steps[hi] - steps[lo]);
  return values[lo] + f * (values[hi] - values[lo]);
}

/** The mean over examples of the logits' standard deviation across classes (the last axis): a scalar tensor. */
export function meanLogitScale(logits: tf.Tensor): tf.Scalar {
  return tf.mean(tf.sqrt(tf.moments(logits, logits.rank - 1).variance));
}

/** Whether this run divides its logits by a temperature at all (else it is computed exactly as before). */
export function usesTemperature(config: RunConfig): boolean {
  return config.condition === 'logit-matched' || (config.temperature !== undefined && config.temperature !== 1);
}

/**
 * What an evaluation multiplies a model's logits by (the loss's view at `step`), given their raw
 * mean scale: target/scale for a logit-matched run, 1/τ for a fixed temperature, else 1. The host
 * readout applies it to numbers, the tfjs one (`evaluatedLogits`) to a tensor.
 */
export function evaluationFactor(config: RunConfig, targets: LogitTargets | null, step: number, rawScale: number): number {
  const target = targets ? targetScaleAt(targets, step) : null;
  if (target !== null) return target / rawScale;
  return usesTemperature(config) ? 1 / (config.temperature ?? 1) : 1;
}

/** evaluationFactor on a tensor of logits (classes last). */
export function evaluatedLogits(z: tf.Tensor2D, config: RunConfig, targets: LogitTargets | null, step: number): tf.Tensor2D {
  const target = targets ? targetScaleAt(targets, step) : null;
  if (target !== null) return tf.mul(z, tf.div(target, meanLogitScale(z)));
  return usesTemperature(config) ? tf.div(z, config.temperature ?? 1) : z;
}
