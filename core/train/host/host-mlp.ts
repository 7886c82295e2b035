import type { HostParams } from '../../models/init.js';
import type { HostKernelExports } from './host-kernels.js';

/**
 * The MLP control's training loss and gradients in one pass over Float32Arrays, with the matrix
 * products in sgemm: what `forwardMlp` + crossEntropy + tfjs autodiff compute, without ~95 tfjs
 * kernel launches, intermediate tensors and their copies. Used by the trainer on `wasm+openblas`
 * for baseline and norm-matched MLP runs (mix runs transform the representation inside the
 * graph and keep the tfjs path). Same mathematics, other rounding: checked against the golden
 * values and against the tfjs path over 50 steps (test/host-mlp.test.ts).
 *
 * Written by hand rather than as tfjs kernels because the gain is in fusing: softmax, its
 * gradient, the bias sums, the ReLU mask and the per-token scatter each become one loop over data
 * already in cache, and the per-token first layer (see forwardMlp) needs no gather tensors.
 */

/** Row-major C = A·B (+ C when accumulate), with optional transposes; lda/ldb are row strides. */
export type Gemm = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  accumulate: boolean,
  c: Float32Array,
  ldc: number,
) => void;

/** A plain triple loop: the independent reference for tests, and never on a hot path. */
export const referenceGemm: Gemm = (transA, transB, m, n, k, a, lda, b, ldb, accumulate, c, ldc) => {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
      c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0) + s;
    }
  }
};

/**
 * Mean cross-entropy of [n × c] logits against integer labels, and in place of the logits its
 * gradient dL/dlogits = (softmax − onehot) / n. Shared by both fused host steps.
 */
export function softmaxCrossEntropyInPlace(logits: Float32Array, labels: Int32Array, n: number, c: number): number {
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const o = i * c;
    let max = -Infinity;
    for (let j = 0; j < c; j++) if (logits[o + j] > max) max = logits[o + j];
    let sum = 0;
    for (let j = 0; j < c; j++) {
      const e = Math.exp(logits[o + j] - max);
      logits[o + j] = e;
      sum += e;
    }
    const y = labels[i];
    loss -= Math.log(logits[o + y] / sum);
    const scale = 1 / (sum * n);
    for (let j = 0; j < c; j++) logits[o + j] *= scale;
    logits[o + y] -= 1 / n;
  }
  return loss / n;
}

export interface MlpShape {
  vocab: number;
  classes: number;
  dModel: number;
  dMlp: number;
}

/** The parameters' arrays under the names the step's algebra uses (W_in's second half, the b token's, starts at word d·h). */
function mlpWeights(params: HostParams, half: number) {
  const w = (name: string): Float32Array => params[name].data;
  return { E: w('embed'), WIn: w('W_in'), WInB: w('W_in').subarray(half), bIn: w('b_in'), WOut: w('W_out'), bOut: w('b_out'), WU: w('W_U') };
}

export class HostMlpStep {
  private readonly n: number;
  private readonly a: Int32Array;
  private readonly b: Int32Array;
  private readonly labels: Int32Array;
  // Work space, allocated once per run.
  private readonly tableA: Float32Array;
  private readonly tableB: Float32Array;
  private readonly hidden: Float32Array;
  private readonly rep: Float32Array;
  private readonly logits: Float32Array;
  private readonly dRep: Float32Array;
  private readonly dHidden: Float32Array;
  private readonly dTableA: Float32Array;
  private readonly dTableB: Float32Array;
  /** A row of ones: bias gradients are column sums, ones · X, done by sgemm. */
  private readonly ones: Float32Array;
  private readonly bias: Float32Array;
  /** SIMD kernels for the gather and the scatter, with the buffers they touch in their memory. */
  private readonly simd: HostKernelExports | null;

  /**
   * a, b: the two operand tokens of each training example; labels: its class. kernels: an
   * instance from host-kernels.ts (used when dMlp is a multiple of 4), else JS loops.
   */
  constructor(
    private readonly shape: MlpShape,
    a: Int32Array,
    b: Int32Array,
    labels: Int32Array,
    private readonly gemm: Gemm,
    kernels: HostKernelExports | null = null,
  ) {
    const { vocab, classes, dModel: d, dMlp: h } = shape;
    const n = a.length;
    this.n = n;
    this.labels = labels;
    const useSimd = kernels !== null && h % 4 === 0;
    // The buffers the kernels read or write live in the kernels' memory (16-byte aligned); the
    // rest, and everything when the kernels are absent, in ordinary typed arrays.
    const sizes = { a: n, b: n, tableA: vocab * h, tableB: vocab * h, bias: h, hidden: n * h, dHidden: n * h, dTableA: vocab * h, dTableB: vocab * h };
    const views: Record<keyof typeof sizes, Float32Array | Int32Array> = {} as never;
    if (useSimd) {
      const mem = kernels.memory;
      const aligned = (x: number): number => Math.ceil(x / 16) * 16;
      const total = Object.values(sizes).reduce((t, len) => t + aligned(len * 4), 0);
      const have = mem.buffer.byteLength;
      if (total > have) mem.grow(Math.ceil((total - have) / 65536));
      let offset = 0;
      for (const [name, len] of Object.entries(sizes) as [keyof typeof sizes, number][]) {
        views[name] = name === 'a' || name === 'b' ? new Int32Array(mem.buffer, offset, len) : new Float32Array(mem.buffer, offset, len);
        offset += aligned(len * 4);
      }
      this.simd = kernels;
    } else {
      for (const [name, len] of Object.entries(sizes) as [keyof typeof sizes, number][]) views[name] = name === 'a' || name === 'b' ? new Int32Array(len) : new Float32Array(len);
      this.simd = null;
    }
    (views.a as Int32Array).set(a);
    (views.b as Int32Array).set(b);
    this.a = views.a as Int32Array;
    this.b = views.b as Int32Array;
    this.tableA = views.tableA as Float32Array;
    this.tableB = views.tableB as Float32Array;
    this.bias = views.bias as Float32Array;
    this.hidden = views.hidden as Float32Array;
    this.dHidden = views.dHidden as Float32Array;
    this.dTableA = views.dTableA as Float32Array;
    this.dTableB = views.dTableB as Float32Array;
    this.rep = new Float32Array(n * d);
    this.logits = new Float32Array(n * classes);
    this.dRep = new Float32Array(n * d);
    this.ones = new Float32Array(n).fill(1);
  }

  /** Whether the SIMD kernels run the gather and the scatter. */
  get usesSimd(): boolean {
    return this.simd !== null;
  }

  /**
   * The forward pass over this step's examples: logits (before the softmax), the hidden layer and
   * the representation — what an evaluation measures (host-eval.ts). Views of this step's
   * buffers, valid until its next pass.
   */
  forwardOnly(params: HostParams): { logits: Float32Array; hidden: Float32Array; rep: Float32Array } {
    this.forward(params);
    return { logits: this.logits, hidden: this.hidden, rep: this.rep };
  }

  private forward(params: HostParams): void {
    const { vocab, classes: c, dModel: d, dMlp: h } = this.shape;
    const { n, a, b, gemm, tableA, tableB, hidden, rep, logits } = this;
    const { E, WIn, WInB, bIn, WOut, bOut, WU } = mlpWeights(params, d * h);

    // Forward. First layer per token: tables [vocab × h] = E · W_in[:d], E · W_in[d:].
    gemm(false, false, vocab, h, d, E, d, WIn, h, false, tableA, h);
    gemm(false, false, vocab, h, d, E, d, WInB, h, false, tableB, h);
    const { simd } = this;
    if (simd) {
      this.bias.set(bIn);
      // Pointers are byte offsets into the kernels' memory, where these views live.
      simd.gather_relu(n, h, a.byteOffset, b.byteOffset, tableA.byteOffset, tableB.byteOffset, this.bias.byteOffset, hidden.byteOffset);
    } else for (let i = 0; i < n; i++) {
      const ra = a[i] * h;
      const rb = b[i] * h;
      const o = i * h;
      for (let j = 0; j < h; j++) {
        const v = tableA[ra + j] + tableB[rb + j] + bIn[j];
        // ReLU without a branch: (v + |v|)/2 is exactly max(v, 0), and half the signs are random,
        // so a branch mispredicts constantly (measured: 10.6 → 1.3 ms over 1.4 M values).
        hidden[o + j] = (v + Math.abs(v)) * 0.5;
      }
    }
    for (let i = 0; i < n; i++) rep.set(bOut, i * d);
    gemm(false, false, n, d, h, hidden, h, WOut, d, true, rep, d);
    gemm(false, false, n, c, d, rep, d, WU, c, false, logits, c);

  }

  /** Mean cross-entropy over the training examples and its gradient for every parameter. */
  lossAndGradients(params: HostParams): { loss: number; grads: HostParams } {
    const { vocab, classes: c, dModel: d, dMlp: h } = this.shape;
    const { n, a, b, labels, gemm, hidden, rep, logits, dRep, dHidden, dTableA, dTableB } = this;
    const { E, WIn, WInB, WOut, WU } = mlpWeights(params, d * h);
    this.forward(params);
    const { simd } = this;

    const loss = softmaxCrossEntropyInPlace(logits, labels, n, c);
    const dLogits = logits;

    const gWU = new Float32Array(d * c);
    const gWOut = new Float32Array(h * d);
    const gbOut = new Float32Array(d);
    const gWIn = new Float32Array(2 * d * h);
    const gbIn = new Float32Array(h);
    const gE = new Float32Array(vocab * d);

    gemm(true, false, d, c, n, rep, d, dLogits, c, false, gWU, c);
    gemm(false, true, n, d, c, dLogits, c, WU, c, false, dRep, d);
    gemm(false, false, 1, d, n, this.ones, n, dRep, d, false, gbOut, d);
    gemm(true, false, h, d, n, hidden, h, dRep, d, false, gWOut, d);
    gemm(false, true, n, h, d, dRep, d, WOut, d, false, dHidden, h);
    // ReLU mask (gradient 0 where the pre-activation is ≤ 0, as tfjs's Relu gradient; a multiply
    // by 0 or 1, without a branch), and the scatter of each example's gradient onto its two
    // tokens' table rows.
    dTableA.fill(0);
    dTableB.fill(0);
    if (simd) simd.mask_scatter(n, h, a.byteOffset, b.byteOffset, hidden.byteOffset, dHidden.byteOffset, dTableA.byteOffset, dTableB.byteOffset);
    else for (let i = 0; i < n; i++) {
      const o = i * h;
      const ra = a[i] * h;
      const rb = b[i] * h;
      for (let j = 0; j < h; j++) {
        const g = dHidden[o + j] * +(hidden[o + j] > 0);
        dHidden[o + j] = g;
        dTableA[ra + j] += g;
        dTableB[rb + j] += g;
      }
    }
    gemm(false, false, 1, h, n, this.ones, n, dHidden, h, false, gbIn, h);
    gemm(true, false, d, h, vocab, E, d, dTableA, h, false, gWIn, h);
    gemm(true, false, d, h, vocab, E, d, dTableB, h, false, gWIn.subarray(d * h), h);
    gemm(false, true, vocab, d, h, dTableA, h, WIn, h, false, gE, d);
    gemm(false, true, vocab, d, h, dTableB, h, WInB, h, true, gE, d);

    const grads: HostParams = {
      embed: { shape: [vocab, d], data: gE },
      W_in: { shape: [2 * d, h], data: gWIn },
      b_in: { shape: [h], data: gbIn },
      W_out: { shape: [h, d], data: gWOut },
      b_out: { shape: [d], data: gbOut },
      W_U: { shape: [d, c], data: gWU },
    };
    return { loss, grads };
  }
}
