/// <reference types="@webgpu/types" />
import { tridiagonalEigenvalues } from '../../spectra/eigen.js';
import { bindings } from './kernels.js';
import { WORKGROUP_REDUCE } from './workgroup-reduce.js';
import type { Dispatch, Recorder } from './program.js';
import type { ReadRegion } from './device.js';

/**
 * Symmetric matrices of a WGSL evaluation brought to tridiagonal form on the device, so the host
 * reads 2n − 1 numbers a matrix instead of n² (issue 36: the probes' covariances were 1.1 MB of a
 * reference run-evaluation) and finds the eigenvalues of the tridiagonal in float64 (O(n²),
 * spectra/eigen.ts). The O(n³) part stays where the matrix is; docs/decisions.md ("Eigenvalues of
 * a WGSL evaluation") says why this split and what float32 costs in accuracy.
 *
 * One workgroup per matrix, Householder reflections in place (LAPACK's sytd2, lower): for each
 * column k, v from the column below the diagonal, p = τ·A·v, w = p − (τ/2)(vᵀp)·v, and the trailing
 * block loses v·wᵀ + w·vᵀ. Threads own columns and walk rows, so each row's reads are contiguous
 * across the workgroup; storage barriers order the steps. The matrix is first divided by its
 * largest |entry| (a collapsed representation's tiny entries would underflow in squares) and the
 * tridiagonal multiplied back. The matrices are overwritten.
 */
const TRIDIAGONAL = /* wgsl */ `
${bindings([['A', 'rw'], ['table', 'r u32'], ['out', 'rw'], ['scratch', 'rw']])}
${WORKGROUP_REDUCE}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let a0 = table[4u * wg.x];
  let n = table[4u * wg.x + 1u];
  let o0 = table[4u * wg.x + 2u];
  let v0 = table[4u * wg.x + 3u];
  let w0 = v0 + n;
  var big = 0.0;
  for (var i = t; i < n * n; i += 256u) { big = max(big, abs(A[a0 + i])); }
  let scale = reduceMax(big, t);
  let inv = select(0.0, 1.0 / scale, scale > 0.0);
  for (var i = t; i < n * n; i += 256u) { A[a0 + i] *= inv; }
  storageBarrier();
  for (var k = 0u; k + 2u < n; k++) {
    let m = n - k - 1u;
    let b = a0 + (k + 1u) * n + k + 1u; // the trailing block's first entry; its row stride is n
    var part = 0.0;
    for (var i = 1u + t; i < m; i += 256u) {
      let x = A[a0 + (k + 1u + i) * n + k];
      part += x * x;
    }
    let sigma = reduceSum(part, t);
    let x0 = A[a0 + (k + 1u) * n + k];
    let norm = sqrt(x0 * x0 + sigma);
    let alpha = select(norm, -norm, x0 > 0.0);
    let head = x0 - alpha;
    let reflect = sigma > 0.0;
    let tau = select(0.0, 2.0 / (sigma + head * head), reflect);
    for (var i = t; i < m; i += 256u) {
      scratch[v0 + i] = select(A[a0 + (k + 1u + i) * n + k], head, i == 0u);
    }
    storageBarrier();
    // p = τ·A·v (A symmetric: column j of the block, read row by row).
    var pv = 0.0;
    for (var j = t; j < m; j += 256u) {
      var acc = 0.0;
      for (var i = 0u; i < m; i++) { acc += A[b + i * n + j] * scratch[v0 + i]; }
      scratch[w0 + j] = tau * acc;
      pv += tau * acc * scratch[v0 + j];
    }
    let kk = 0.5 * tau * reduceSum(pv, t);
    for (var j = t; j < m; j += 256u) { scratch[w0 + j] -= kk * scratch[v0 + j]; }
    storageBarrier();
    for (var j = t; j < m; j += 256u) {
      let vj = scratch[v0 + j];
      let wj = scratch[w0 + j];
      for (var i = 0u; i < m; i++) { A[b + i * n + j] -= scratch[v0 + i] * wj + scratch[w0 + i] * vj; }
    }
    if (t == 0u) {
      out[o0 + k] = A[a0 + k * n + k] * scale;
      out[o0 + n + k] = select(x0, alpha, reflect) * scale;
    }
    storageBarrier();
  }
  if (t == 0u && n >= 2u) {
    out[o0 + n - 2u] = A[a0 + (n - 2u) * n + n - 2u] * scale;
    out[o0 + n - 1u] = A[a0 + (n - 1u) * n + n - 1u] * scale;
    out[o0 + 2u * n - 2u] = A[a0 + (n - 1u) * n + n - 2u] * scale;
  }
  if (t == 0u && n == 1u) { out[o0] = A[a0] * scale; }
}`;

export interface SymmetricMatrix {
  /** Word offset in the matrices' buffer, for the first run of a range. */
  offset: number;
  n: number;
}

/**
 * A batch of symmetric matrices per run, laid out the same way for every run (run s's start at
 * s·stride words of `matrices`), reduced to tridiagonals: diagonal then off-diagonal, 2n words a
 * matrix (the last unused).
 */
export class GpuTridiagonal {
  private readonly outRun: number;
  private readonly outOff: number[];
  private readonly table: GPUBuffer;
  private readonly out: GPUBuffer;
  private readonly scratch: GPUBuffer;
  private readonly entries = new Map<number, Dispatch>();

  constructor(
    private readonly rec: Recorder,
    private readonly matrices: GPUBuffer,
    private readonly layout: SymmetricMatrix[],
    stride: number,
    chunk: number,
    /** The host's half: the tridiagonal's eigenvalues, ascending, in float64 (eval/eigen.ts chooses). */
    private readonly solve: (diag: ArrayLike<number>, off: ArrayLike<number>) => Float64Array = tridiagonalEigenvalues,
  ) {
    this.outOff = [];
    let at = 0;
    for (const m of layout) {
      this.outOff.push(at);
      at += 2 * m.n;
    }
    this.outRun = at;
    const per = layout.length;
    const table = new Uint32Array(4 * chunk * per);
    for (let s = 0; s < chunk; s++)
      layout.forEach((m, j) => {
        // The scratch vectors (v, w) of each matrix sit in its run's own part of a scratch buffer.
        table.set([s * stride + m.offset, m.n, s * this.outRun + this.outOff[j], s * this.outRun + this.outOff[j]], 4 * (s * per + j));
      });
    this.table = rec.buffer(table.length, 'tridiagonal table', table);
    this.out = rec.buffer(chunk * this.outRun, 'tridiagonals');
    this.scratch = rec.buffer(chunk * this.outRun, 'Householder vectors');
  }

  /** The dispatch reducing the matrices of the first `runs` runs of the buffer (recorded once per count). */
  entry(runs: number): Dispatch {
    let e = this.entries.get(runs);
    if (!e) {
      e = this.rec.dispatch(TRIDIAGONAL, 'evaluation: tridiagonal reductions', [this.matrices, this.table, this.out, this.scratch], [runs * this.layout.length, 1, 1]);
      this.entries.set(runs, e);
    }
    return e;
  }

  region(runs: number): ReadRegion {
    return { buffer: this.out, offset: 0, length: runs * this.outRun };
  }

  /** The eigenvalues (ascending, float64) of matrix j of run s from the read region. */
  eigenvalues(values: Float32Array, s: number, j: number): Float64Array {
    const n = this.layout[j].n;
    const at = s * this.outRun + this.outOff[j];
    return this.solve(values.subarray(at, at + n), values.subarray(at + n, at + 2 * n - 1));
  }
}
