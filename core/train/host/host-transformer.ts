import type { HostParams } from '../../models/init.js';
import { softmaxCrossEntropyInPlace, type Gemm } from './host-mlp.js';
import { attentionBackward, attentionForward, workSpace, type AttentionSpace } from './host-attention.js';
import type { HostKernelExports } from './host-kernels.js';

/**
 * The 1-layer Transformer's training loss and gradients in one pass over Float32Arrays, with the
 * matrix products in sgemm: what `forwardTransformer` + crossEntropy + tfjs autodiff compute
 * (train/tfjs/forward.ts, and the same exact algebra: only the `=` query and the `=` position's MLP
 * reach the logits), without ~200 tfjs kernel launches a step. Used by the trainer on
 * `wasm+openblas` for baseline, norm-matched and orthogonal-mix runs. Same mathematics, other
 * rounding: checked against the golden values, against tfjs autodiff with a triple-loop product,
 * and over 50 steps of training (test/host-transformer.test.ts).
 *
 * Two savings beyond fusing. Keys and values of the token positions come from per-token tables
 * (E·W_K, E·W_V: vocab rows instead of one row per example), and their gradients are scattered
 * back onto those tables, so W_K, W_V and the embedding get theirs from vocab-row products. The
 * attention itself (3 positions, one query) is a few loops over [N, d], cheaper than any product.
 */
export interface TransformerShape {
  vocab: number;
  classes: number;
  dModel: number;
  nHeads: number;
  dMlp: number;
  /** Token id of `=`. */
  eqToken: number;
}

/** The orthogonal mix of interventions.ts on `resid.final`: r ← μ + (1 − α)(r − μ) + α(r − μ)Q. */
export interface HostMix {
  /** Q, d × d row-major. */
  q: Float32Array;
  alpha: number;
}

/** The parameters' arrays under the names the step's algebra uses (its forward and backward read the same ones). */
function transformerWeights(params: HostParams) {
  const w = (name: string): Float32Array => params[name].data;
  return { E: w('embed'), pos: w('pos'), WQ: w('W_Q'), WK: w('W_K'), WV: w('W_V'), WO: w('W_O'), WIn: w('W_in'), bIn: w('b_in'), WOut: w('W_out'), bOut: w('b_out'), WU: w('W_U') };
}

export class HostTransformerStep {
  private readonly n: number;
  private readonly labels: Int32Array;
  // Work space, allocated once per run: [vocab, d] tables, [3, d] position rows, [N, …] activations.
  private readonly EK: Float32Array;
  private readonly EV: Float32Array;
  private readonly PK: Float32Array;
  private readonly PV: Float32Array;
  private readonly r2: Float32Array;
  private readonly q: Float32Array;
  /** The attention's buffers (host-attention.ts), in the SIMD kernels' memory where they loaded. */
  private readonly space: AttentionSpace;
  private readonly attn: Float32Array;
  private readonly mid: Float32Array;
  private readonly hidden: Float32Array;
  private readonly final: Float32Array;
  private readonly centred: Float32Array;
  private readonly rep: Float32Array;
  private readonly logits: Float32Array;
  private readonly dRep: Float32Array;
  private readonly dFinal: Float32Array;
  private readonly dHidden: Float32Array;
  private readonly dMid: Float32Array;
  private readonly dAttn: Float32Array;
  private readonly ones: Float32Array;
  private readonly simd: HostKernelExports | null;

  constructor(
    private readonly shape: TransformerShape,
    a: Int32Array,
    b: Int32Array,
    labels: Int32Array,
    private readonly gemm: Gemm,
    kernels: HostKernelExports | null = null,
  ) {
    const { vocab, classes: c, dModel: d, nHeads: heads, dMlp: h } = shape;
    if (d % heads !== 0) throw new Error(`dModel (${d}) must be divisible by nHeads (${heads})`);
    const n = a.length;
    this.n = n;
    this.labels = labels;
    this.EK = new Float32Array(vocab * d);
    this.EV = new Float32Array(vocab * d);
    this.PK = new Float32Array(3 * d);
    this.PV = new Float32Array(3 * d);
    this.r2 = new Float32Array(d);
    this.q = new Float32Array(d);
    this.mid = new Float32Array(n * d);
    // The attention's loops, the ReLU and its mask run in the SIMD kernels where they loaded
    // (whole f32x4 vectors: head width and n·h multiples of 4), on buffers in the kernels'
    // memory; else in JS.
    const { space, buffers } = workSpace({ n, d, heads, vocab }, a, b, kernels, (n * h) % 4 === 0 ? { hidden: n * h, dHidden: n * h } : {});
    this.space = space;
    this.attn = space.attn;
    this.dAttn = space.dAttn;
    this.simd = space.kernels;
    this.hidden = buffers.hidden ?? new Float32Array(n * h);
    this.dHidden = buffers.dHidden ?? new Float32Array(n * h);
    this.final = new Float32Array(n * d);
    this.centred = new Float32Array(n * d);
    this.rep = new Float32Array(n * d);
    this.logits = new Float32Array(n * c);
    this.dRep = new Float32Array(n * d);
    this.dFinal = new Float32Array(n * d);
    this.dMid = new Float32Array(n * d);
    this.ones = new Float32Array(n).fill(1);
  }

  /**
   * The forward pass over this step's examples: logits (before the softmax) and the activations
   * an evaluation measures (host-eval.ts). `mid` = r2 + attn·W_O differs from `attn.out` by one
   * row added to every example, which no covariance sees. Views of this step's buffers, valid
   * until its next pass.
   */
  forwardOnly(params: HostParams): { logits: Float32Array; final: Float32Array; hidden: Float32Array; mid: Float32Array } {
    this.forward(params, null);
    return { logits: this.logits, final: this.final, hidden: this.hidden, mid: this.mid };
  }

  /** Forward into the work space; returns the representation the unembedding read and `=`'s key. */
  private forward(params: HostParams, mix: HostMix | null): { rep: Float32Array; k2: Float32Array } {
    const { vocab, classes: c, dModel: d, nHeads: heads, dMlp: h, eqToken: eq } = this.shape;
    const { n, gemm, EK, EV, PK, PV, r2, q, attn, mid, hidden, final, logits } = this;
    const dh = d / heads;
    const scale = 1 / Math.sqrt(dh);
    const { E, pos, WQ, WK, WV, WO, WIn, bIn, WOut, bOut, WU } = transformerWeights(params);

    // ---- Forward.
    gemm(false, false, vocab, d, d, E, d, WK, d, false, EK, d);
    gemm(false, false, vocab, d, d, E, d, WV, d, false, EV, d);
    gemm(false, false, 3, d, d, pos, d, WK, d, false, PK, d);
    gemm(false, false, 3, d, d, pos, d, WV, d, false, PV, d);
    for (let j = 0; j < d; j++) r2[j] = E[eq * d + j] + pos[2 * d + j];
    gemm(false, false, 1, d, d, r2, d, WQ, d, false, q, d);
    // Key and value of `=` (the same for every example) and its score per head.
    const k2 = new Float32Array(d);
    const v2 = new Float32Array(d);
    const s2 = new Float64Array(heads);
    for (let j = 0; j < d; j++) {
      k2[j] = EK[eq * d + j] + PK[2 * d + j];
      v2[j] = EV[eq * d + j] + PV[2 * d + j];
      s2[Math.floor(j / dh)] += k2[j] * q[j] * scale;
    }
    attentionForward(n, d, heads, EK, EV, PK, PV, q, s2, v2, this.space);
    // mid = r2 + attn·W_O; hidden = relu(mid·W_in + b_in); final = mid + hidden·W_out + b_out.
    for (let i = 0; i < n; i++) mid.set(r2, i * d);
    gemm(false, false, n, d, d, attn, d, WO, d, true, mid, d);
    for (let i = 0; i < n; i++) hidden.set(bIn, i * h);
    gemm(false, false, n, h, d, mid, d, WIn, h, true, hidden, h);
    // ReLU without a branch (see host-mlp.ts: half the signs are random).
    if (this.simd) this.simd.relu(hidden.length, hidden.byteOffset);
    else for (let k = 0; k < hidden.length; k++) hidden[k] = (hidden[k] + Math.abs(hidden[k])) * 0.5;
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let j = 0; j < d; j++) final[o + j] = mid[o + j] + bOut[j];
    }
    gemm(false, false, n, d, h, hidden, h, WOut, d, true, final, d);
    let rep = final;
    const mu = new Float32Array(d);
    if (mix) {
      const { centred } = this;
      rep = this.rep;
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mu[j] += final[i * d + j];
      for (let j = 0; j < d; j++) mu[j] /= n;
      for (let k = 0; k < n * d; k++) centred[k] = final[k] - mu[k % d];
      for (let k = 0; k < n * d; k++) rep[k] = mu[k % d] + (1 - mix.alpha) * centred[k];
      // rep += α · centred · Q (the mix's alpha folded into a product with accumulate).
      const qa = Float32Array.from(mix.q, (x) => x * mix.alpha);
      gemm(false, false, n, d, d, centred, d, qa, d, true, rep, d);
    }
    gemm(false, false, n, c, d, rep, d, WU, c, false, logits, c);

    return { rep, k2 };
  }

  /** Mean cross-entropy over the training examples and its gradient for every parameter. */
  lossAndGradients(params: HostParams, mix: HostMix | null = null): { loss: number; grads: HostParams } {
    const { vocab, classes: c, dModel: d, nHeads: heads, dMlp: h, eqToken: eq } = this.shape;
    const { n, labels, gemm, EK, PK, r2, q, attn, mid, hidden, logits, ones } = this;
    const { E, pos, WQ, WK, WV, WO, WIn, WOut, WU } = transformerWeights(params);
    const { rep, k2 } = this.forward(params, mix);

    // ---- Loss and dL/dlogits, in place of the logits.
    const loss = softmaxCrossEntropyInPlace(logits, labels, n, c);
    const dLogits = logits;

    // ---- Backward.
    const g = {
      embed: new Float32Array(vocab * d),
      pos: new Float32Array(3 * d),
      W_Q: new Float32Array(d * d),
      W_K: new Float32Array(d * d),
      W_V: new Float32Array(d * d),
      W_O: new Float32Array(d * d),
      W_in: new Float32Array(d * h),
      b_in: new Float32Array(h),
      W_out: new Float32Array(h * d),
      b_out: new Float32Array(d),
      W_U: new Float32Array(d * c),
    };
    const { dRep, dFinal, dHidden, dMid, dAttn } = this;
    gemm(true, false, d, c, n, rep, d, dLogits, c, false, g.W_U, c);
    gemm(false, true, n, d, c, dLogits, c, WU, c, false, mix ? dRep : dFinal, d);
    if (mix) {
      // dcentred = (1 − α)·drep + α·drep·Qᵀ; dμ = Σrows drep − Σrows dcentred; dfinal = dcentred + dμ/n.
      for (let k = 0; k < n * d; k++) dFinal[k] = (1 - mix.alpha) * dRep[k];
      const qa = Float32Array.from(mix.q, (x) => x * mix.alpha);
      gemm(false, true, n, d, d, dRep, d, qa, d, true, dFinal, d);
      const dMu = new Float64Array(d);
      for (let k = 0; k < n * d; k++) dMu[k % d] += dRep[k] - dFinal[k];
      for (let k = 0; k < n * d; k++) dFinal[k] += dMu[k % d] / n;
    }
    gemm(false, false, 1, d, n, ones, n, dFinal, d, false, g.b_out, d);
    gemm(true, false, h, d, n, hidden, h, dFinal, d, false, g.W_out, d);
    gemm(false, true, n, h, d, dFinal, d, WOut, d, false, dHidden, h);
    // ReLU mask: gradient 0 where the pre-activation is ≤ 0 (as tfjs's Relu gradient).
    if (this.simd) this.simd.relu_mask(dHidden.length, hidden.byteOffset, dHidden.byteOffset);
    else for (let k = 0; k < dHidden.length; k++) dHidden[k] *= +(hidden[k] > 0);
    gemm(false, false, 1, h, n, ones, n, dHidden, h, false, g.b_in, h);
    gemm(true, false, d, h, n, mid, d, dHidden, h, false, g.W_in, h);
    dMid.set(dFinal);
    gemm(false, true, n, d, h, dHidden, h, WIn, h, true, dMid, d);
    // mid = r2 + attn·W_O.
    const dR2 = new Float32Array(d);
    gemm(false, false, 1, d, n, ones, n, dMid, d, false, dR2, d);
    gemm(true, false, d, d, n, attn, d, dMid, d, false, g.W_O, d);
    gemm(false, true, n, d, d, dMid, d, WO, d, false, dAttn, d);

    // Attention: values and weights, then the softmax over the 3 positions, then scores → keys, query.
    const dEK = new Float32Array(vocab * d);
    const dEV = new Float32Array(vocab * d);
    const dPK = new Float32Array(3 * d);
    const dPV = new Float32Array(3 * d);
    const dq = new Float64Array(d);
    attentionBackward(n, d, heads, EK, PK, q, k2, this.space, dEK, dEV, dPK, dPV, dq);
    // `=`'s key and value (position row 2 above) also came from its table row.
    for (let j = 0; j < d; j++) {
      dEK[eq * d + j] += dPK[2 * d + j];
      dEV[eq * d + j] += dPV[2 * d + j];
    }
    // k = (E·W_K)[token] + (pos·W_K)[position], likewise v.
    gemm(true, false, d, d, vocab, E, d, dEK, d, false, g.W_K, d);
    gemm(true, false, d, d, 3, pos, d, dPK, d, true, g.W_K, d);
    gemm(true, false, d, d, vocab, E, d, dEV, d, false, g.W_V, d);
    gemm(true, false, d, d, 3, pos, d, dPV, d, true, g.W_V, d);
    // q = r2·W_Q.
    const dq32 = Float32Array.from(dq);
    gemm(true, false, d, d, 1, r2, d, dq32, d, false, g.W_Q, d);
    gemm(false, true, 1, d, d, dq32, d, WQ, d, true, dR2, d);
    gemm(false, true, vocab, d, d, dEK, d, WK, d, false, g.embed, d);
    gemm(false, true, vocab, d, d, dEV, d, WV, d, true, g.embed, d);
    gemm(false, true, 3, d, d, dPK, d, WK, d, false, g.pos, d);
    gemm(false, true, 3, d, d, dPV, d, WV, d, true, g.pos, d);
    for (let j = 0; j < d; j++) {
      g.embed[eq * d + j] += dR2[j];
      g.pos[2 * d + j] += dR2[j];
    }

    const grads: HostParams = {};
    for (const [name, data] of Object.entries(g)) grads[name] = { shape: [...params[name].shape], data };
    return { loss, grads };
  }
}
