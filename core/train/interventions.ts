import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../rng.js';

/**
 * Training-time interventions (docs/methods.md, "Interventions"), acting on `resid.final` (the representation the
 * unembedding reads). Evaluation always measures the model without them.
 *
 * - `orthogonal` mix: r ← μ + (1 − α)(r − μ) + α (r − μ) Q_t, with μ the batch mean and Q_t a fresh
 *   random orthogonal matrix each step (Gram–Schmidt on a Gaussian matrix from a generator seeded
 *   by (seed, step), so a resumed run draws the same matrices).
 * - `entropy-penalty`: loss += λ · ln(tr C² / (tr C)²) = −λ·H₂ on the training batch's centred
 *   representation, which rewards a spread spectrum.
 */
export function randomOrthogonal(d: number, seed: number, step: number): Float32Array {
  const rng = Rng.derive(seed, `mix-orthogonal-${step}`);
  const cols: Float64Array[] = [];
  while (cols.length < d) {
    const v = Float64Array.from({ length: d }, () => rng.normal());
    for (const u of cols) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += u[i] * v[i];
      for (let i = 0; i < d; i++) v[i] -= dot * u[i];
    }
    let norm = 0;
    for (let i = 0; i < d; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    if (norm < 1e-8) continue; // degenerate draw: try again
    for (let i = 0; i < d; i++) v[i] /= norm;
    cols.push(v);
  }
  const q = new Float32Array(d * d);
  for (let j = 0; j < d; j++) for (let i = 0; i < d; i++) q[i * d + j] = cols[j][i];
  return q;
}

export function orthogonalMix(rep: tf.Tensor2D, q: tf.Tensor2D, alpha: number): tf.Tensor2D {
  const mu = tf.mean(rep, 0, true);
  const centred = tf.sub(rep, mu);
  return tf.add(mu, tf.add(tf.mul(centred, 1 - alpha), tf.mul(tf.matMul(centred, q), alpha))) as tf.Tensor2D;
}

/** −H₂ = ln(tr C² / (tr C)²) of the centred representation (the scale of C cancels). */
export function negRenyi2(rep: tf.Tensor2D): tf.Scalar {
  const centred = tf.sub(rep, tf.mean(rep, 0, true));
  const c = tf.matMul(tf.transpose(centred), centred);
  const trC2 = tf.sum(tf.square(c));
  const trC = tf.sum(tf.square(centred));
  return tf.log(tf.div(trC2, tf.square(trC))) as tf.Scalar;
}
