import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { PRESETS, parseRunConfig } from '../core/schema/run-config.js';
import { initParams } from '../core/models/init.js';
import { crossEntropy, forward, type Batch } from '../core/train/tfjs/forward.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { modelConfigOf } from '../core/train/trainer.js';

/**
 * The MLP's first layer is computed per token (a table lookup, core/train/tfjs/forward.ts, with our
 * own gather kernels on wasm); here it is checked against the plain formula — concat(E[a], E[b])
 * · W_in with one-hot products — by
 * training both from the same start for 50 plain gradient steps: the losses must agree to 1e-5.
 */
function plainMlpLogits(P: Record<string, tf.Tensor>, b: Batch): tf.Tensor2D {
  const E = P.embed as tf.Tensor2D;
  const x = tf.concat([tf.matMul(b.xa, E), tf.matMul(b.xb, E)], 1) as tf.Tensor2D;
  const hidden = tf.relu(tf.add(tf.matMul(x, P.W_in as tf.Tensor2D), P.b_in)) as tf.Tensor2D;
  return tf.matMul(tf.add(tf.matMul(hidden, P.W_out as tf.Tensor2D), P.b_out) as tf.Tensor2D, P.W_U as tf.Tensor2D) as tf.Tensor2D;
}

describe('exact algebra of the MLP', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('trains exactly like the plain formula: same loss to 1e-5 over 50 steps', () => {
    const config = parseRunConfig({ ...PRESETS.fast, arch: 'mlp', p: 23, dModel: 32, dMlp: 64, seed: 2 });
    const ds = makeDataset({ task: 'mod-add', p: 23, trainFraction: 0.5, seed: 2 });
    const init = initParams(modelConfigOf(config), ds.vocab, ds.classes, 2);
    const a = Int32Array.from(ds.trainIndices, (i) => ds.inputs[i * 3]);
    const bIdx = Int32Array.from(ds.trainIndices, (i) => ds.inputs[i * 3 + 1]);
    const batch: Batch = {
      xa: tf.oneHot(tf.tensor1d(a, 'int32'), ds.vocab).toFloat() as tf.Tensor2D,
      xb: tf.oneHot(tf.tensor1d(bIdx, 'int32'), ds.vocab).toFloat() as tf.Tensor2D,
      ia: tf.tensor1d(a, 'int32'),
      ib: tf.tensor1d(bIdx, 'int32'),
    };
    const labels = tf.oneHot(tf.tensor1d(Int32Array.from(ds.trainIndices, (i) => ds.labels[i]), 'int32'), ds.classes).toFloat() as tf.Tensor2D;
    const ctx = { model: modelConfigOf(config), eqToken: ds.eqToken, order: ds.task.order };
    const run = (logits: (P: Record<string, tf.Tensor>) => tf.Tensor2D): number[] => {
      const vars = Object.fromEntries(Object.entries(init).map(([k, v]) => [k, tf.variable(tf.tensor(v.data, v.shape), true, `${k}-${Math.random()}`)]));
      const losses: number[] = [];
      for (let step = 0; step < 50; step++) {
        const { value, grads } = tf.variableGrads(() => crossEntropy(logits(vars), labels), Object.values(vars));
        losses.push(value.dataSync()[0]);
        for (const v of Object.values(vars)) v.assign(tf.sub(v, tf.mul(grads[v.name], 0.5)));
        tf.dispose([value, ...Object.values(grads)]);
      }
      tf.dispose(Object.values(vars));
      return losses;
    };
    const fast = run((P) => forward(ctx, P, batch, false).logits);
    const plain = run((P) => plainMlpLogits(P, batch));
    for (let i = 0; i < 50; i++) expect(Math.abs(fast[i] - plain[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, plain[i]));
    expect(fast[49]).toBeLessThan(fast[0]); // and it trains
    tf.dispose([batch.xa, batch.xb, batch.ia, batch.ib, labels]);
  });

  it('looks rows up on wasm exactly like the one-hot product, gradient included', () => {
    const table = tf.tensor2d(Array.from({ length: 5 * 3 }, (_, i) => Math.sin(i) * 10), [5, 3]);
    const idx = tf.tensor1d([4, 0, 4, 2, 4], 'int32');
    const onehot = tf.oneHot(idx, 5).toFloat() as tf.Tensor2D;
    expect(Array.from(tf.gather(table, idx).dataSync())).toEqual(Array.from(tf.matMul(onehot, table).dataSync()));
    const dy = tf.tensor2d(Array.from({ length: 5 * 3 }, (_, i) => i + 1), [5, 3]);
    const g1 = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, idx), dy)))(table);
    const g2 = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.matMul(onehot, t as tf.Tensor2D), dy)))(table);
    expect(Array.from(g1.dataSync())).toEqual(Array.from(g2.dataSync()));
    // Row 4 was looked up three times: its gradient sums three rows of dy.
    expect(Array.from(g1.dataSync().slice(12, 15))).toEqual([1 + 7 + 13, 2 + 8 + 14, 3 + 9 + 15]);
    expect(() => tf.gather(table, tf.tensor1d([7], 'int32')).dataSync()).toThrow(/index 7 is not in \[0, 5\)/);
  });
});
