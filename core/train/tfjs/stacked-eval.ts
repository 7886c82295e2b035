import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../../schema/run-config.js';
import type { EvalRecord } from '../../schema/eval-record.js';
import type { Dataset } from '../../tasks/dataset.js';
import { probesFor } from '../../models/config.js';
import { forwardStacked, type StackedBatch, type StackedContext } from './forward-stacked.js';
import { measure } from '../eval/record.js';
import { readoutPlan } from '../eval/plan.js';
import { logitStatsOf, splitLogitStats } from './logit-stats.js';
import { countRead } from '../eval/counters.js';

/**
 * Evaluations of some runs of a stacked group (stacked-group.ts) in one pass on the device: their
 * slices of every parameter, a forward pass over every pair of the task with the probes, and per
 * run the per-example losses and correctness, the probes' covariances (batched products), the
 * tensors' squared norms and the weight matrices the record needs, read back once; the records are then built on the
 * host by eval/record.ts, as for a run trained alone.
 */
export interface StackedEvalInput {
  /** Which runs of the group (their slice indices). */
  indices: number[];
  withSpectra: boolean;
  ctx: StackedContext;
  params: Record<string, tf.Variable>;
  names: string[];
  shapes: Record<string, number[]>;
  configs: RunConfig[];
  datasets: Dataset[];
  /** Every pair of the task for indices.length runs (tokens offset per run). */
  batch: StackedBatch;
  stepOf: (run: number) => number;
  eigenvalues: (matrix: Float32Array, n: number) => Float64Array;
}

export async function evaluateStacked(e: StackedEvalInput): Promise<EvalRecord[]> {
  const { indices, withSpectra, batch, names, shapes, configs, datasets } = e;
  const k = indices.length;
  const c0 = configs[0];
  const probes = probesFor(c0.arch);
  const ds0 = datasets[0];
  const pairs = ds0.labels.length;
  const plan = readoutPlan(c0, shapes, withSpectra);
  const progress = plan.logits;
  const read = plan.matrices;
  const kept = tf.tidy(() => {
    const idx = tf.tensor1d(indices, 'int32');
    const P = Object.fromEntries(names.map((n) => [n, tf.gather(e.params[n], idx)]));
    const out = forwardStacked({ ...e.ctx, runs: k }, P, batch, true);
    const labelIds = tf.tensor2d(Int32Array.from({ length: k * pairs }, (_, r) => ds0.labels[r % pairs]), [k, pairs], 'int32');
    const onehot = tf.cast(tf.oneHot(labelIds, ds0.classes), 'float32');
    const perExample = tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(out.logits)), 2));
    const correct = tf.cast(tf.equal(tf.argMax(out.logits, 2), labelIds), 'float32');
    const covs = probes.map((name) => {
      const r = out.probes[name]!;
      const centred = tf.sub(r, tf.mean(r, 1, true));
      return tf.div(tf.matMul(tf.transpose(centred, [0, 2, 1]), centred), r.shape[1] - 1);
    });
    const norms = tf.stack(names.map((n) => tf.sum(tf.square(P[n]), Array.from({ length: shapes[n].length }, (_, j) => j + 1))), 1);
    const stats = logitStatsOf(out.logits, onehot, 2);
    // The embedding and unembedding every evaluation (their effective ranks; the embedding's
    // group rows also give the Fourier or irrep alignment), every 2-D weight matrix at spectrum
    // evaluations (their weight spectra).
    const weights = read.map((n) => P[n]);
    // Every example's logits, for the progress measures where the task has them.
    const logits = progress ? [out.logits] : [];
    return { perExample, correct, covs, norms, stats, weights, logits };
  });
  try {
    const weights = (await Promise.all(kept.weights.map((w) => w.data()))) as Float32Array[];
    const [loss, correct, norms, stats, ...rest] = await Promise.all([kept.perExample.data(), kept.correct.data(), kept.norms.data(), kept.stats.data(), ...kept.covs.map((c) => c.data())]);
    const covs = rest as Float32Array[];
    const logits = kept.logits.length ? ((await kept.logits[0].data()) as Float32Array) : null;
    countRead(...weights, loss, correct, norms, stats, ...covs, logits ?? undefined);
    const nNames = names.length;
    return indices.map((run, s) => {
      // Views of run s's part of each read: measure() only reads them.
      const slice = (a: Float32Array, size: number): Float32Array => a.subarray(s * size, (s + 1) * size);
      return measure({
        step: e.stepOf(run),
        dataset: datasets[run],
        config: configs[run],
        names: names,
        loss: slice(loss as Float32Array, pairs),
        correct: slice(correct as Float32Array, pairs),
        covs: covs.map((c) => slice(c, c.length / k)),
        norms: slice(norms as Float32Array, nNames),
        logitStats: splitLogitStats(slice(stats as Float32Array, 3 * pairs)),
        logits: logits ? slice(logits, logits.length / k) : undefined,
        weights: Object.fromEntries(read.map((n, j) => [n, { shape: shapes[n], data: slice(weights[j], weights[j].length / k) }])),
        eigenvalues: e.eigenvalues,
        withSpectra,
      });
    });
  } finally {
    tf.dispose([kept.perExample, kept.correct, kept.norms, kept.stats, ...kept.weights, ...kept.covs, ...kept.logits]);
  }
}
