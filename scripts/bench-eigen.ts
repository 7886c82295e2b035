/**
 * `npm run bench:eigen [-- --runs N]`: eigenvalues of a probe-sized covariance (64, 256, 512
 * wide) by our JS solver (core/spectra/eigen.ts) and by LAPACK's dsyevd through OpenBLAS
 * (core/train/host/blas.ts, the `wasm+openblas` path); median ms of N (default 7) and the largest
 * difference between the two; then the same for the tridiagonal alone (the WGSL evaluator's host
 * half: its device reduces each matrix first), our implicit QL against LAPACK's dsterf. Prints
 * markdown tables.
 */
import os from 'node:os';
import { symmetricEigenvalues, tridiagonalEigenvalues } from '../core/spectra/eigen.js';
import { loadBlas } from '../core/train/host/blas.js';
import { lapackEigenvalues, lapackTridiagonalEigenvalues } from '../core/train/host/lapack.js';
import { Rng } from '../core/rng.js';
import { numberArg } from './args.js';

const reps = numberArg('runs', 7);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (f: () => unknown): number => {
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    f();
    ts.push(performance.now() - t);
  }
  return median(ts);
};
const blas = loadBlas();
const lapack = blas instanceof Error ? null : lapackEigenvalues(blas);
const rng = new Rng(1);
const rows: string[] = [];
for (const n of [64, 256, 512]) {
  // A covariance of 2n samples, as a probe's is of the evaluated pairs.
  const samples = 2 * n;
  const x = Float64Array.from({ length: samples * n }, () => rng.normal());
  const c = new Float32Array(n * n);
  for (let s = 0; s < samples; s++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) c[i * n + j] += (x[s * n + i] * x[s * n + j]) / samples;
  const js = time(() => symmetricEigenvalues(c, n));
  const native = lapack ? time(() => lapack(c, n)) : NaN;
  let diff = NaN;
  if (lapack) {
    const a = symmetricEigenvalues(c, n);
    const b = lapack(c, n);
    diff = Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
  }
  rows.push(`| ${n} | ${js.toFixed(2)} | ${lapack ? native.toFixed(2) : 'no LAPACK'} | ${diff.toExponential(1)} |`);
}
const dsterf = blas instanceof Error ? null : lapackTridiagonalEigenvalues(blas);
const triRows: string[] = [];
for (const n of [64, 256, 512]) {
  const d = Float64Array.from({ length: n }, () => rng.normal());
  const e = Float64Array.from({ length: n - 1 }, () => rng.normal());
  const js = time(() => tridiagonalEigenvalues(d, e));
  const native = dsterf ? time(() => dsterf(d, e)) : NaN;
  triRows.push(`| ${n} | ${js.toFixed(2)} | ${dsterf ? native.toFixed(2) : 'no LAPACK'} |`);
}
process.stdout.write(
  [
    `machine: ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.availableParallelism()}, node ${process.version}; ${blas instanceof Error ? blas.message : blas.library}; median of ${reps}`,
    '| width | JS ms | LAPACK ms | max abs difference |',
    '|---|---|---|---|',
    ...rows,
    '',
    '| tridiagonal width | JS QL ms | LAPACK dsterf ms |',
    '|---|---|---|',
    ...triRows,
  ].join('\n') + '\n',
);
