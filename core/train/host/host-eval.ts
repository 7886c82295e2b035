import type { RunConfig } from '../../schema/run-config.js';
import type { Dataset } from '../../tasks/dataset.js';
import type { HostParams } from '../../models/init.js';
import { probesFor, type ProbeName } from '../../models/config.js';
import { HostMlpStep, type Gemm } from './host-mlp.js';
import { HostTransformerStep } from './host-transformer.js';
import type { HostKernelExports } from './host-kernels.js';

/**
 * What an evaluation reads from the model, computed on the host with the fused steps' forward
 * pass and sgemm instead of a tfjs graph over every input (issue 36: on `wasm+openblas` the tfjs
 * evaluation spent about two thirds of its time in op dispatch and copies): per-example loss and
 * correctness, the logits' statistics, each probe's covariance, Σθ² per tensor and, where asked,
 * the logits as the loss sees them. The same readout the tfjs path builds (trainer.ts evaluate),
 * so measure() turns either into the same record (test/host-eval.test.ts holds them together).
 */
export interface HostReadout {
  loss: Float32Array;
  correct: Uint8Array;
  covs: Float32Array[];
  norms: Float64Array;
  logitStats: { std: Float32Array; maxProb: Float32Array; margin: Float32Array };
  /** A view of the evaluator's own buffer (shared by a thread's runs: host-choice.ts): use it before the next readout, or copy it. */
  logits?: Float32Array;
}

export class HostEvaluator {
  private readonly step: HostMlpStep | HostTransformerStep;
  private readonly labels: Int32Array;
  private readonly n: number;
  private readonly classes: number;
  private readonly probes: ProbeName[];
  /** Centred rows of the probe being reduced (the widest probe's size, reused). */
  private readonly centred: Float32Array;
  /** A row of ones: column sums are ones · X, done by sgemm. */
  private ones = new Float32Array(0);

  constructor(
    private readonly config: RunConfig,
    private readonly dataset: Dataset,
    private readonly gemm: Gemm,
    kernels: HostKernelExports | null,
    /** α·AᵀA of a row-major matrix (blas.ts blasGram: ssyrk, half a product's work). */
    private readonly gram: (a: Float32Array, rows: number, width: number, alpha: number, c: Float32Array) => void,
  ) {
    const n = dataset.labels.length;
    const a = new Int32Array(n);
    const b = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      a[i] = dataset.inputs[i * 3];
      b[i] = dataset.inputs[i * 3 + 1];
    }
    this.labels = Int32Array.from(dataset.labels);
    this.n = n;
    this.classes = dataset.classes;
    const { vocab, classes } = dataset;
    this.step =
      config.arch === 'mlp'
        ? new HostMlpStep({ vocab, classes, dModel: config.dModel, dMlp: config.dMlp }, a, b, this.labels, gemm, kernels)
        : new HostTransformerStep({ vocab, classes, dModel: config.dModel, nHeads: config.nHeads, dMlp: config.dMlp, eqToken: dataset.eqToken }, a, b, this.labels, gemm, kernels);
    this.probes = probesFor(config.arch);
    this.centred = new Float32Array(n * Math.max(config.dModel, config.dMlp));
  }

  /**
   * The readout at these parameters. `factor` maps the raw logits' mean scale (mean over inputs of
   * the standard deviation across classes) to the factor the evaluation multiplies them by: 1, 1/τ
   * for a fixed temperature, target/scale for a logit-matched run (trainer.ts asEvaluated).
   */
  readout(params: HostParams, names: string[], factor: (rawScale: number) => number, withLogits: boolean): HostReadout {
    const { n, classes: c, labels } = this;
    const fwd = this.step.forwardOnly(params);
    const z = fwd.logits;
    // Two passes over each example's logits: sum, largest (its class) and largest other; then
    // the squared deviations and the softmax's normaliser. A scale factor f changes neither the
    // argmax (f > 0) nor needs a third pass: every statistic below is taken of f·z directly.
    const std = new Float32Array(n);
    const loss = new Float32Array(n);
    const correct = new Uint8Array(n);
    const maxProb = new Float32Array(n);
    const margin = new Float32Array(n);
    const rowMax = new Float64Array(n);
    const rowOther = new Float64Array(n);
    const rowArg = new Int32Array(n);
    let scaleSum = 0;
    for (let i = 0; i < n; i++) {
      const o = i * c;
      const y = labels[i];
      let sum = 0;
      let max = -Infinity;
      let arg = 0;
      let other = -Infinity;
      for (let j = 0; j < c; j++) {
        const x = z[o + j];
        sum += x;
        if (x > max) {
          max = x;
          arg = j;
        }
        if (j !== y && x > other) other = x;
      }
      const mean = sum / c;
      let v = 0;
      for (let j = 0; j < c; j++) v += (z[o + j] - mean) ** 2;
      std[i] = Math.sqrt(v / c);
      scaleSum += std[i];
      rowMax[i] = max;
      rowOther[i] = other;
      rowArg[i] = arg;
    }
    const f = factor(scaleSum / n);
    if (f !== 1) for (let k = 0; k < n * c; k++) z[k] *= f;
    for (let i = 0; i < n; i++) {
      const o = i * c;
      const y = labels[i];
      // A positive factor keeps the order of the logits (a temperature, a target scale).
      const max = rowMax[i] * f;
      let e = 0;
      for (let j = 0; j < c; j++) e += Math.exp(z[o + j] - max);
      const lse = max + Math.log(e);
      std[i] *= f;
      loss[i] = lse - z[o + y];
      correct[i] = rowArg[i] === y ? 1 : 0;
      maxProb[i] = Math.exp(max - lse);
      margin[i] = z[o + y] - rowOther[i] * f;
    }
    const { config } = this;
    const source = (name: ProbeName): { x: Float32Array; rows: number; width: number } => {
      const d = config.dModel;
      if (name === 'mlp.hidden') return { x: fwd.hidden, rows: n, width: config.dMlp };
      if (name === 'embed') return { x: params.embed.data, rows: this.dataset.task.order, width: d };
      if (name === 'attn.out') return { x: (fwd as { mid: Float32Array }).mid, rows: n, width: d };
      return { x: 'final' in fwd ? fwd.final : fwd.rep, rows: n, width: d };
    };
    const covs = this.probes.map((name) => {
      const { x, rows, width } = source(name);
      return this.covariance(x, rows, width);
    });
    const norms = new Float64Array(names.length);
    names.forEach((name, k) => {
      const data = params[name].data;
      let s = 0;
      for (let i = 0; i < data.length; i++) s += data[i] * data[i];
      norms[k] = s;
    });
    return { loss, correct, covs, norms, logitStats: { std, maxProb, margin }, ...(withLogits ? { logits: z } : {}) };
  }

  /** Xᶜᵀ·Xᶜ / (rows − 1) of the first `rows` rows of x, with Xᶜ = x minus its column means. */
  private covariance(x: Float32Array, rows: number, width: number): Float32Array {
    // Column sums by sgemm (a row of ones times X), then one pass that centres row by row.
    if (this.ones.length < rows) this.ones = new Float32Array(rows).fill(1);
    const mean = new Float32Array(width);
    this.gemm(false, false, 1, width, rows, this.ones, rows, x, width, false, mean, width);
    for (let j = 0; j < width; j++) mean[j] /= rows;
    const centred = this.centred;
    for (let i = 0, o = 0; i < rows; i++, o += width) for (let j = 0; j < width; j++) centred[o + j] = x[o + j] - mean[j];
    const cov = new Float32Array(width * width);
    this.gram(centred, rows, width, 1 / (rows - 1), cov);
    return cov;
  }
}
