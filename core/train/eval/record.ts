import type { RunConfig } from '../../schema/run-config.js';
import { UPDATE_WINDOW, type EvalRecord } from '../../schema/eval-record.js';
import { spectralEdgeGap } from '../../spectra/spectral-edge.js';
import type { Dataset } from '../../tasks/dataset.js';
import { probesFor, probeWidth } from '../../models/config.js';
import { spectralSummary } from '../../spectra/entropy.js';
import { alignmentOfPower, fourierAlignment, gini } from '../../spectra/fourier.js';
import { irrepAlignment, irrepAlignmentOfSums } from '../../spectra/s5-irreps.js';
import { neuronLogitGini, progressMeasures, type ProgressMeasures } from '../../spectra/progress.js';
import { cyclicStructure, keyFrequencies, residueTask } from '../../spectra/residues.js';
import { effectiveRank, effectiveRankOfEsd, weightSpectrum, weightSpectrumOfEsd } from '../../spectra/weight-spectrum.js';
import { evalCounters } from './counters.js';
import { summariseExamples, type ExampleArrays, type ExampleSummary } from './examples.js';

/**
 * The evaluation room's last step (docs/architecture.md, "The evaluation room"): a record from
 * what an engine read out of one run's model over every input of its task (docs/methods.md,
 * "Evaluations") — raw, or reduced where the model lives. Every engine — the host readout, the
 * tfjs graphs (single and stacked), the WGSL evaluator — ends here, so every engine measures the
 * same way and writes the same keys (test/eval-keys.test.ts).
 */
export interface MeasureInput {
  step: number;
  dataset: Dataset;
  config: RunConfig;
  /** Parameter names, in the order of `norms`. */
  names: string[];
  /** Per example of the whole task: cross-entropy, and 1/0 for a correct argmax (absent where `summary` is given). */
  loss?: ExampleArrays['loss'];
  correct?: ExampleArrays['correct'];
  /** Per example: the logits' standard deviation across classes, the largest softmax probability, correct logit − largest other. */
  logitStats?: ExampleArrays['logitStats'];
  /** What the record keeps of those, from an engine that reduced them where they live (gpu/example-summary.ts). */
  summary?: ExampleSummary;
  /** Per probe of probesFor(arch), in that order: the covariance, width × width row-major (absent where `probeEigenvalues` is given). */
  covs?: ArrayLike<number>[];
  /** Per probe, its covariance's eigenvalues (ascending), from an engine that reduced the covariance where it lives (gpu/tridiagonal.ts). */
  probeEigenvalues?: Float64Array[];
  /**
   * The parameters: embed and W_U give their effective ranks every evaluation, and embed's first
   * `order` rows (the group tokens) the Fourier or irrep alignment; at spectrum evaluations
   * (withSpectra) every 2-D matrix gets its weight spectrum.
   */
  weights?: Record<string, { shape: number[]; data: ArrayLike<number> }>;
  /** What the record needs of the weights, from an engine that computed it where they live (in place of `weights`; gpu/weight-readout.ts). */
  weightSummary?: WeightSummary;
  /** Σ θ² of each parameter tensor. */
  norms: ArrayLike<number>;
  /**
   * Every example's logits as the loss sees them (N × classes row-major, the dataset's order):
   * Nanda's progress measures where the task has them (mod-add, mod-sub, mod-mul, mod-div).
   */
  logits?: ArrayLike<number>;
  /**
   * The progress measures already computed from sums the engine reduced on its device (the WGSL
   * engine: gpu/progress-readout.ts), in place of every input's logits.
   */
  progress?: ProgressMeasures;
  /** The Gram matrix (UPDATE_WINDOW²) of the last parameter updates, where the engine keeps them whole (the spectral-edge gap). */
  updateGram?: ArrayLike<number> | null;
  eigenvalues: (matrix: Float32Array, n: number) => Float64Array;
  withSpectra: boolean;
}

/**
 * The weight matrices' part of a record, reduced where they live: each matrix's ESD (eigenvalues
 * of WᵀW/n, descending; embed and W_U every evaluation, every 2-D matrix at spectrum
 * evaluations), the entries' variances at spectrum evaluations, and for cyclic tasks the power
 * per frequency of the embedding's group tokens (spectra/fourier.ts frequencyPower), of the same
 * rows in the residue structure's order (key frequencies) and of the neuron-to-logit map.
 */
export interface WeightSummary {
  shapes: Record<string, number[]>;
  esd: Record<string, Float64Array>;
  variance?: Record<string, number>;
  embedPower?: number[];
  keyPower?: number[];
  neuronLogitPower?: number[];
  /** S5: Σ over the embedding's columns of ‖f̂(ρ)‖²_F per irrep (spectra/s5-irreps.ts irrepAlignmentOfSums). */
  irrepSums?: number[];
}

export function measure(m: MeasureInput): EvalRecord {
  const started = performance.now();
  try {
    return buildRecord(m);
  } finally {
    evalCounters.records++;
    evalCounters.hostMs += performance.now() - started;
  }
}

function exampleArrays(m: MeasureInput): ExampleArrays {
  if (!m.loss || !m.correct) throw new Error('an evaluation record needs the per-example numbers or their summary');
  return { loss: m.loss, correct: m.correct, logitStats: m.logitStats };
}

function buildRecord(m: MeasureInput): EvalRecord {
  const { dataset, config } = m;
  const model = { arch: config.arch, dModel: config.dModel, nHeads: config.nHeads, dMlp: config.dMlp };
  const tensor_norms: Record<string, number> = {};
  let total = 0;
  m.names.forEach((n, i) => {
    tensor_norms[n] = Math.sqrt(m.norms[i]);
    total += m.norms[i];
  });
  const examples = m.summary ?? summariseExamples(exampleArrays(m), dataset);
  const record: EvalRecord = {
    step: m.step,
    train_loss: examples.train_loss,
    train_acc: examples.train_acc,
    test_loss: examples.test_loss,
    test_acc: examples.test_acc,
    weight_norm: Math.sqrt(total),
    tensor_norms,
    probes: {},
    fourier: null,
  };
  record.logprob_quantiles = examples.logprob_quantiles;
  const edge = m.updateGram ? spectralEdgeGap(m.updateGram, UPDATE_WINDOW) : null;
  if (edge) record.update_edge = edge;
  if (examples.logits) record.logits = examples.logits;
  if (m.withSpectra) record.spectra = {};
  const eig = (g: Float64Array, n: number): Float64Array => m.eigenvalues(Float32Array.from(g), n);
  const ws = m.weightSummary;
  if (ws?.esd.embed && ws.esd.W_U) record.weight_erank = { embed: effectiveRankOfEsd(ws.esd.embed), W_U: effectiveRankOfEsd(ws.esd.W_U) };
  else if (m.weights?.embed && m.weights.W_U) {
    const rank = (w: { shape: number[]; data: ArrayLike<number> }): number => effectiveRank(w.data, w.shape[0], w.shape[1], eig);
    record.weight_erank = { embed: rank(m.weights.embed), W_U: rank(m.weights.W_U) };
  }
  if (m.withSpectra && ws?.variance) {
    record.weight_spectra = {};
    for (const [name, e] of Object.entries(ws.esd)) record.weight_spectra[name] = weightSpectrumOfEsd(e, ws.shapes[name][0], ws.shapes[name][1], ws.variance[name]);
  } else if (m.withSpectra && m.weights) {
    record.weight_spectra = {};
    for (const [name, w] of Object.entries(m.weights)) if (w.shape.length === 2) record.weight_spectra[name] = weightSpectrum(w.data, w.shape[0], w.shape[1], eig);
  }
  probesFor(config.arch).forEach((name, i) => {
    const width = probeWidth(model, name);
    const cov = m.covs?.[i];
    const eig = m.probeEigenvalues?.[i] ?? m.eigenvalues(cov instanceof Float32Array ? cov : Float32Array.from(cov ?? []), width);
    record.probes[name] = spectralSummary(eig, width);
    if (record.spectra) record.spectra[name] = Array.from(eig).reverse();
  });
  // The group tokens' embedding rows (both alignments read only the first `order` rows).
  const embed = m.weights?.embed?.data;
  if (!dataset.task.cyclic) {
    // S5's tasks: the same two figures over its irreducible representations (the group Fourier transform).
    const a = ws?.irrepSums ? irrepAlignmentOfSums(ws.irrepSums) : embed ? irrepAlignment(embed, model.dModel) : null;
    if (a) record.fourier = { topk_share: a.topk_share, gini: a.gini };
  } else if (embed || ws?.embedPower) {
    const f = ws?.embedPower ? alignmentOfPower(ws.embedPower, config.fourierK) : fourierAlignment(embed!, dataset.task.order, model.dModel, config.fourierK);
    record.fourier = { topk_share: f.topk_share, gini: f.gini };
    const task = residueTask(config.task);
    if ((m.logits || m.progress) && task) {
      const structure = cyclicStructure(task, dataset.task.order);
      // An engine that reduced the logits where they live brings the measures, key frequencies included.
      record.progress = m.progress
        ? { ...m.progress }
        : progressMeasures({ structure, classes: dataset.classes, logits: m.logits!, inputs: dataset.inputs, labels: dataset.labels, trainIndices: dataset.trainIndices, testIndices: dataset.testIndices, keyFreqs: keyFrequencies(embed!, structure, model.dModel, config.fourierK) });
      const wOut = m.weights?.W_out;
      const wU = m.weights?.W_U;
      if (ws?.neuronLogitPower) record.progress.neuron_logit_gini = gini(ws.neuronLogitPower);
      else if (wOut && wU) record.progress.neuron_logit_gini = neuronLogitGini(wOut.data, wU.data, model.dMlp, model.dModel, dataset.classes, structure);
    }
  }
  return record;
}
