/*
 * Why this file is over 300 lines: one class owns a run's tensors (parameters, AdamW moments,
 * batches, the host copies the fused MLP step and the kernels use) and their lifetimes; split
 * across modules, each piece would have to pass a dozen tensors back and forth and the dispose
 * rules with them. Its stateless helpers live in tfjs/tensors.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { RunConfig } from '../schema/run-config.js';
import type { EvalRecord } from '../schema/eval-record.js';
import type { Dataset } from '../tasks/dataset.js';
import { probesFor, type ModelConfig } from '../models/config.js';
import { initParamsFor, type HostParams } from '../models/init.js';
import { crossEntropy, forward, makeHeadMatrices, type Batch, type ForwardContext } from './tfjs/forward.js';
import { batchOf, cloneHost, column, oneHot, readAndDispose, toVariables, zerosLike } from './tfjs/tensors.js';
import { negRenyi2, orthogonalMix, randomOrthogonal } from './interventions.js';
import { HostMlpStep } from './host/host-mlp.js';
import type { HostMix, HostTransformerStep } from './host/host-transformer.js';
import { fusedStepApplies, makeHostEvaluator, makeHostStep } from './host/host-choice.js';
import type { HostEvaluator } from './host/host-eval.js';
import { SimdAdam } from './host/simd-adam.js';
import { measure } from './eval/record.js';
import { tfjsReadout } from './tfjs/readout.js';
import { eigenvaluesHere } from './eval/eigen.js';
import { evaluatedLogits, evaluationFactor, meanLogitScale, targetScaleAt, type LogitTargets } from './logit-temperature.js';
import { residueTask } from '../spectra/residues.js';

/** Everything needed to continue training bit-for-bit: parameters and AdamW moments. */
export interface TrainState {
  step: number;
  params: HostParams;
  m: HostParams;
  v: HostParams;
}

export function modelConfigOf(config: RunConfig): ModelConfig {
  return { arch: config.arch, dModel: config.dModel, nHeads: config.nHeads, dMlp: config.dMlp };
}

/**
 * Full-batch training of one model with AdamW (PyTorch semantics: decoupled weight decay
 * θ ← θ(1 − lr·wd), then the bias-corrected Adam update with eps outside the square root).
 * The caller selects the tfjs backend first; the trainer owns every tensor it creates and
 * frees them in dispose().
 */
export class Trainer {
  readonly config: RunConfig;
  readonly dataset: Dataset;
  private readonly ctx: ForwardContext;
  private readonly names: string[];
  /** Parameters as tfjs variables (what autodiff differentiates)… */
  private readonly params: Record<string, tf.Variable>;
  /** …mirrored on the host, where AdamW updates them together with its moments. */
  private readonly hostParams: HostParams;
  private readonly m: HostParams;
  private readonly v: HostParams;
  private readonly trainBatch: Batch;
  private readonly trainLabels: tf.Tensor2D;
  private readonly allBatch: Batch;
  private readonly allLabels: tf.Tensor2D;
  private readonly allLabelIds: tf.Tensor1D;
  private stepCount: number;
  private disposed = false;
  /** ‖θ‖ after the last step (or at construction). */
  private norm: number;
  /** norm-matched: target ‖θ‖ after step t at index t. */
  private readonly normTargets: Float64Array | null;
  /** logit-matched: the mix run's logit scale at its evaluations. */
  private readonly logitTargets: LogitTargets | null;
  /** The output temperature of the step being taken (logit-temperature.ts); 1 for most runs. */
  private temperature = 1;
  /** The fused host loss-and-gradient (host-mlp.ts, host-transformer.ts), where it applies. */
  private readonly hostStep: HostMlpStep | HostTransformerStep | null;
  /** The host evaluation where sgemm is (made at the first evaluation), null where not. */
  private hostEval: HostEvaluator | null | undefined;
  /** Eigenvalues of the probes' covariances (LAPACK on wasm+openblas, see lapackEigen). */
  private readonly eigenvalues: (matrix: Float32Array, n: number) => Float64Array;
  /** The host parameters changed since the tfjs variables were last written. */
  private variablesStale = false;
  /** AdamW in WebAssembly SIMD over the flat parameter, moment and gradient buffers, where the kernels loaded. */
  private readonly simdAdam: SimdAdam | null;

  constructor(config: RunConfig, dataset: Dataset, state?: TrainState, options: { normTargets?: Float64Array; logitTargets?: LogitTargets; /** false: evaluate with the tfjs graph even where sgemm is (tests hold the two together). */ hostEvaluation?: boolean } = {}) {
    this.config = config;
    this.dataset = dataset;
    const model = modelConfigOf(config);
    const fresh = state ? null : initParamsFor(config, model, dataset.vocab, dataset.classes);
    const init = state ?? { step: 0, params: fresh!, m: zerosLike(fresh!), v: zerosLike(fresh!) };
    this.names = Object.keys(init.params);
    this.params = toVariables(init.params, this.names);
    this.simdAdam = SimdAdam.create(init, this.names);
    this.hostParams = this.simdAdam?.params ?? cloneHost(init.params);
    this.m = this.simdAdam?.m ?? cloneHost(init.m);
    this.v = this.simdAdam?.v ?? cloneHost(init.v);
    this.stepCount = init.step;
    this.ctx = { model, eqToken: dataset.eqToken, order: dataset.task.order, rowLookup: tf.getBackend() === 'cpu' ? 'onehot' : 'gather' };
    if (model.arch === 'transformer') Object.assign(this.ctx, makeHeadMatrices(model));
    const { inputs, labels, trainIndices } = dataset;
    const trainA = column(inputs, 0, trainIndices);
    const trainB = column(inputs, 1, trainIndices);
    const trainLabelIds = Int32Array.from(trainIndices, (i) => labels[i]);
    this.trainBatch = batchOf(trainA, trainB, dataset.vocab);
    this.trainLabels = oneHot(trainLabelIds, dataset.classes);
    this.allBatch = batchOf(column(inputs, 0), column(inputs, 1), dataset.vocab);
    this.allLabels = oneHot(labels, dataset.classes);
    this.allLabelIds = tf.tensor1d(labels, 'int32');
    this.normTargets = options.normTargets ?? null;
    if (config.condition === 'norm-matched' && !this.normTargets) throw new Error('a norm-matched run needs the target weight-norm trajectory');
    this.logitTargets = options.logitTargets ?? null;
    if (options.hostEvaluation === false) this.hostEval = null;
    // A fixed temperature holds from the start (trainLoss before the first step sees it too).
    if (!this.logitTargets) this.temperature = config.temperature ?? 1;
    if (config.condition === 'logit-matched' && !this.logitTargets) throw new Error('a logit-matched run needs the target logit-scale trajectory');
    this.norm = this.computeNorm();
    this.hostStep = fusedStepApplies(config) ? makeHostStep(config, dataset, trainA, trainB, trainLabelIds) : null;
    this.eigenvalues = eigenvaluesHere();
  }

  /** Whether this run trains on a fused host step (host/host-choice.ts). */
  static fusedStepApplies(config: RunConfig): boolean {
    return fusedStepApplies(config);
  }

  /** Whether this run's steps use a fused host step. */
  get fusedSteps(): boolean {
    return this.hostStep !== null;
  }

  /** The orthogonal mix's matrix for the step about to be taken, or null when the run has none. */
  private mixForStep(): HostMix | null {
    const { config } = this;
    if (config.condition !== 'mix' || config.mixForm !== 'orthogonal' || config.mixStrength <= 0) return null;
    return { q: randomOrthogonal(config.dModel, config.seed, this.stepCount + 1), alpha: config.mixStrength };
  }

  /** Write the host parameters into the tfjs variables, if a host-only step changed them. */
  private syncVariables(): void {
    if (!this.variablesStale) return;
    for (const name of this.names) {
      const fresh = tf.tensor(this.hostParams[name].data, this.hostParams[name].shape);
      this.params[name].assign(fresh);
      fresh.dispose();
    }
    this.variablesStale = false;
  }

  /** ‖θ‖ over all parameters, from the host mirror. */
  private computeNorm(): number {
    let s = 0;
    for (const name of this.names) {
      const d = this.hostParams[name].data;
      for (let i = 0; i < d.length; i++) s += d[i] * d[i];
    }
    return Math.sqrt(s);
  }

  /** ‖θ‖ after the last step. */
  get weightNorm(): number {
    return this.norm;
  }

  get step(): number {
    return this.stepCount;
  }

  /** Logits over every input of the task, [N × classes] row-major. */
  async allLogits(): Promise<Float32Array> {
    this.syncVariables();
    return readAndDispose(tf.tidy(() => forward(this.ctx, this.params, this.allBatch, false).logits)) as Promise<Float32Array>;
  }

  /** Training loss at the current parameters (reads back a scalar). */
  async trainLoss(): Promise<number> {
    this.syncVariables();
    return (await readAndDispose(tf.tidy(() => crossEntropy(this.tempered(forward(this.ctx, this.params, this.trainBatch, false).logits), this.trainLabels))))[0];
  }

  /** Gradients of the training loss at the current parameters, on the host. */
  async gradients(): Promise<{ loss: number; grads: HostParams }> {
    if (this.hostStep instanceof HostMlpStep) return this.hostStep.lossAndGradients(this.hostParams);
    if (this.hostStep) return this.hostStep.lossAndGradients(this.hostParams, this.mixForStep());
    this.syncVariables();
    this.temperature = await this.temperatureNow();
    const { value, grads } = tf.variableGrads(() => this.lossTensor(), this.names.map((n) => this.params[n]));
    // Reads are asynchronous: the WebGPU backend has no synchronous read in Node. On wasm and cpu
    // the data is already there and awaiting costs a microtask.
    try {
      const [loss, ...data] = await Promise.all([value.data(), ...this.names.map((name) => grads[this.params[name].name].data())]);
      const out: HostParams = {};
      this.names.forEach((name, k) => {
        out[name] = { shape: [...grads[this.params[name].name].shape], data: data[k] as Float32Array };
      });
      return { loss: loss[0], grads: out };
    } finally {
      tf.dispose([value, ...Object.values(grads)]);
    }
  }

  /**
   * The output temperature for the parameters as they are now (logit-temperature.ts): the fixed
   * one, or for a logit-matched run the one that brings its logit scale over every example to the
   * target's at this step (one extra forward pass and a read, for these controls only).
   */
  private async temperatureNow(): Promise<number> {
    if (!this.logitTargets) return this.config.temperature ?? 1;
    const target = targetScaleAt(this.logitTargets, this.stepCount);
    const scale = (await readAndDispose(tf.tidy(() => meanLogitScale(forward(this.ctx, this.params, this.allBatch, false).logits))))[0];
    return scale / target;
  }

  /** Logits as the loss sees them: divided by the step's temperature (untouched at 1). */
  private tempered(logits: tf.Tensor2D): tf.Tensor2D {
    return this.temperature === 1 ? logits : tf.div<tf.Tensor2D>(logits, this.temperature);
  }

  /** The training objective at the current step, interventions included. */
  private lossTensor(): tf.Scalar {
    const { config } = this;
    if (config.condition === 'mix' && config.mixForm === 'orthogonal' && config.mixStrength > 0) {
      const d = config.dModel;
      const q = tf.tensor2d(randomOrthogonal(d, config.seed, this.stepCount + 1), [d, d]);
      const ctx: ForwardContext = { ...this.ctx, repTransform: (r) => orthogonalMix(r, q, config.mixStrength) };
      return crossEntropy(this.tempered(forward(ctx, this.params, this.trainBatch, false).logits), this.trainLabels);
    }
    if (config.condition === 'mix' && config.mixForm === 'entropy-penalty' && config.mixStrength > 0) {
      const out = forward(this.ctx, this.params, this.trainBatch, true);
      return tf.add(crossEntropy(this.tempered(out.logits), this.trainLabels), tf.mul(negRenyi2(out.probes['resid.final']!), config.mixStrength)) as tf.Scalar;
    }
    return crossEntropy(this.tempered(forward(this.ctx, this.params, this.trainBatch, false).logits), this.trainLabels);
  }

  /**
   * One full-batch AdamW step. The update runs on the host over Float32Arrays: per tensor it is a
   * handful of elementwise operations that cost more in kernel launches than in arithmetic (about a
   * hundred tiny kernels a step on wasm); the gradients are read back once and the new parameters
   * written once.
   */
  async trainStep(): Promise<void> {
    const { lr, beta1, beta2, eps, weightDecay } = this.config;
    const { grads } = await this.gradients();
    const t = this.stepCount + 1;
    const stepSize = lr / (1 - beta1 ** t);
    const sqrtBc2 = Math.sqrt(1 - beta2 ** t);
    const decay = 1 - lr * weightDecay;
    let normSq = 0;
    if (this.simdAdam) normSq = this.simdAdam.step(grads, { beta1, beta2, eps, decay, stepSize, sqrtBc2 });
    else for (const name of this.names) {
      const g = grads[name].data;
      const p = this.hostParams[name].data;
      const m = this.m[name].data;
      const v = this.v[name].data;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        m[i] = beta1 * m[i] + (1 - beta1) * gi;
        v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
        p[i] = p[i] * decay - (stepSize * m[i]) / (Math.sqrt(v[i]) / sqrtBc2 + eps);
        normSq += p[i] * p[i];
      }
    }
    this.stepCount = t;
    this.norm = Math.sqrt(normSq);
    if (this.normTargets) {
      // Replay the mix run's ‖θ‖ after this step, without touching the representation.
      const target = this.normTargets[t];
      if (target === undefined || !Number.isFinite(target)) throw new Error(`the norm-matched target has no weight norm for step ${t}`);
      const factor = target / this.norm;
      for (const name of this.names) {
        const p = this.hostParams[name].data;
        for (let i = 0; i < p.length; i++) p[i] *= factor;
      }
      this.norm = this.computeNorm();
    }
    // On the fused path the tfjs variables are written only when next needed (an evaluation).
    this.variablesStale = true;
    if (!this.hostStep) this.syncVariables();
  }

  /**
   * Logits for every input of the task (dataset order), N × classes row-major, at the current
   * parameters: the model's, or with `asEvaluated` the ones an evaluation sees (below).
   */
  async logits(asEvaluated = false): Promise<Float32Array> {
    this.syncVariables();
    const out = tf.tidy(() => {
      const z = forward(this.ctx, this.params, this.allBatch, false).logits;
      return asEvaluated ? this.asEvaluated(z) : z;
    });
    try {
      return (await out.data()) as Float32Array;
    } finally {
      out.dispose();
    }
  }

  /** The logits an evaluation sees (the loss's at this step): a logit-matched run's scaled to its target's scale, a fixed temperature's divided by it. */
  private asEvaluated(z: tf.Tensor2D): tf.Tensor2D {
    return evaluatedLogits(z, this.config, this.logitTargets, this.stepCount);
  }

  /** Measure every observable at the current parameters. */
  async evaluate(withSpectra: boolean): Promise<EvalRecord> {
    const { dataset, config } = this;
    // The host mirror is the parameters (checkpoints are written from it too).
    const measured = { step: this.stepCount, dataset, config, names: this.names, eigenvalues: this.eigenvalues, withSpectra, weights: this.hostParams };
    const withLogits = residueTask(config.task) !== null;
    // Where sgemm is, the host reads the model out (host/host-eval.ts); else the tfjs graph.
    if (this.hostEval === undefined) this.hostEval = makeHostEvaluator(config, dataset);
    if (this.hostEval) return measure({ ...measured, ...this.hostEval.readout(this.hostParams, this.names, (raw) => evaluationFactor(config, this.logitTargets, this.stepCount, raw), withLogits) });
    this.syncVariables();
    const read = await tfjsReadout({ ctx: this.ctx, params: this.params, names: this.names, batch: this.allBatch, labels: this.allLabels, labelIds: this.allLabelIds, probes: probesFor(config.arch), asEvaluated: (z) => this.asEvaluated(z), withLogits });
    return measure({ ...measured, ...read });
  }


  /** The parameters' host mirror, read-only (the update window of run-group.ts reads it after each step). */
  get parameters(): Readonly<HostParams> {
    return this.hostParams;
  }

  /** A host copy of the full training state (for checkpoints). */
  snapshot(): TrainState {
    return { step: this.stepCount, params: cloneHost(this.hostParams), m: cloneHost(this.m), v: cloneHost(this.v) };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([
      ...Object.values(this.params),
      this.trainBatch.xa,
      this.trainBatch.xb,
      this.trainBatch.ia,
      this.trainBatch.ib,
      this.trainLabels,
      this.allBatch.xa,
      this.allBatch.xb,
      this.allBatch.ia,
      this.allBatch.ib,
      this.allLabels,
      this.allLabelIds,
    ]);
    if (this.ctx.headSum) tf.dispose([this.ctx.headSum, this.ctx.headSpread!]);
  }
}
