import { symmetricEigenvalues, tridiagonalEigenvalues } from '../../spectra/eigen.js';
import { loadBlas } from '../host/blas.js';
import { lapackEigenvalues, lapackTridiagonalEigenvalues } from '../host/lapack.js';

/**
 * The one choice of eigen-solver for every evaluation, whatever the engine or the tfjs backend:
 * LAPACK's dsyevd where OpenBLAS loads (a 256-wide covariance ~6× faster than in JS, `npm run
 * bench:eigen`), else spectra/eigen.ts. The two agree to ~1e-13 (test/blas.test.ts). Until
 * 2026-12-05 the single-run trainer took LAPACK only on `wasm+openblas` and the WGSL engine
 * wherever it loaded: one rule now.
 */
export function eigenvaluesHere(): (matrix: Float32Array, n: number) => Float64Array {
  const blas = loadBlas();
  return (blas instanceof Error ? null : lapackEigenvalues(blas)) ?? symmetricEigenvalues;
}

/** The same rule for a tridiagonal (the WGSL evaluator reduces on its device, gpu/tridiagonal.ts): LAPACK's dsterf, else spectra/eigen.ts. */
export function tridiagonalEigenvaluesHere(): (diag: ArrayLike<number>, off: ArrayLike<number>) => Float64Array {
  const blas = loadBlas();
  return (blas instanceof Error ? null : lapackTridiagonalEigenvalues(blas)) ?? tridiagonalEigenvalues;
}
