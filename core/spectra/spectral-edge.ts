import { symmetricEigenvalues } from './eigen.js';

/**
 * The spectral-edge gap of parameter updates (docs/methods.md, "Published warnings"; after Xu,
 * arXiv:2603.28964): the singular values σ₁ ≥ … ≥ σ_W of the last W update vectors of all
 * parameters (W = 10), k* = argmax_j σ_j / σ_{j+1}, and the gap σ_k* / σ_k*+1. The singular values
 * come from the W × W Gram matrix of the updates (σ_j = √λ_j), so no P-long SVD is needed.
 */
export interface SpectralEdge {
  gap: number;
  /** k* (1-based). */
  k: number;
}

export function spectralEdgeGap(gram: ArrayLike<number>, W: number): SpectralEdge | null {
  const eig = symmetricEigenvalues(Float64Array.from(gram), W);
  const sigma = Array.from(eig, (l) => Math.sqrt(Math.max(0, l))).sort((a, b) => b - a);
  let best: SpectralEdge | null = null;
  for (let j = 0; j + 1 < W; j++) {
    if (!(sigma[j + 1] > 1e-12 * sigma[0])) break; // a zero singular value: the rest are rank deficiency, not a gap
    const ratio = sigma[j] / sigma[j + 1];
    if (!best || ratio > best.gap) best = { gap: ratio, k: j + 1 };
  }
  return best;
}

/** Whether the update of step t belongs to the window (e − W, e] of an evaluation at a multiple e of `every`, or of the last one at `last`. */
export function inUpdateWindow(t: number, every: number, last: number, W: number): boolean {
  const r = t % every;
  return r === 0 || r > every - W || t > last - W;
}

/**
 * The last W update vectors of a run, kept on the host (single-run trainer): after each step,
 * the step's change of every parameter where the step is in an evaluation's window.
 */
export class UpdateWindow {
  private readonly ring: Float32Array[];
  private readonly stepAt: number[];
  private readonly prev: Float32Array;
  /** The step whose parameters `prev` holds (none yet). */
  private prevStep = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly size: number,
    readonly W: number,
    private readonly every: number,
    private readonly last: number,
  ) {
    this.ring = Array.from({ length: W }, () => new Float32Array(0));
    this.stepAt = Array(W).fill(-1);
    this.prev = new Float32Array(size);
  }

  /**
   * After step t (or at the start, t = the starting step), with the parameters (all tensors in one
   * fixed order, or a function giving them, called only where step t's parameters are needed).
   */
  observe(t: number, params: ArrayLike<number>[] | (() => ArrayLike<number>[])): void {
    const records = this.prevStep === t - 1 && inUpdateWindow(t, this.every, this.last, this.W);
    const keeps = records || inUpdateWindow(t + 1, this.every, this.last, this.W);
    if (!keeps) return;
    const tensors = typeof params === 'function' ? params() : params;
    if (records) {
      const slot = t % this.W;
      if (this.ring[slot].length !== this.size) this.ring[slot] = new Float32Array(this.size);
      const out = this.ring[slot];
      let k = 0;
      for (const x of tensors) for (let i = 0; i < x.length; i++, k++) out[k] = x[i] - this.prev[k];
      this.stepAt[slot] = t;
    }
    let at = 0;
    for (const x of tensors) for (let i = 0; i < x.length; i++, at++) this.prev[at] = x[i];
    this.prevStep = t;
  }

  /** The Gram matrix of the updates of steps (e − W, e], or null where one of them was not recorded. */
  gram(e: number): Float64Array | null {
    const W = this.W;
    const slots: Float32Array[] = [];
    for (let t = e - W + 1; t <= e; t++) {
      const slot = ((t % W) + W) % W;
      if (t < 1 || this.stepAt[slot] !== t) return null;
      slots.push(this.ring[slot]);
    }
    const g = new Float64Array(W * W);
    for (let i = 0; i < W; i++) {
      for (let j = i; j < W; j++) {
        let s = 0;
        const a = slots[i];
        const b = slots[j];
        for (let k = 0; k < a.length; k++) s += a[k] * b[k];
        g[i * W + j] = s;
        g[j * W + i] = s;
      }
    }
    return g;
  }
}
