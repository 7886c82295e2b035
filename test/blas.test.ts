import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { PRESETS, type RunConfig } from '../core/schema/run-config.js';
import { selectBackend } from '../core/train/backend.js';
import { loadBlas, openblasCoreFor } from '../core/train/host/blas.js';
import { lapackEigenvalues, lapackTridiagonalEigenvalues } from '../core/train/host/lapack.js';
import { symmetricEigenvalues, tridiagonalEigenvalues } from '../core/spectra/eigen.js';
import { Rng } from '../core/rng.js';
import { trainingLosses } from './helpers/train.js';

/**
 * wasm+openblas must compute what plain wasm computes (same mathematics; only the summation order
 * of matrix products differs): the same training loss to 1e-5 over 50 steps. The golden values
 * are checked on this backend too (test/golden.test.ts). Where OpenBLAS is absent, `auto` must fall
 * back to plain wasm and say why.
 */
const blas = loadBlas();


describe("OpenBLAS's kernel family from the CPU's flags", () => {
  it('picks AVX-512 kernels only with every AVX-512 feature they use, AVX2 with FMA, else none', () => {
    const avx512 = ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512dq', 'avx512cd'];
    expect(openblasCoreFor(new Set(avx512))).toBe('SKYLAKEX');
    expect(openblasCoreFor(new Set(avx512.filter((f) => f !== 'avx512vl')))).toBe('HASWELL');
    expect(openblasCoreFor(new Set(['avx2']))).toBeNull();
    expect(openblasCoreFor(new Set(['sse2', 'sse3']))).toBeNull();
  });

  it('names the kernels in use where OpenBLAS loads', () => {
    const blas = loadBlas();
    if (blas instanceof Error) expect(blas.message).toMatch(/OpenBLAS not found|koffi/);
    else expect(blas.core).toMatch(/ kernels/);
  });
});

describe('wasm with OpenBLAS matrix products', () => {
  if (blas instanceof Error) {
    it('is unavailable here, and auto falls back to plain wasm saying why', async () => {
      const info = await selectBackend('auto');
      expect(info.name).toBe('wasm');
      expect(info.note).toMatch(/wasm\+openblas unavailable \((koffi|OpenBLAS)/);
    });
    return;
  }

  it('trains like plain wasm: same loss to 1e-5 over 50 steps, both models', async () => {
    const small: RunConfig = { ...PRESETS.fast, p: 23, dModel: 32, dMlp: 64, seed: 5 };
    const plain: Record<string, number[]> = {};
    await selectBackend('wasm');
    for (const arch of ['transformer', 'mlp'] as const) plain[arch] = await trainingLosses({ ...small, arch }, 50);
    const info = await selectBackend('wasm+openblas');
    expect(info.name).toBe('wasm+openblas');
    expect(tf.getBackend()).toBe('wasm');
    for (const arch of ['transformer', 'mlp'] as const) {
      const fast = await trainingLosses({ ...small, arch }, 50);
      expect(fast).toHaveLength(51);
      for (let i = 0; i < fast.length; i++) expect(Math.abs(fast[i] - plain[arch][i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(plain[arch][i])));
      // …and it trains: the loss falls.
      expect(fast[50]).toBeLessThan(fast[0]);
    }
  });

  it('multiplies with every transpose combination and with batch broadcasting', async () => {
    await selectBackend('wasm+openblas');
    const a = tf.tensor3d(Array.from({ length: 2 * 3 * 4 }, (_, i) => Math.sin(i)), [2, 3, 4]);
    const b = tf.tensor2d(Array.from({ length: 4 * 5 }, (_, i) => Math.cos(i)), [4, 5]);
    const a2 = tf.tensor2d(Array.from({ length: 12 }, (_, i) => i / 7), [3, 4]);
    // Reference products on plain JS arrays.
    const mm = (x: number[][], y: number[][]): number[][] => x.map((r) => y[0].map((_, j) => r.reduce((s, v, k) => s + v * y[k][j], 0)));
    const T = (x: number[][]): number[][] => x[0].map((_, j) => x.map((r) => r[j]));
    const A2 = a2.arraySync() as number[][];
    const B = b.arraySync() as number[][];
    const close = (t: tf.Tensor, want: number[][]): void => {
      const got = t.arraySync() as number[][];
      want.forEach((r, i) => r.forEach((v, j) => expect(got[i][j]).toBeCloseTo(v, 5)));
    };
    close(tf.matMul(a2, b), mm(A2, B));
    close(tf.matMul(tf.transpose(a2), b, true, false), mm(A2, B));
    close(tf.matMul(a2, a2, false, true), mm(A2, T(A2)));
    close(tf.matMul(a2, tf.transpose(b), false, true), mm(A2, B));
    close(tf.matMul(tf.transpose(a2), tf.transpose(b), true, true), mm(A2, B));
    const batched = tf.matMul(a, b).arraySync() as number[][][];
    const A = a.arraySync() as number[][][];
    A.forEach((slice, i) => mm(slice, B).forEach((r, j) => r.forEach((v, k) => expect(batched[i][j][k]).toBeCloseTo(v, 5))));
  });

  it("finds the eigenvalues spectra/eigen.ts finds, with LAPACK (covariances, rank-deficient, repeated)", () => {
    const eig = lapackEigenvalues(blas)!;
    expect(eig).not.toBeNull();
    const rng = new Rng(9);
    const cases: [Float32Array, number][] = [];
    for (const n of [1, 2, 3, 17, 64, 256]) {
      // A covariance of fewer samples than dimensions (rank-deficient) and a full one.
      for (const samples of [Math.max(1, n >> 2), 2 * n]) {
        const x = Array.from({ length: samples * n }, () => rng.normal());
        const c = new Float32Array(n * n);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let s = 0; s < samples; s++) c[i * n + j] += (x[s * n + i] * x[s * n + j]) / samples;
        cases.push([c, n]);
      }
    }
    const identity = new Float32Array(16 * 16);
    for (let i = 0; i < 16; i++) identity[i * 17] = 2;
    cases.push([identity, 16], [new Float32Array(0), 0]);
    for (const [m, n] of cases) {
      const got = eig(m, n);
      const want = symmetricEigenvalues(m, n);
      expect(got).toHaveLength(n);
      const scale = Math.max(1, ...Array.from(want, Math.abs));
      for (let i = 0; i < n; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-10 * scale);
    }
    expect(() => eig(new Float32Array(5), 2)).toThrow(/2×2/);
  });

  it('finds the eigenvalues of a tridiagonal as spectra/eigen.ts does, with LAPACK dsterf (the WGSL evaluator\'s host half)', () => {
    const solve = lapackTridiagonalEigenvalues(blas)!;
    expect(solve).not.toBeNull();
    const rng = new Rng(4);
    for (const n of [1, 2, 5, 128, 512]) {
      // Entries over six orders of magnitude, and a split (a zero off-diagonal) in the middle.
      const diag = Array.from({ length: n }, () => rng.normal() * 10 ** (-6 * rng.uniform()));
      const off = Array.from({ length: Math.max(0, n - 1) }, (_, i) => (i === n >> 1 ? 0 : rng.normal() * 10 ** (-6 * rng.uniform())));
      const got = solve(diag, off);
      const want = tridiagonalEigenvalues(diag, off);
      expect(got).toHaveLength(n);
      const scale = Math.max(...Array.from(want, Math.abs));
      for (let i = 0; i < n; i++) expect(Math.abs(got[i] - want[i]), `n ${n}, eigenvalue ${i}`).toBeLessThanOrEqual(1e-12 * scale);
    }
  });

  it("gives a diverged run's NaN or ∞ a NaN spectrum, in JS too, without calling LAPACK (its DLASCL rejects them and the heap was corrupted)", () => {
    const tri = lapackTridiagonalEigenvalues(blas)!;
    const full = lapackEigenvalues(blas)!;
    for (const bad of [NaN, Infinity, -Infinity]) {
      expect(Array.from(tri([1, bad, 3], [0.5, 0.5]))).toEqual([NaN, NaN, NaN]);
      expect(Array.from(tri([1, 2, 3], [bad, 0.5]))).toEqual([NaN, NaN, NaN]);
      expect(Array.from(tridiagonalEigenvalues([1, 2, 3], [0.5, bad]))).toEqual([NaN, NaN, NaN]);
      expect(Array.from(full(Float32Array.from([1, bad, bad, 2]), 2))).toEqual([NaN, NaN]);
      expect(Array.from(symmetricEigenvalues(Float32Array.from([1, bad, bad, 2]), 2))).toEqual([NaN, NaN]);
    }
    // And a finite one afterwards is still right (nothing left behind).
    const after = tri([2, 2], [1]);
    expect(after[0]).toBeCloseTo(1, 12);
    expect(after[1]).toBeCloseTo(3, 12);
  });
});
