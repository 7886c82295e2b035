import * as tf from '@tensorflow/tfjs-core';
import type { HostParams } from '../../models/init.js';
import type { Batch } from './forward.js';

/** Small tensor helpers of the single-run trainer (trainer.ts): batches, variables, host copies, reads. */

/** Reads a tensor the caller no longer needs and frees it, even when the read fails. */
export async function readAndDispose(t: tf.Tensor): Promise<tf.TypedArray> {
  try {
    return await t.data();
  } finally {
    t.dispose();
  }
}

export function oneHot(indices: Int32Array, depth: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(indices, 'int32'), depth), 'float32') as tf.Tensor2D);
}

export function batchOf(a: Int32Array, b: Int32Array, vocab: number): Batch {
  return { xa: oneHot(a, vocab), xb: oneHot(b, vocab), ia: tf.tensor1d(a, 'int32'), ib: tf.tensor1d(b, 'int32') };
}

export function column(inputs: Int32Array, col: number, rows?: Int32Array): Int32Array {
  const n = rows ? rows.length : inputs.length / 3;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = inputs[(rows ? rows[i] : i) * 3 + col];
  return out;
}

export function toVariables(host: HostParams, names: string[]): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const name of names) out[name] = tf.variable(tf.tensor(host[name].data, host[name].shape), true, undefined);
  return out;
}

export function cloneHost(host: HostParams): HostParams {
  const out: HostParams = {};
  for (const [name, t] of Object.entries(host)) out[name] = { shape: [...t.shape], data: Float32Array.from(t.data) };
  return out;
}

export function zerosLike(host: HostParams): HostParams {
  const out: HostParams = {};
  for (const [name, t] of Object.entries(host)) out[name] = { shape: [...t.shape], data: new Float32Array(t.data.length) };
  return out;
}
