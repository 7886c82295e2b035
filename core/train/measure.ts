import type { RunConfig } from '../schema/run-config.js';
import { LOGPROB_QUANTILES, UPDATE_WINDOW, type EvalRecord } from '../schema/eval-record.js';
import { spectralEdgeGap } from '../spectra/spectral-edge.js';
import type { Dataset } from '../tasks/dataset.js';
import { probesFor, probeWidth } from '../models/config.js';
import { spectralSummary } from '../spectra/entropy.js';
import { fourierAlignment } from '../spectra/fourier.js';
import { irrepAlignment } from '../spectra/s5-irreps.js';
import { neuronLogitGini, progressMeasures } from '../spectra/progress.js';
import { cyclicStructure, keyFrequencies, residueTask } from '../spectra/residues.js';
import { symmetricEigenvalues } from '../spectra/eigen.js';
import { effectiveRank, weightSpectrum } from '../spectra/weight-spectrum.js';
import * as tf from '@tensorflow/tfjs-core';
import { blasMatMulRegistered, lapackEigenvalues, loadBlas } from './host/blas.js';

/**
 * The probes' eigenvalues: LAPACK from the same library on `wasm+openblas` (a 256-wide
 * covariance: ~6× faster than in JS, `npm run bench:eigen`), else spectra/eigen.ts. The two agree
 * to ~1e-13 (test/blas.test.ts), and the backend is recorded with every run.
 */
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

export function eigenSolver(): (matrix: Float32Array, n: number) => Float64Array {
  if (tf.getBackend() === 'wasm' && blasMatMulRegistered()) {
    const blas = loadBlas();
    const lapack = blas instanceof Error ? null : lapackEigenvalues(blas);
    if (lapack) return lapack;
  }
  return symmetricEigenvalues;
}

/**
 * An evaluation's record from what the device computed for one run over every input of its task
 * (docs/methods.md, "Evaluations"): per-example losses and correctness, the probes' covariances,
 * the parameters' squared norms and, for cyclic tasks, the embedding. The single-run trainer and
 * the stacked group both end here, so both measure the same way.
 */
export interface MeasureInput {
  step: number;
  dataset: Dataset;
  config: RunConfig;
  /** Parameter names, in the order of `norms`. */
  names: string[];
  /** Per example of the whole task: cross-entropy, and 1/0 for a correct argmax. */
  loss: ArrayLike<number>;
  correct: ArrayLike<number>;
  /** Per probe of probesFor(arch), in that order: the covariance, width × width row-major. */
  covs: ArrayLike<number>[];
  /** Per example: the logits' standard deviation across classes, the largest softmax probability, correct logit − largest other. */
  logitStats?: { std: ArrayLike<number>; maxProb: ArrayLike<number>; margin: ArrayLike<number> };
  /**
   * The parameters: embed and W_U give their effective ranks every evaluation, and embed's first
   * `order` rows (the group tokens) the Fourier or irrep alignment; at spectrum evaluations
   * (withSpectra) every 2-D matrix gets its weight spectrum.
   */
  weights?: Record<string, { shape: number[]; data: ArrayLike<number> }>;
  /** Σ θ² of each parameter tensor. */
  norms: ArrayLike<number>;
  /**
   * Every example's logits as the loss sees them (N × classes row-major, the dataset's order):
   * Nanda's progress measures where the task has them (mod-add, mod-sub, mod-mul, mod-div).
   */
  logits?: ArrayLike<number>;
  /** The Gram matrix (UPDATE_WINDOW²) of the last parameter updates, where the engine keeps them whole (the spectral-edge gap). */
  updateGram?: ArrayLike<number> | null;
  eigenvalues: (matrix: Float32Array, n: number) => Float64Array;
  withSpectra: boolean;
}

/** Quantiles (linear between order statistics) of −loss, the log-probability of the correct class, over every example. */
export function logProbQuantiles(loss: ArrayLike<number>): number[] {
  const x = Float64Array.from(loss, (l) => -l).sort();
  return LOGPROB_QUANTILES.map((q) => {
    const at = q * (x.length - 1);
    const lo = Math.floor(at);
    const hi = Math.min(x.length - 1, lo + 1);
    return x[lo] + (at - lo) * (x[hi] - x[lo]);
  });
}

function meanAt(values: ArrayLike<number>, idx: Int32Array): number {
  let s = 0;
  for (let i = 0; i < idx.length; i++) s += values[idx[i]];
  return idx.length ? s / idx.length : NaN;
}

export function measure(m: MeasureInput): EvalRecord {
  const { dataset, config } = m;
  const model = { arch: config.arch, dModel: config.dModel, nHeads: config.nHeads, dMlp: config.dMlp };
  const tensor_norms: Record<string, number> = {};
  let total = 0;
  m.names.forEach((n, i) => {
    tensor_norms[n] = Math.sqrt(m.norms[i]);
    total += m.norms[i];
  });
  const record: EvalRecord = {
    step: m.step,
    train_loss: meanAt(m.loss, dataset.trainIndices),
    train_acc: meanAt(m.correct, dataset.trainIndices),
    test_loss: meanAt(m.loss, dataset.testIndices),
    test_acc: meanAt(m.correct, dataset.testIndices),
    weight_norm: Math.sqrt(total),
    tensor_norms,
    probes: {},
    fourier: null,
  };
  record.logprob_quantiles = logProbQuantiles(m.loss);
  const edge = m.updateGram ? spectralEdgeGap(m.updateGram, UPDATE_WINDOW) : null;
  if (edge) record.update_edge = edge;
  if (m.logitStats) {
    const { std, maxProb, margin } = m.logitStats;
    let s = 0;
    let q = 0;
    for (let i = 0; i < std.length; i++) {
      s += std[i];
      q += maxProb[i];
    }
    record.logits = { scale: s / std.length, max_softmax: q / maxProb.length, train_margin: meanAt(margin, dataset.trainIndices) };
  }
  if (m.withSpectra) record.spectra = {};
  const eig = (g: Float64Array, n: number): Float64Array => m.eigenvalues(Float32Array.from(g), n);
  if (m.weights?.embed && m.weights.W_U) {
    const rank = (w: { shape: number[]; data: ArrayLike<number> }): number => effectiveRank(w.data, w.shape[0], w.shape[1], eig);
    record.weight_erank = { embed: rank(m.weights.embed), W_U: rank(m.weights.W_U) };
  }
  if (m.withSpectra && m.weights) {
    record.weight_spectra = {};
    for (const [name, w] of Object.entries(m.weights)) if (w.shape.length === 2) record.weight_spectra[name] = weightSpectrum(w.data, w.shape[0], w.shape[1], eig);
  }
  probesFor(config.arch).forEach((name, i) => {
    const width = probeWidth(model, name);
    const cov = m.covs[i];
    const eig = m.eigenvalues(cov instanceof Float32Array ? cov : Float32Array.from(cov), width);
    record.probes[name] = spectralSummary(eig, width);
    if (record.spectra) record.spectra[name] = Array.from(eig).reverse();
  });
  // The group tokens' embedding rows (both alignments read only the first `order` rows).
  const embed = m.weights?.embed?.data;
  if (embed && !dataset.task.cyclic) {
    // S5's tasks: the same two figures over its irreducible representations (the group Fourier transform).
    const a = irrepAlignment(embed, model.dModel);
    record.fourier = { topk_share: a.topk_share, gini: a.gini };
  } else if (embed) {
    const f = fourierAlignment(embed, dataset.task.order, model.dModel, config.fourierK);
    record.fourier = { topk_share: f.topk_share, gini: f.gini };
    const task = residueTask(config.task);
    if (m.logits && task) {
      const structure = cyclicStructure(task, dataset.task.order);
      const keyFreqs = keyFrequencies(embed, structure, model.dModel, config.fourierK);
      record.progress = progressMeasures({ structure, classes: dataset.classes, logits: m.logits, inputs: dataset.inputs, labels: dataset.labels, trainIndices: dataset.trainIndices, testIndices: dataset.testIndices, keyFreqs });
      const wOut = m.weights?.W_out;
      const wU = m.weights?.W_U;
      if (wOut && wU) record.progress.neuron_logit_gini = neuronLogitGini(wOut.data, wU.data, model.dMlp, model.dModel, dataset.classes, structure);
    }
  }
  return record;
}
