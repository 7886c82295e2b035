import * as tf from '@tensorflow/tfjs-core';
import type { ProbeName } from '../../models/config.js';
import type { MeasureInput } from '../eval/record.js';
import { forward, type Batch, type ForwardContext } from './forward.js';
import { logitStatsOf, splitLogitStats } from './logit-stats.js';
import { countRead } from '../eval/counters.js';

/** What an evaluation reads out of a model (eval/record.ts builds the record from it). */
export type Readout = Pick<MeasureInput, 'loss' | 'correct' | 'covs' | 'norms' | 'logitStats' | 'logits'>;

/**
 * The tfjs readout of one model over every input of its task (the host's is host/host-eval.ts;
 * tests hold the two together): per-example loss and correctness, the logits' statistics, each
 * probe's covariance, Σθ² per tensor and, with `withLogits`, the logits as the loss sees them.
 * `asEvaluated` turns the model's logits into those (a temperature, a logit-matched scale).
 */
export async function tfjsReadout(o: {
  ctx: ForwardContext;
  params: Record<string, tf.Tensor>;
  names: string[];
  batch: Batch;
  labels: tf.Tensor2D;
  labelIds: tf.Tensor1D;
  probes: ProbeName[];
  asEvaluated: (z: tf.Tensor2D) => tf.Tensor2D;
  withLogits: boolean;
}): Promise<Readout> {
  const kept = tf.tidy(() => {
    const out = forward(o.ctx, o.params, o.batch, true);
    const logits = o.asEvaluated(out.logits);
    const perExample = tf.neg(tf.sum(tf.mul(o.labels, tf.logSoftmax(logits)), 1));
    const correct = tf.equal(tf.argMax(logits, 1), o.labelIds);
    const covs = o.probes.map((name) => {
      const r = out.probes[name]!;
      const centred = tf.sub(r, tf.mean(r, 0, true));
      // Explicit transpose: transposed products are far slower on wasm (see matmul-grad.ts).
      return tf.div(tf.matMul(tf.transpose(centred), centred), r.shape[0] - 1);
    });
    const norms = tf.stack(o.names.map((n) => tf.sum(tf.square(o.params[n]))));
    const stats = logitStatsOf(logits, o.labels, 1);
    return { perExample, correct, covs, norms, stats, logits: o.withLogits ? [logits] : [] };
  });
  try {
    const read = {
      loss: (await kept.perExample.data()) as Float32Array,
      correct: (await kept.correct.data()) as Uint8Array | Int32Array,
      covs: (await Promise.all(kept.covs.map((c: tf.Tensor) => c.data()))) as Float32Array[],
      norms: (await kept.norms.data()) as Float32Array,
      stats: (await kept.stats.data()) as Float32Array,
      logits: kept.logits.length ? ((await kept.logits[0].data()) as Float32Array) : undefined,
    };
    countRead(read.loss, read.correct, ...read.covs, read.norms, read.stats, read.logits);
    const { stats, ...rest } = read;
    return { ...rest, logitStats: splitLogitStats(stats) };
  } finally {
    tf.dispose([kept.perExample, kept.correct, ...kept.covs, kept.norms, kept.stats, ...kept.logits]);
  }
}
