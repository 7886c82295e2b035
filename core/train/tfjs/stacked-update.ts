import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../../schema/run-config.js';
import type { StackedMix } from './forward-stacked.js';
import { randomOrthogonal } from '../interventions.js';

/**
 * The update of a stacked group (stacked-group.ts), as tfjs ops inside its step's tidy: AdamW
 * with per-run lr and decay, frozen runs kept bit for bit, the per-run ‖θ‖², and the orthogonal
 * mix's per-run matrices.
 */

/** [S] → [S, 1, …, 1] (rank + 1 axes): tf.where and products broadcast on trailing axes. */
export function byRun(t: tf.Tensor1D, rank: number): tf.Tensor {
  return tf.reshape(t, [t.shape[0], ...Array<number>(rank).fill(1)]);
}

export interface StackedAdamW {
  params: Record<string, tf.Variable>;
  m: Record<string, tf.Variable>;
  v: Record<string, tf.Variable>;
  /** Gradients by variable name (tf.variableGrads). */
  grads: Record<string, tf.Tensor>;
  shapes: Record<string, number[]>;
  /** [S] bool: the runs that take this step. */
  active: tf.Tensor1D;
  /** Per run: lr / (1 − β₁ᵗ), and 1 − lr·weightDecay. */
  stepSize: ArrayLike<number>;
  decay: ArrayLike<number>;
  beta1: number;
  beta2: number;
  eps: number;
  /** √(1 − β₂ᵗ). */
  sqrtBc2: number;
}

/**
 * AdamW with decoupled weight decay, PyTorch's order (the trainer's host loop, in float32 on the
 * device): θ ← θ·(1 − lr·wd) − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε). A run that is not active
 * keeps every bit of its parameters and moments (tf.where, not a zero update: decay and the
 * moments would still move it).
 */
export function adamwStacked(a: StackedAdamW): void {
  const perRun = (values: ArrayLike<number>, rank: number): tf.Tensor => byRun(tf.tensor1d(Float32Array.from(values)), rank);
  for (const name of Object.keys(a.params)) {
    const p = a.params[name];
    const g = a.grads[p.name];
    const rank = a.shapes[name].length;
    const m = tf.add(tf.mul(a.m[name], a.beta1), tf.mul(g, 1 - a.beta1));
    const v = tf.add(tf.mul(a.v[name], a.beta2), tf.mul(tf.mul(g, g), 1 - a.beta2));
    const update = tf.div(tf.mul(m, perRun(a.stepSize, rank)), tf.add(tf.div(tf.sqrt(v), a.sqrtBc2), a.eps));
    const next = tf.sub(tf.mul(p, perRun(a.decay, rank)), update);
    const active = byRun(a.active, rank);
    a.m[name].assign(tf.where(active, m, a.m[name]));
    a.v[name].assign(tf.where(active, v, a.v[name]));
    p.assign(tf.where(active, next, p));
  }
}

/**
 * Σ θ² per run over every parameter: [S]. Summed pairwise, not by tf.addN: on webgpu, AddN of
 * the Transformer's 11 tensors binds 12 storage buffers, over the default limit of 8 per shader
 * stage, and the invalid pipeline silently voids the whole submitted command buffer.
 */
export function normSquares(params: Record<string, tf.Variable>, shapes: Record<string, number[]>): tf.Tensor1D {
  const parts = Object.keys(params).map((n) => tf.sum(tf.square(params[n]), Array.from({ length: shapes[n].length }, (_, k) => k + 1)));
  return parts.reduce((x, y) => tf.add(x, y)) as tf.Tensor1D;
}

/** The orthogonal mix's matrices for step t (interventions.ts, per run's seed), or null when no run mixes. */
export function stackedMix(configs: RunConfig[], d: number, t: number): StackedMix | null {
  const on = configs.map((c) => c.condition === 'mix' && c.mixForm === 'orthogonal' && c.mixStrength > 0);
  if (!on.some(Boolean)) return null;
  const S = configs.length;
  const q = new Float32Array(S * d * d);
  configs.forEach((c, i) => {
    if (on[i]) q.set(randomOrthogonal(d, c.seed, t), i * d * d);
    else for (let k = 0; k < d; k++) q[i * d * d + k * d + k] = 1;
  });
  return {
    q: tf.tensor3d(q, [S, d, d]),
    alpha: tf.tensor3d(Float32Array.from(configs, (c, i) => (on[i] ? c.mixStrength : 0)), [S, 1, 1]),
    on: tf.tensor3d(on.map((x) => (x ? 1 : 0)), [S, 1, 1], 'bool'),
  };
}
