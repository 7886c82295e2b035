import type { Blas } from './blas.js';

/**
 * LAPACK's eigen-solvers through the OpenBLAS that blas.ts loads: dsyevd for a full symmetric
 * matrix (the host and tfjs readouts' covariances), dsterf for a tridiagonal (the WGSL
 * evaluator's host half). eval/eigen.ts chooses between them and spectra/eigen.ts.
 */
/**
 * Eigenvalues of a symmetric matrix (ascending, float64) by LAPACK's dsyevd, eigenvalues only,
 * or null where the library has no LAPACK. Same contract as spectra/eigen.ts's
 * symmetricEigenvalues, which stays the reference (test/blas.test.ts): ~6× faster for the
 * 256-wide `mlp.hidden` probe, 15× for 512 (`npm run bench:eigen`), the largest share of an
 * evaluation.
 */
export function lapackEigenvalues(blas: Blas): ((matrix: ArrayLike<number>, n: number) => Float64Array) | null {
  const dsyevd = blas.dsyevd;
  if (!dsyevd) return null;
  const workspace = new Map<number, { work: Float64Array; iwork: Int32Array; lwork: Int32Array; liwork: Int32Array }>();
  const info = new Int32Array(1);
  return (matrix, n) => {
    if (matrix.length !== n * n) throw new Error(`expected ${n}×${n} matrix, got ${matrix.length} entries`);
    const w = new Float64Array(n);
    if (n === 0) return w;
    const a = Float64Array.from(matrix);
    if (!allFinite(a)) return w.fill(NaN); // as dsterf's guard below
    const dim = Int32Array.of(n);
    let ws = workspace.get(n);
    if (!ws) {
      // Workspace query (lwork = liwork = −1): LAPACK answers its optimal sizes.
      const qw = new Float64Array(1);
      const qi = new Int32Array(1);
      dsyevd('N', 'L', dim, a.slice(), dim, new Float64Array(n), qw, Int32Array.of(-1), qi, Int32Array.of(-1), info, 1, 1);
      if (info[0] !== 0) throw new Error(`dsyevd workspace query failed (info ${info[0]})`);
      const lwork = Math.max(2 * n + 1, Math.ceil(qw[0]));
      const liwork = Math.max(1, qi[0]);
      ws = { work: new Float64Array(lwork), iwork: new Int32Array(liwork), lwork: Int32Array.of(lwork), liwork: Int32Array.of(liwork) };
      workspace.set(n, ws);
    }
    dsyevd('N', 'L', dim, a, dim, w, ws.work, ws.lwork, ws.iwork, ws.liwork, info, 1, 1);
    if (info[0] !== 0) throw new Error(`dsyevd did not converge (info ${info[0]})`);
    return w;
  };
}

/** Eigenvalues (ascending) of the symmetric tridiagonal (diag, off) by LAPACK's dsterf, or null where the library lacks it. */
export function lapackTridiagonalEigenvalues(blas: Blas): ((diag: ArrayLike<number>, off: ArrayLike<number>) => Float64Array) | null {
  const dsterf = blas.dsterf;
  if (!dsterf) return null;
  const info = new Int32Array(1);
  return (diag, off) => {
    const d = Float64Array.from(diag);
    if (d.length < 2) return d;
    const e = Float64Array.from(off);
    // A diverged run's NaN or ∞ must not reach LAPACK: dsterf's DLASCL rejects it and the process
    // died of heap corruption when we tried (2026-12-05). Its spectrum is NaN, as the JS path's.
    if (!allFinite(d) || !allFinite(e)) return d.fill(NaN);
    dsterf(Int32Array.of(d.length), d, e, info);
    if (info[0] !== 0) throw new Error(`dsterf did not converge (info ${info[0]})`);
    return d;
  };
}

function allFinite(x: Float64Array): boolean {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) return false;
  return true;
}
